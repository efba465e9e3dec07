"""Whole runs for `benchmarks/speed.py`: `discover demo` stage by stage, the no-prior 2-state case
against PySINDy alone, and the spiral neural-ODE problem against torchdiffeq (and the published
DiffEqFlux figures). Each returns Markdown lines; see speed.py's docstring for what is timed."""

from __future__ import annotations

import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
PEER = ROOT.parent / "shared" / "peers" / "spiral_anchor.py"  # the peers' spiral script (not part of discover)
STAGE = re.compile(r"^\[\s*[\d.]+ s\] (.+): done in ([\d.]+) s$")
# the demo's stages, in order, as its progress lines name them (regular expressions), and their targets
DEMO_STAGES = [("training the UDE", r"training the UDE$"), ("sparse regression", r"sparse regression"),
               ("symbolic regression", r"symbolic regression"), ("scoring candidates by window re-simulation",
                                                                 r"scoring \d+ candidates"),
               ("joint choice", r"joint choice"), ("refit through the solver", r"refitting the discovered"),
               ("pruning", r"pruning terms"), ("rounding", r"rounding the coefficients")]


def demo_stages() -> list[str]:
    """`discover demo` in a fresh process: each stage's seconds from its progress lines, the totals it
    prints, end-to-end wall time and peak memory, and whether dv/dt = v - v**3/3 came back (3 %)."""
    out = Path(tempfile.mkdtemp()) / "demo"
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "discover.cli", "demo", "--out", str(out)], check=True,
                          capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    stages = [m.groups() for m in map(STAGE.match, done.stderr.splitlines()) if m]
    totals = dict(re.findall(r"(\w+) ([\d.]+) s", done.stdout.split("Wall time:", 1)[1].splitlines()[0]))
    found = re.search(r"dv/dt = I - w \+ \[(.*)\]", done.stdout).group(1)
    coefs = dict((k, float(c)) for c, k in re.findall(r"([-\d.]+)\*(v\*\*3|v)\b", found))
    ok = set(coefs) == {"v", "v**3"} and abs(coefs["v"] - 1) < 0.03 and abs(-coefs["v**3"] * 3 - 1) < 0.03
    lines = ["## `discover demo`, stage by stage", "",
             "One `discover demo` in a fresh process (its progress lines give each stage's seconds; 1 torch thread "
             "and 2 symbolic-search threads, per the demo's settings). Targets (issue 31): distillation <= 8 s, "
             "end to end <= 20 s.", "",
             "| stage | seconds |", "|---|---:|"]
    for name, pattern in DEMO_STAGES:
        seconds = sum(float(s) for label, s in stages if re.search(pattern, label))
        lines.append(f"| {name} | {seconds:.1f} |")
    lines += [f"| **distillation** (every stage after training) | **{float(totals['distillation']):.1f}** |",
              f"| validation | {float(totals['validation']):.1f} |",
              f"| **end to end** (wall, process start to results written) | **{wall:.1f}** |", "",
              f"Peak memory {peak:.0f} MiB. Discovered dv/dt residual: {found} "
              f"({'recovered' if ok else 'NOT recovered'}: v - v**3/3 within 3 %)."]
    return lines


def step_cell() -> list[str]:
    """`discover run examples/fsi_cell.toml` (a real fast-spiking interneuron, ABF, 5 training and 3
    held-out step sweeps at 10 kHz, the UDE route) in a fresh process: its stage totals, wall time,
    and the held-out spike scores it wrote."""
    out = Path(tempfile.mkdtemp()) / "fsi"
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "discover.cli", "run", "examples/fsi_cell.toml", "--out", str(out),
                           "--quiet"], check=True, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - start
    totals = dict(re.findall(r"(\w+) ([\d.]+) s", done.stdout.split("Wall time:", 1)[1].splitlines()[0]))
    heldout = json.loads((out / "metrics.json").read_text())["heldout"]
    scores = "; ".join(f"{name} Γ {m['V']['gamma']:.3f}, count error {m['V']['spike_count_error']:+.0%}"
                       for name, m in heldout.items())
    return ["## A real step-protocol cell, end to end", "",
            "`discover run examples/fsi_cell.toml` in a fresh process: a fast-spiking interneuron (ABF), 5 training "
            "and 3 held-out step sweeps at 10 kHz, passive membrane + a network of V (600 iterations), sparse "
            "distillation, spiking re-simulation of the held-out sweeps. Target (issue 31): <= 3 min end to end "
            "(it took 12 min when the issue was filed).", "",
            "| stage | seconds |", "|---|---:|",
            *(f"| {name} | {float(totals[name]):.1f} |" for name in ("training", "distillation", "validation")),
            f"| **end to end** (wall, process start to results written) | **{wall:.1f}** |", "",
            f"Held-out sweeps: {scores}. The cell workflow's default (`model = \"gif\"`, regression) fits and "
            "scores this cell in about 10 s (benchmarks/RESULTS_cells.md, FSI)."]


LV_RUN = """
import json, time, warnings
import numpy as np
from discover import EquationSystem, discover, simulate
from discover.validate import trajectory_metrics
LV = ("dx/dt = 1.3*x - 0.9*x*y", "dy/dt = 0.8*x*y - 1.8*y")
truth = EquationSystem.from_text(LV)
t = np.linspace(0, 10, 150)
train = simulate(truth, [[0.44, 4.6]], t, noise=0.05, noise_model="multiplicative", seed=0)
unseen = simulate(truth, [[2.0, 1.0]], t)
blank = EquationSystem.from_text(["dx/dt = 0", "dy/dt = 0"])
for s in ("x", "y"):
    blank = blank.with_residual(s, ["x", "y"])
start = time.perf_counter()
found = discover(train, blank, unseen, distill={"route": "direct", "backends": ["sparse"]}, progress=False)
ours = time.perf_counter() - start
terms = {s: str(e) for s, e in found.discovered.discovered.items()}
import sympy as sp
shapes = {s: sorted(str(t.as_coeff_Mul()[1]) for t in sp.Add.make_args(sp.expand(e)))
          for s, e in found.discovered.discovered.items()}
r2 = min(m["r2"] for m in found.metrics["discovered"].values())
import pysindy as ps
start = time.perf_counter()
model = ps.SINDy(optimizer=ps.STLSQ(), feature_library=ps.PolynomialLibrary(degree=3),
                 differentiation_method=ps.SmoothedFiniteDifference())
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    model.fit(train.y[0], t=train.t, feature_names=["x", "y"])
    sindy = time.perf_counter() - start
    try:
        pred = model.simulate(unseen.y[0, 0], unseen.t)
        sindy_r2 = min(m["r2"] for m in trajectory_metrics(pred[None], unseen).values())
    except Exception:
        sindy_r2 = float("-inf")
print("RESULT", json.dumps({"ours": ours, "terms": terms, "shapes": shapes, "r2": r2, "sindy": sindy,
                            "sindy_r2": sindy_r2, "sindy_terms": model.equations(precision=3)}))
"""


def no_prior_case() -> list[str]:
    """The no-prior Lotka-Volterra case (2 states, 150 samples, 5 % multiplicative noise, direct
    route, sparse backend) and PySINDy alone on the same data, in a fresh process."""
    done = subprocess.run([sys.executable, "-c", LV_RUN], check=True, capture_output=True, text=True, cwd=ROOT)
    r = json.loads(done.stdout.split("RESULT", 1)[1])
    ok = r["shapes"] == {"x": ["x", "x*y"], "y": ["x*y", "y"]}  # the true terms, no others
    return ["## No prior model: Lotka-Volterra, 2 states", "",
            "Nothing known (dx/dt = 0 plus a residual on each state), one trajectory of 150 samples at 5 % "
            "multiplicative noise, route direct, sparse backend; R^2 re-simulating an unseen start. Target "
            "(issue 31): <= 30 s. PySINDy alone: SmoothedFiniteDifference, PolynomialLibrary(3), STLSQ defaults.", "",
            "| tool | seconds | worst R^2 (unseen start) | found |", "|---|---:|---:|---|",
            f"| ours (`discover`) | {r['ours']:.1f} | {r['r2']:.3f} | "
            f"{'; '.join(f'd{s}/dt = {t}' for s, t in r['terms'].items())} "
            f"({'true structure' if ok else 'NOT the true structure'}) |",
            f"| PySINDy alone | {r['sindy']:.2f} | {r['sindy_r2']:.3f} | {'; '.join(r['sindy_terms'])} |"]


def spiral_ours(substeps: int, steps: int = 500) -> dict:
    """The spiral problem with our RK4 (`integrate_windows`, `substeps` per sample interval): the
    peers' exact setup (float32, 2->50->2 tanh MLP on u**3, 30 samples on [0, 1.5], Adam 0.05,
    sum of squared errors, the same seed and so the same initial weights)."""
    from discover.integrate import integrate_windows

    a = torch.tensor([[-0.1, 2.0], [-2.0, -0.1]], dtype=torch.float64)
    y0, dt = torch.tensor([[2.0, 0.0]]), 1.5 / 29
    none = torch.zeros(1, 30, 0)
    with torch.no_grad():  # the truth, to ~1e-6 of torchdiffeq's at rtol 1e-7 (the peers' reference)
        data = integrate_windows(lambda y, _: (y**3) @ a, y0.double(), none.double(), dt, "rk4", 64).float()
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 50), nn.Tanh(), nn.Linear(50, 2))
    opt = torch.optim.Adam(net.parameters(), lr=0.05)
    start, first = time.perf_counter(), None
    for _ in range(steps):
        opt.zero_grad()
        loss = ((integrate_windows(lambda y, _: net(y**3), y0, none, dt, "rk4", substeps) - data) ** 2).sum()
        loss.backward()
        opt.step()
        first = first or time.perf_counter() - start
    total = time.perf_counter() - start
    return {"steps_total_s": total, "per_step_ms": 1e3 * (total - first) / (steps - 1), "loss_final": loss.item(),
            "extrapolated": False}


def spiral_peer(method: str, max_seconds: float) -> dict | None:
    """torchdiffeq on the spiral problem, by the peers' own script (one torch thread), or None without it."""
    if not PEER.exists():
        return None
    done = subprocess.run([sys.executable, str(PEER), "--stack", "torchdiffeq", "--method", method, "--threads", "1",
                           "--max-seconds", str(max_seconds)], check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def spiral(max_seconds: float) -> list[str]:
    """Ours and torchdiffeq on the spiral neural-ODE problem in this run, beside the published figures."""
    rows = [("ours (RK4, 4 steps per sample interval)", spiral_ours(4)),
            ("ours (RK4, 1 step per sample interval)", spiral_ours(1)),
            ("torchdiffeq rk4 (4 steps per sample interval)", spiral_peer("rk4", max_seconds)),
            ("torchdiffeq dopri5 (rtol 1e-3, atol 1e-6: the published setting)", spiral_peer("dopri5", max_seconds))]
    lines = ["## Spiral neural ODE (the DiffEqFlux / torchdiffeq comparison)", "",
             "du/dt = (u**3) A learned by a 2->50->2 tanh MLP of u**3, 30 samples on t in [0, 1.5], 500 Adam steps "
             "(lr 0.05), sum of squared errors, float32, one torch thread; torchdiffeq by the peers' script "
             f"(`shared/peers/spiral_anchor.py`), cut at {max_seconds:.0f} s and extrapolated where marked. "
             "Published (DiffEqFlux README, other hardware): optimised Julia 2.7 s, torchdiffeq 289 s."
             + ("" if torch.cuda.is_available() else " No GPU in this run, so no GPU rows."), "",
             "| solver | s for 500 steps | ms per step | final loss |", "|---|---:|---:|---:|"]
    for name, r in rows:
        if r is None:
            lines.append(f"| {name} | not run (no `{PEER.relative_to(ROOT.parent)}`) | - | - |")
            continue
        mark = " (extrapolated)" if r.get("extrapolated") else ""
        lines.append(f"| {name} | {r['steps_total_s']:.1f}{mark} | {r['per_step_ms']:.1f} | {r['loss_final']:.4g} |")
    lines += ["| published: DiffEqFlux, optimised Julia | 2.7 | - | - |", "| published: torchdiffeq | 289 | - | - |"]
    return lines
