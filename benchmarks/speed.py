"""Speed, in one run: training against torchdiffeq, `discover demo` stage by stage, the no-prior
2-state case against PySINDy, the spiral neural-ODE problem against torchdiffeq, Hodgkin–Huxley.

    python benchmarks/speed.py                        # prints the tables (about 12 minutes on 2 cores)
    python benchmarks/speed.py --write benchmarks/RESULTS_speed.md

The problem is the demo's: FitzHugh–Nagumo with the cubic term left to an MLP of (v, w), five
trajectories of 1001 samples, 1 % noise, windows of 20 steps, batches of 256, one torch thread.
For each solver (our RK4 as training runs it, with the stride chosen from the data's noise; our
RK4 at one step per sample; torchdiffeq's rk4, dopri5 at tight tolerances and at tolerances near our
stride's error budget, and dopri5 with the adjoint) the same UDE, its right-hand side built the same
way for every solver, is trained from the same start with the same seed:

- per gradient: median wall time of one Adam step (loss, backward, step), over `--repeats` steps;
- time to target: from the untrained network (no pre-fit), wall time of Adam steps until the
  training loss (mean of the last 10 batches) first falls to `--target`
  times the loss our RK4 reaches after the demo's 600 steps (pre-fit excluded, the same for all);
  a solver that does not get there within `--budget` seconds says so;
- the demo: `discover demo` in a subprocess, end to end (data, training, distillation,
  validation, reports), each stage's seconds (from its progress lines), its peak resident
  memory, and whether it recovered dv/dt = v - v**3/3 (`speed_runs.demo_stages`);
- no prior model: Lotka–Volterra from one noisy trajectory, `discover` (direct route, sparse) and
  PySINDy alone on the same data, in a subprocess (`speed_runs.no_prior_case`);
- the spiral neural-ODE problem of the DiffEqFlux / torchdiffeq comparison: our RK4 trainer and
  torchdiffeq (the peers' `shared/peers/spiral_anchor.py`) in this run, beside the published
  figures (`speed_runs.spiral`);
- Hodgkin–Huxley: `examples/hodgkin_huxley.py` (full mode) in a subprocess, end to end, and
  whether it recovered the removed potassium current (both terms, coefficients within 5 %);
- a real step-protocol cell: `discover run examples/fsi_cell.toml` in a subprocess, end to end, with
  its held-out spike scores (`speed_runs.step_cell`).

Ratios are against our RK4 (larger = slower than ours). The run is kept near 12 minutes by design:
time to target stops at `--budget` (60 s; the adjoint, ~2 minutes to target, is reported as not
reached) and the spiral's torchdiffeq runs at `--peer-seconds`, extrapolated to 500 steps.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

sys.path.insert(0, str(Path(__file__).resolve().parent))

from missing_terms import machine  # noqa: E402
from speed_runs import demo_stages, no_prior_case, spiral, step_cell  # noqa: E402

from discover import UDE, example_data  # noqa: E402
from discover._config import DEMO_CONFIG  # noqa: E402
from discover.equations import EquationSystem  # noqa: E402
from discover.integrate import _solvers  # noqa: E402
from discover.integrate._windows import Windows, noise_level  # noqa: E402

SOLVERS = ("rk4", "rk4-stride1", "torchdiffeq-rk4", "dopri5", "dopri5-loose", "adjoint-dopri5")
NAMES = {"rk4": "ours (RK4, auto stride)", "rk4-stride1": "ours (RK4, one step per sample)",
         "torchdiffeq-rk4": "torchdiffeq rk4", "dopri5": "torchdiffeq dopri5 (rtol 1e-6, atol 1e-8)",
         "dopri5-loose": "torchdiffeq dopri5 (rtol 1e-3, atol 1e-5)",
         "adjoint-dopri5": "torchdiffeq dopri5 adjoint (rtol 1e-6, atol 1e-8)"}
# dopri5 with tolerances near our stride's error budget (1e-3 of the states' size), not only tight ones:
# matching accuracy is the fair race against a solver that steps over samples
LOOSE = {"rtol": 1e-3, "atol": 1e-5}


@contextlib.contextmanager
def tolerances(solver: str):
    """dopri5's tolerances for `solver` while it runs."""
    saved = dict(_solvers.DOPRI5_TOLERANCES)
    if solver == "dopri5-loose":
        _solvers.DOPRI5_TOLERANCES.update(LOOSE)
    try:
        yield
    finally:
        _solvers.DOPRI5_TOLERANCES.update(saved)


def demo_problem():
    m = DEMO_CONFIG["model"]
    system = EquationSystem.from_text(m["equations"], inputs=m["inputs"], parameters=m["parameters"])
    data = example_data(**{k: v for k, v in DEMO_CONFIG["data"].items() if k != "example"})[0]
    return system.with_residual("v", ["v", "w"]), data


def trainer(system, data, solver: str, prefit: bool = True):
    """A UDE (pre-fitted or not), its windows, optimiser and sampler: where Adam training starts
    (with the stride training would choose on that model)."""
    stride = 1 if solver == "rk4-stride1" else "auto"
    ude = UDE(system, solver=solver.removesuffix("-stride1").removesuffix("-loose"), stride=stride, iterations=600,
              lbfgs_iterations=0, progress=False, threads=1)
    torch.manual_seed(0)
    targets = ude._residual_targets(data)
    ude.model_ = ude._build(data, targets)
    if prefit:
        ude._prefit(data, targets)
    windows = Windows(data, ude.window, torch.float32)
    # the stride training would use: chosen on the pre-fitted model, even when racing from the untrained one
    chooser = copy.deepcopy(ude)
    if not prefit:
        chooser._prefit(data, targets)
    ude.stride_, ude.stride_error_ = chooser._pick_stride(windows, noise_level(data), ude.seed)
    opt = torch.optim.Adam(ude.model_.parameters(), lr=ude.learning_rate)
    return ude, windows, opt, np.random.default_rng(0)


def step(ude, windows, opt, rng) -> float:
    opt.zero_grad()
    loss = windows.loss(ude.model_, windows.sample(rng, ude.batch_size), ude.solver, ude.substeps, ude.stride_)
    loss.backward()
    opt.step()
    return loss.item()


def per_gradient(system, data, solver: str, repeats: int) -> float:
    ude, windows, opt, rng = trainer(system, data, solver)
    step(ude, windows, opt, rng)  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step(ude, windows, opt, rng)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def time_to(system, data, solver: str, target: float | None, iterations: int, budget: float):
    """(seconds to reach `target`, or None; the loss after `iterations` or at the budget)."""
    # no pre-fit: on this problem it already lands within 10 % of the final loss, which would
    # leave nothing for the solvers to race over
    ude, windows, opt, rng = trainer(system, data, solver, prefit=False)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, iterations, eta_min=ude.learning_rate / 20)
    time_to.strides[solver] = (ude.stride_, ude.stride_error_)
    noise, start, recent = noise_level(data), time.perf_counter(), []
    if target is None:  # the reference run: also record where every solver starts from
        with torch.no_grad():
            time_to.start_loss = windows.loss(ude.model_, windows.sample(np.random.default_rng(1), 1024)).item()
    for it in range(iterations):
        recent = [*recent[-9:], step(ude, windows, opt, rng)]
        ude._recheck_stride(it, windows, noise)  # as training does (timed with it)
        loss = float(np.mean(recent))  # over 10 batches: one lucky batch is not convergence
        sched.step()
        elapsed = time.perf_counter() - start
        if target is not None and loss <= target:
            return elapsed, loss
        if elapsed > budget:
            break
    return None, loss


time_to.strides = {}


HH_CHECK = """
import json, runpy, sys
sys.argv = ["hodgkin_huxley.py", "--out", sys.argv[1]]
found = runpy.run_path("examples/hodgkin_huxley.py", run_name="__main__")["result"].discovered.discovered["V"]
print("TERMS", json.dumps({str(k): float(v) for k, v in found.as_coefficients_dict().items()}))
"""


def hodgkin_huxley_run() -> tuple[float, bool, dict]:
    """Wall seconds of examples/hodgkin_huxley.py (full mode) in a fresh process, whether it got
    back exactly the two removed terms within 5 %, and the terms it found."""
    out = Path(tempfile.mkdtemp()) / "hh"
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", HH_CHECK, str(out)], check=True, capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[1])
    seconds = time.perf_counter() - start
    terms = json.loads(done.stdout.split("TERMS", 1)[1])
    truth = {"V*n**4": -36.0, "n**4": -36.0 * 77.0}  # -g_K n^4 (V - E_K) / C with g_K = 36, E_K = -77, C = 1
    ok = set(terms) == set(truth) and all(abs(terms[k] / truth[k] - 1) < 0.05 for k in truth)
    return seconds, ok, terms


def uncommitted() -> str:
    """" plus uncommitted changes" when the work tree differs from the commit `machine()` names."""
    try:
        changed = subprocess.run(["git", "--no-optional-locks", "status", "--porcelain", "--untracked-files=no"],
                                 capture_output=True, text=True, cwd=Path(__file__).parent, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return ""
    return " plus uncommitted changes" if changed.strip() else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20, help="Adam steps timed per solver")
    parser.add_argument("--target", type=float, default=1.5, help="x the loss our RK4 reaches in 600 steps")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per solver for time to target")
    parser.add_argument("--peer-seconds", type=float, default=30.0,
                        help="seconds each torchdiffeq spiral run is timed before extrapolating to 500 steps")
    parser.add_argument("--no-runs", action="store_true", help="skip the no-prior and spiral runs")
    parser.add_argument("--solvers", nargs="+", default=list(SOLVERS), choices=SOLVERS)
    parser.add_argument("--no-demo", action="store_true")
    parser.add_argument("--no-hh", action="store_true", help="skip the Hodgkin–Huxley run (about 5 minutes)")
    parser.add_argument("--no-cell", action="store_true", help="skip the real step-protocol cell (about 4 minutes)")
    parser.add_argument("--write", help="also write the table (Markdown) to this file")
    args = parser.parse_args()
    torch.set_num_threads(1)
    system, data = demo_problem()

    reference = time_to(system, data, "rk4", None, 600, float("inf"))[1]
    target = args.target * reference
    rows = []
    for solver in args.solvers:
        with tolerances(solver):
            grad = per_gradient(system, data, solver, args.repeats)
            reached, loss = time_to(system, data, solver, target, 600, args.budget)
        rows.append((solver, grad, reached, loss))
        print(f"{NAMES[solver]}: {grad * 1e3:.1f} ms per gradient, target "
              + (f"reached in {reached:.1f} s" if reached is not None else f"not reached (loss {loss:.3g})"),
              flush=True)
    ours = {"grad": rows[0][1], "reach": rows[0][2]} if rows[0][0] == "rk4" else None
    lines = [
        f"Machine and code: {machine()}{uncommitted()}. Command: `python benchmarks/speed.py"
        + (f" --write {args.write}`." if args.write else "`."),
        "",
        "## Training",
        "",
        "Training speed on the demo problem (FitzHugh–Nagumo, 5 x 1001 samples, windows of 20, batch 256, "
        f"1 torch thread). Target loss: {args.target} x {reference:.3g} (our RK4 after 600 Adam steps "
        f"from the untrained network) = {target:.3g}, from {time_to.start_loss:.3g}; per-gradient times start "
        f"after the pre-fit (which alone lands within 10 % of the trained loss here); budget {args.budget:.0f} s "
        "per solver."
        + (" Our RK4 with auto stride stepped over {} samples (error {:.2g} noise s.d. on the start model, "
           "checked as training does; the L-BFGS polish, not timed here, steps once per sample).".format(
               *time_to.strides["rk4"]) if "rk4" in time_to.strides else ""),
        "",
        "| solver | ms per gradient | x ours | time to target (s) | x ours |",
        "|---|---:|---:|---:|---:|",
    ]
    for solver, grad, reached, loss in rows:
        ratio = f"{grad / ours['grad']:.1f}" if ours else "-"
        reach = f"{reached:.1f}" if reached is not None else f"not in {args.budget:.0f} (loss {loss:.3g})"
        reach_ratio = (f"{reached / ours['reach']:.1f}" if ours and ours["reach"] and reached is not None
                       else (f"> {args.budget / ours['reach']:.1f}" if ours and ours["reach"] else "-"))
        lines.append(f"| {NAMES[solver]} | {grad * 1e3:.1f} | {ratio} | {reach} | {reach_ratio} |")
    if not args.no_demo:  # first of the subprocesses: its peak memory is the children's maximum so far
        lines += ["", *demo_stages()]
    if not args.no_runs:
        lines += ["", *no_prior_case(), "", *spiral(args.peer_seconds)]
    if not args.no_hh:
        seconds, ok, terms = hodgkin_huxley_run()
        found = " + ".join(f"{v:.4g}*{k}" for k, v in terms.items())
        lines += ["", "## Hodgkin–Huxley", "", "Hodgkin–Huxley's potassium current (`examples/hodgkin_huxley.py`, "
                  f"direct route, 5 trajectories of 50 ms, 1 % noise) end to end: {seconds:.0f} s; found dV/dt "
                  f"residual {found} (truth -36*V*n**4 - 2772*n**4): {'recovered' if ok else 'NOT recovered'}."]
    if not args.no_cell:
        lines += ["", *step_cell()]
    table = "\n".join(lines)
    print("\n" + table)
    if args.write:
        Path(args.write).write_text("# Speed benchmark (`python benchmarks/speed.py`)\n\n" + table + "\n")


if __name__ == "__main__":
    main()
