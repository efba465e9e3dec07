"""No-prior benchmark: discover whole equations from one noisy trajectory, judged from an unseen start.

    python benchmarks/no_prior.py                          # every system at 1 % and 5 % noise
    python benchmarks/no_prior.py --systems lotka_volterra --noise 0.05
    python benchmarks/no_prior.py --write benchmarks/RESULTS.md   # replaces this benchmark's section

Each system is fit with nothing known ("dx/dt = 0" plus a residual on every state, every state
a feature) from ONE trajectory of 150 samples with multiplicative noise (each sample times
1 + level x N(0, 1)). Success: the discovered model, re-simulated from a second initial
condition it never saw, matches the clean true trajectory with R^2 > 0.9 in every state. The
question is the one that matters to a user: does the model predict, not only fit.

Ours runs `discover` with `route = "auto"` (both routes; the winner picked by re-simulating
the held-out last 20 % and the whole of the training trajectory, never the test start).
PySINDy-alone is pysindy as its documentation runs it:
SmoothedFiniteDifference derivatives, PolynomialLibrary(degree=3), STLSQ defaults, then
`model.simulate` from the same unseen start. Runs use one torch thread each, `--jobs` in parallel.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from missing_terms import machine, write_section  # noqa: E402

from discover import EquationSystem, Trajectories, discover, simulate  # noqa: E402
from discover.validate import trajectory_metrics  # noqa: E402

SAMPLES = 150


@dataclass(frozen=True)
class System:
    name: str
    equations: tuple  # "dx/dt = ..." with parameters written as numbers
    train_ic: tuple
    test_ic: tuple
    duration: float  # 150 samples on [0, duration]
    training: dict = field(default_factory=dict)


SYSTEMS = [
    # one state
    System("logistic", ("dx/dt = 0.8*x*(1 - x/2)",), (0.1,), (3.0,), 10.0),
    System("bistable", ("dx/dt = x - x**3",), (0.2,), (-1.6,), 8.0),
    System("allee", ("dx/dt = x*(x - 0.2)*(1 - x)",), (0.35,), (1.4,), 40.0),
    # two states
    System("damped_oscillator", ("dx/dt = y", "dy/dt = -x - 0.2*y"), (2.0, 0.0), (-1.0, 1.5), 15.0),
    System("van_der_pol", ("dx/dt = y", "dy/dt = (1 - x**2)*y - x"), (2.0, 0.0), (0.5, -1.0), 15.0),
    System("duffing", ("dx/dt = y", "dy/dt = -0.2*y + x - x**3"), (0.1, 1.2), (-1.5, 0.3), 20.0),
    System("lotka_volterra", ("dx/dt = 1.3*x - 0.9*x*y", "dy/dt = 0.8*x*y - 1.8*y"), (0.44, 4.6), (2.0, 1.0),
           10.0),
    System("fitzhugh_nagumo", ("dv/dt = v - v**3/3 - w + 0.5", "dw/dt = 0.08*(v + 0.7 - 0.8*w)"), (-1.0, 1.0),
           (1.5, -0.5), 60.0),
    System("brusselator", ("dx/dt = 1 - 4*x + x**2*y", "dy/dt = 3*x - x**2*y"), (1.0, 1.0), (2.0, 4.0), 15.0),
    # three states
    System("lorenz", ("dx/dt = 10*(y - x)", "dy/dt = x*(28 - z) - y", "dz/dt = x*y - 8*z/3"), (-8.0, 7.0, 27.0),
           (5.0, 5.0, 20.0), 1.5),
    System("rossler", ("dx/dt = -y - z", "dy/dt = x + 0.2*y", "dz/dt = 0.2 + z*(x - 5.7)"), (1.0, 1.0, 0.0),
           (-2.0, 2.0, 0.5), 15.0),
    System("sir", ("dS/dt = -0.5*S*I", "dI/dt = 0.5*S*I - 0.1*I", "dR/dt = 0.1*I"), (0.99, 0.01, 0.0),
           (0.8, 0.2, 0.0), 40.0),
]


def make_data(system: System, noise: float, seed: int):
    """One noisy training trajectory and the clean trajectory from the unseen start."""
    truth = EquationSystem.from_text(system.equations)
    t = np.linspace(0.0, system.duration, SAMPLES)
    train = simulate(truth, [system.train_ic], t, noise=noise, noise_model="multiplicative", seed=seed)
    test = simulate(truth, [system.test_ic], t)
    return truth, train, test


def no_prior(states) -> EquationSystem:
    """Nothing known: every right-hand side is a residual of every state."""
    blank = EquationSystem.from_text([f"d{s}/dt = 0" for s in states])
    for s in states:
        blank = blank.with_residual(s, list(states))
    return blank


def ours(train: Trajectories, test: Trajectories, seed: int) -> tuple[float, str, dict]:
    result = discover(train, no_prior(train.states), test, training={"seed": seed}, progress=False)
    r2 = min(m["r2"] for m in result.metrics["discovered"].values())
    found = "; ".join(f"d{s}/dt = {e}" for s, e in result.discovered.discovered.items())
    return r2, found, result.routes


def pysindy_alone(train: Trajectories, test: Trajectories) -> tuple[float, str]:
    import warnings

    import pysindy as ps

    model = ps.SINDy(optimizer=ps.STLSQ(), feature_library=ps.PolynomialLibrary(degree=3),
                     differentiation_method=ps.SmoothedFiniteDifference())
    with warnings.catch_warnings():  # "eliminated all coefficients", a diverging model: rows in the table
        warnings.simplefilter("ignore")
        model.fit(train.y[0], t=train.t, feature_names=list(train.states))
        found = "; ".join(f"d{s}/dt = {e}" for s, e in zip(train.states, model.equations(precision=3), strict=True))
        try:
            predicted = model.simulate(test.y[0, 0], test.t)
        except Exception:  # noqa: BLE001 - scipy raises several kinds when a model blows up
            return float("-inf"), found
    if predicted.shape != test.y[0].shape:  # the integrator gave up part-way: a blow-up
        return float("-inf"), found
    return min(m["r2"] for m in trajectory_metrics(predicted[None], test).values()), found


def run(system: System, noise: float, seed: int = 0) -> dict:
    import torch

    torch.set_num_threads(1)
    _, train, test = make_data(system, noise, seed)
    start = time.perf_counter()
    try:
        r2, found, routes = ours(train, test, seed)
    except Exception as exc:  # a failed run is a row in the table, not a crashed benchmark
        r2, found, routes = float("-inf"), f"failed: {type(exc).__name__}: {exc}", {}
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    base_r2, base_found = pysindy_alone(train, test)
    return {"system": system.name, "states": len(train.states), "noise": noise, "r2": r2, "found": found,
            "route": routes.get("chosen", "-"), "seconds": seconds, "baseline_r2": base_r2,
            "baseline": base_found, "baseline_seconds": time.perf_counter() - start}


def _r2(x: float) -> str:
    return f"{x:.3f}" if x > -10 else ("diverged" if x == float("-inf") else "< -10")


def table(rows: list[dict]) -> str:
    yes = {True: "yes", False: "no"}
    lines = ["| system | states | noise | ours: R² unseen IC | ours: success | route chosen | ours: time (s) "
             "| PySINDy-alone: R² unseen IC | PySINDy-alone: success | PySINDy time (s) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['system']} | {r['states']} | {r['noise']:.0%} | {_r2(r['r2'])} | {yes[r['r2'] > 0.9]} "
                     f"| {r['route']} | {r['seconds']:.0f} | {_r2(r['baseline_r2'])} | {yes[r['baseline_r2'] > 0.9]} "
                     f"| {r['baseline_seconds']:.1f} |")
    lines.append("")
    for level in sorted({r["noise"] for r in rows}):
        sub = [r for r in rows if r["noise"] == level]
        lines.append(f"- {level:.0%} noise: ours {sum(r['r2'] > 0.9 for r in sub)} of {len(sub)}, "
                     f"PySINDy-alone {sum(r['baseline_r2'] > 0.9 for r in sub)} of {len(sub)} "
                     "(R² > 0.9 in every state from the unseen initial condition)")
    lines.append(f"- total wall time: ours {sum(r['seconds'] for r in rows):.0f} s, PySINDy-alone "
                 f"{sum(r['baseline_seconds'] for r in rows):.0f} s")
    return "\n".join(lines)


SECTION = "# No-prior benchmark"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--systems", nargs="*", default=[s.name for s in SYSTEMS])
    parser.add_argument("--noise", nargs="*", type=float, default=[0.01, 0.05])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--write", help="also write the table into this Markdown file (replacing its own section)")
    args = parser.parse_args()
    by_name = {s.name: s for s in SYSTEMS}
    unknown = [s for s in args.systems if s not in by_name]
    if unknown:
        parser.error(f"unknown systems {unknown}; choose from {sorted(by_name)}")
    header = machine()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(run, by_name[s], level, args.seed) for s in args.systems for level in args.noise]
        for future in as_completed(futures):
            r = future.result()
            print(f"done {r['system']} @ {r['noise']:.0%}: ours R² {_r2(r['r2'])} ({r['route']}), "
                  f"pysindy {_r2(r['baseline_r2'])} ({r['seconds']:.0f} s)", file=sys.stderr)
        rows = [f.result() for f in futures]
    text = table(rows)
    print(text)
    found = "\n".join(f"- {r['system']} @ {r['noise']:.0%}: ours `{r['found']}`; PySINDy-alone `{r['baseline']}`"
                      for r in rows)
    print(found)
    if args.write:
        systems = "\n".join(f"- {s.name}: {', '.join(s.equations)}; train from {s.train_ic}, test from {s.test_ic}, "
                            f"t in [0, {s.duration:g}]" for s in SYSTEMS if s.name in args.systems)
        write_section(Path(args.write), f"{SECTION}\n\nCommand: `python benchmarks/no_prior.py --write {args.write}`"
                      f"\n\nMachine: {header}\n\n{__doc__.split(chr(10) * 2, 2)[2].strip()}\n\n"
                      f"## Systems\n\n{systems}\n\n## Results\n\n{text}\n\n## What was found\n\n{found}\n")


if __name__ == "__main__":
    main()
