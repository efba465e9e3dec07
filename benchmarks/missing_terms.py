"""Missing-term benchmark: remove known terms from library models, rediscover them, score the result.

    python benchmarks/missing_terms.py                      # every case at 0, 1 and 5 % noise
    python benchmarks/missing_terms.py --cases fhn_cubic --noise 0.01
    python benchmarks/missing_terms.py --write benchmarks/RESULTS.md

Each row: case, noise, whether exactly the removed terms were recovered (yes/no), the largest
relative coefficient error over the removed terms (100 % for a term not found), the discovered
model's held-out re-simulation error (NRMSE averaged over states, new initial conditions), and
wall time. Runs use one torch thread each, `--jobs` of them in parallel.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import sympy as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from discover import discover, simulate  # noqa: E402
from discover.data import Noise  # noqa: E402
from discover.models import get_model  # noqa: E402


@dataclass(frozen=True)
class Case:
    name: str
    model: str
    remove: dict  # state -> removed terms (text)
    features: dict  # residual state -> features
    low: tuple  # initial conditions drawn uniformly in [low, high]
    high: tuple
    duration: float
    dt: float
    inputs: dict = field(default_factory=dict)  # constant inputs; "noise" = OU noise per trajectory
    training: dict = field(default_factory=dict)
    distill: dict = field(default_factory=dict)


CASES = [
    Case("fhn_cubic", "fitzhugh_nagumo", {"v": ["v", "-v**3/3"]}, {"v": ["v", "w"]},
         (-2, -1), (2, 2), 100.0, 0.1, {"I": 0.5}),
    Case("van_der_pol_damping", "van_der_pol", {"y": ["mu*(1 - x**2)*y"]}, {"y": ["x", "y"]},
         (-3, -3), (3, 3), 20.0, 0.05, {"I": 0.0}),
    Case("hindmarsh_rose_quadratic", "hindmarsh_rose", {"x": ["b*x**2"]}, {"x": ["x", "y", "z"]},
         (-1.5, -10, 1.8), (1.5, 0, 2.2), 300.0, 0.1, {"I": 3.25}),
    Case("lotka_volterra_interaction", "lotka_volterra", {"x": ["-beta*x*y"], "y": ["gamma*x*y"]},
         {"x": ["x", "y"], "y": ["x", "y"]}, (0.5, 0.5), (4, 4), 10.0, 0.1),
    Case("izhikevich_quadratic", "izhikevich", {"v": ["0.04*v**2"]}, {"v": ["v", "u"]},
         (-75, -14), (-63, -12), 100.0, 0.1, {"I": "noise"}),
    Case("hh_potassium", "hodgkin_huxley", {"V": ["g_K*n**4*(V - E_K)/C"]}, {"V": ["V", "n"]},
         (-70, 0.02, 0.4, 0.25), (-60, 0.1, 0.65, 0.4), 50.0, 0.05, {"I": 10.0},
         training={"substeps": 2, "dtype": "float64"}, distill={"sparse": {"degree": 5}}),
    Case("morris_lecar_calcium", "morris_lecar", {"V": ["g_Ca*(1 + tanh((V - V1)/V2))/2*(V - E_Ca)/C"]},
         {"V": ["V", "w"]}, (-60, 0.0), (20, 0.4), 300.0, 0.5, {"I": 90.0}),
    Case("adex_exponential", "adex", {"V": ["g_L*Delta_T*exp((V - V_T)/Delta_T)/C"]}, {"V": ["V", "w"]},
         (-72, 0), (-58, 50), 300.0, 0.1, {"I": "noise"}),
    Case("wilson_cowan_sigmoid", "wilson_cowan", {"E": ["(1 - r*E)*sigmoid(a_E*(c1*E - c2*I + P - theta_E))/tau_E"]},
         {"E": ["E", "I"]}, (0, 0), (0.5, 0.5), 50.0, 0.05, {"P": 1.25, "Q": 0.0}),
    Case("ltc_gate", "ltc", {"x": ["gamma*sigmoid(w_x*x + w_I*I + mu)*(A - x)"]}, {"x": ["x", "I"]},
         (-1,), (1,), 40.0, 0.05, {"I": "noise"}),
]
# Input noise levels per model where an input is "noise": (mean, s.d., correlation time)
_NOISE_INPUTS = {"izhikevich": (0.0, 0.8, 5.0), "adex": (250.0, 100.0, 10.0), "ltc": (0.0, 1.0, 1.0)}


def make_data(case: Case, noise: float, seed: int, n_train: int = 5, n_heldout: int = 2):
    full = get_model(case.model)
    rng = np.random.default_rng(seed)
    n = n_train + n_heldout
    y0 = rng.uniform(case.low, case.high, size=(n, len(full.states)))
    t = np.arange(0.0, case.duration + case.dt / 2, case.dt)
    inputs = {}
    for name, value in case.inputs.items():
        if value == "noise":
            mean, std, tau = _NOISE_INPUTS[case.model]
            inputs[name] = np.stack([Noise(mean, std, tau, seed=seed * 100 + k)(t) for k in range(n)])
        else:
            inputs[name] = value
    data = simulate(full, y0, t, inputs, noise=noise, seed=seed)
    return data.select(slice(0, n_train)), data.select(slice(n_train, None))


def truth(case: Case) -> dict:
    full = get_model(case.model)
    reduced = full
    for state, terms in case.remove.items():
        reduced = reduced.without_terms(state, terms)
    values = {full.symbol(p.name): p.value for p in full.parameters}
    return {s: sp.expand((full.equation(s) - reduced.equation(s)).subs(values)) for s in case.remove}, reduced


def score(found: dict, true: dict) -> tuple[bool, float]:
    exact, worst = True, 0.0
    for state, expr in true.items():
        want = sp.expand(expr).as_coefficients_dict()
        got = sp.expand(found[state]).as_coefficients_dict()
        exact &= set(want) == set(got)
        for term, c in want.items():
            worst = max(worst, abs(float(got.get(term, 0)) - float(c)) / abs(float(c)))
    return exact, worst


def run(case: Case, noise: float, seed: int = 0) -> dict:
    import torch

    torch.set_num_threads(1)
    start = time.perf_counter()
    true, reduced = truth(case)
    system = reduced
    for state, features in case.features.items():
        system = system.with_residual(state, features)
    try:
        train, heldout = make_data(case, noise, seed)
        result = discover(train, system, heldout, training={"seed": seed, **case.training},
                          distill=case.distill, progress=False)
        found = {s: result.discovered.discovered[s] for s in true}
        exact, worst = score(found, true)
        nrmse = float(np.mean([m["nrmse"] for m in result.metrics["discovered"].values()]))
        status = "; ".join(f"d{s}/dt += {sp.sstr(e)}" for s, e in found.items())
    except Exception as exc:  # a failed run is a row in the table, not a crashed benchmark
        exact, worst, nrmse, status = False, float("inf"), float("inf"), f"failed: {type(exc).__name__}: {exc}"
    return {"case": case.name, "noise": noise, "exact": exact, "coef_error": worst, "nrmse": nrmse,
            "seconds": time.perf_counter() - start, "found": status}


def table(rows: list[dict]) -> str:
    lines = ["| case | noise | exact terms | max coef. error | held-out NRMSE | wall time (s) |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        error = f"{r['coef_error']:.2%}" if r["coef_error"] <= 10 else ">1000%"
        lines.append(f"| {r['case']} | {r['noise']:.0%} | {'yes' if r['exact'] else 'no'} | "
                     f"{error} | {r['nrmse']:.3g} | {r['seconds']:.0f} |")
    n = len(rows)
    lines.append("")
    for level in sorted({r["noise"] for r in rows}):
        sub = [r for r in rows if r["noise"] == level]
        lines.append(f"- {level:.0%} noise: exact structure in {sum(r['exact'] for r in sub)} of {len(sub)} cases")
    lines.append(f"- total wall time {sum(r['seconds'] for r in rows):.0f} s for {n} runs")
    return "\n".join(lines)


def machine() -> str:
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=Path(__file__).parent, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return (f"{datetime.date.today()}, {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"torch {torch.__version__}, discover at commit {commit}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--cases", nargs="*", default=[c.name for c in CASES])
    parser.add_argument("--noise", nargs="*", type=float, default=[0.0, 0.01, 0.05])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--write", help="also write the table (with machine details) to this Markdown file")
    args = parser.parse_args()
    by_name = {c.name: c for c in CASES}
    unknown = [c for c in args.cases if c not in by_name]
    if unknown:
        parser.error(f"unknown cases {unknown}; choose from {sorted(by_name)}")
    work = [(by_name[c], level) for c in args.cases for level in args.noise]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(run, case, level) for case, level in work]
        for future in as_completed(futures):  # progress, as runs finish
            r = future.result()
            print(f"done {r['case']} @ {r['noise']:.0%}: exact={r['exact']} ({r['seconds']:.0f} s)", file=sys.stderr)
        rows = [f.result() for f in futures]
    text = table(rows)
    print(text)
    for r in rows:
        print(f"  {r['case']} @ {r['noise']:.0%}: {r['found']}")
    if args.write:
        found = "\n".join(f"- {r['case']} @ {r['noise']:.0%}: `{r['found']}`" for r in rows)
        Path(args.write).write_text(
            "# Missing-term benchmark\n\n"
            f"Command: `python benchmarks/missing_terms.py --write {args.write}`\n\n"
            f"Machine: {machine()}\n\n{text}\n\n## What was found\n\n{found}\n"
        )


if __name__ == "__main__":
    main()
