"""Gate-kinetics benchmark (issue 33): a gate's x_inf(V) and tau(V) learned from V and the injected
current alone, the gate hidden, then distilled to a closed form.

    python benchmarks/gates.py                        # every case, the table printed
    python benchmarks/gates.py --write benchmarks/RESULTS_gates.md

Cases: Hodgkin-Huxley with n's kinetics unknown (m, h hidden but known), HH with h's unknown (a
case added after the candidate forms, their starts and the 2 % choice rule were settled on the
others: a check that they were not tuned to them), Morris-Lecar with w's unknown, and an HH model
with an A-type potassium current whose inactivation gate b is unknown.
Training: a hyperpolarised-then-depolarising step, a second step and a coloured-noise current,
1 % observation noise on V. Held out: a new step and a new noise (after a tenth of the
sweep at rest), noise-free, every model started at rest.
Columns: the structure chosen (and whether it is the generating one), the largest x_inf error
(absolute, x_inf in (0, 1)) and tau error (relative) over the 1st-99th percentile of the training
voltages, for the networks (what a network-only hybrid model, Beck et al. 2026, returns) and the
closed form; the held-out spike-time Gamma (+-2 and +-4 ms) of both models against the generating one;
the chosen form's parameters with Gauss-Newton standard errors; seconds (training, distillation).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from missing_terms import machine  # noqa: E402

from discover.data import Step, Trajectories, simulate  # noqa: E402
from discover.distill import distill_gate  # noqa: E402
from discover.equations import EquationSystem, Parameter, compile_numpy  # noqa: E402
from discover.models import hodgkin_huxley, morris_lecar  # noqa: E402
from discover.ude import GateKinetics  # noqa: E402
from discover.ude._hidden import resting_hidden  # noqa: E402
from discover.validate import spike_times, sweep_gamma  # noqa: E402

WINDOWS_MS = (2.0, 4.0)  # Gamma's coincidence windows: the strict one, and the one cells are scored with


def hh_a_type() -> EquationSystem:
    """Hodgkin-Huxley plus an A-type potassium current g_A a_inf(V)^3 b (V - E_K): instantaneous
    activation, inactivation b with a Boltzmann steady state and a sigmoid time constant (slow
    at hyperpolarised V), which delays the first spike after a hyperpolarised holding current."""
    hh = hodgkin_huxley()
    return EquationSystem.from_text(
        ["dV/dt = (I - g_Na*m**3*h*(V - E_Na) - g_K*n**4*(V - E_K) - g_A*b*(V - E_K)/(1 + exp(-(V - a_V)/a_k))**3"
         " - g_L*(V - E_L))/C",
         *[f"d{s}/dt = {hh.equation(s)}" for s in "mhn"],
         "db/dt = (1/(1 + exp((V - b_V)/b_k)) - b)/(b_tau0 + b_tau1/(1 + exp((V - b_tV)/b_ts)))"],
        inputs=["I"],
        parameters=(*hh.parameters, Parameter("g_A", 20.0, "mS/cm**2"), Parameter("a_V", -45.0, "mV"),
                    Parameter("a_k", 10.0, "mV"), Parameter("b_V", -70.0, "mV"), Parameter("b_k", 6.0, "mV"),
                    Parameter("b_tau0", 5.0, "ms"), Parameter("b_tau1", 30.0, "ms"), Parameter("b_tV", -50.0, "mV"),
                    Parameter("b_ts", 10.0, "mV")),
        units={**hh.units, "b": "1"}, time_unit="ms", name="hh_a_type")


@dataclass(frozen=True)
class Case:
    name: str
    system: EquationSystem
    gate: str
    expected: str  # the generating form's label
    dt: float
    duration: float
    steps: tuple  # (amplitude, baseline, start, stop) of the training steps
    noise: tuple  # (mean, sd) of the training noise current
    heldout: tuple  # one held-out step, and the held-out noise's (mean, sd)
    threshold: float  # spike detection, mV
    train_steps: int = 1200


CASES = [
    Case("hh_n", hodgkin_huxley(), "n", "alpha expo-linear, beta exponential", 0.05, 200.0,
         ((8, -3, 20, 150), (25, 0, 50, 180)), (6, 8), ((15, -2, 30, 170), (8, 8)), 0.0),
    # h was added after the forms, starts and the 2 % rule were settled on the other three: a check of them
    Case("hh_h", hodgkin_huxley(), "h", "alpha exponential, beta sigmoid", 0.05, 200.0,
         ((8, -3, 20, 150), (25, 0, 50, 180)), (6, 8), ((15, -2, 30, 170), (8, 8)), 0.0),
    Case("morris_lecar_w", morris_lecar(), "w", "x_inf Boltzmann, tau bell", 0.5, 1000.0,
         ((60, 20, 100, 700), (110, 0, 100, 900)), (90, 30), ((80, 10, 150, 850), (95, 30)), 0.0, 600),
    Case("hh_a_type_b", hh_a_type(), "b", "x_inf Boltzmann, tau sigmoid", 0.05, 300.0,
         ((30, -8, 100, 250), (18, -2, 80, 280)), (12, 12), ((24, -6, 100, 260), (10, 12)), 0.0),
]


def stimuli(case: Case, t: np.ndarray, steps, noise, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    width = max(int(2.0 / case.dt), 1)  # about 2 ms of correlation
    white = np.convolve(rng.normal(size=t.size), np.ones(width) / np.sqrt(width), "same")
    on = t >= 0.1 * case.duration  # from rest: an oscillator's phase set by a start off rest never heals
    return np.stack([*(Step(a, s, e, b)(t) for a, b, s, e in steps), on * (noise[0] + noise[1] * white)])


def rest(system: EquationSystem, v0: float, current: float) -> np.ndarray:
    """Every state at rest with V held at `v0` and the first current (the generating model's start)."""
    probe = Trajectories(np.array([0.0, 1.0, 2.0]), np.full((1, 3, 1), v0), np.full((1, 3, 1), current), ("V",), ("I",))
    hidden = tuple(s for s in system.states if s != "V")
    return np.concatenate([[v0], resting_hidden(system, probe, hidden)[0]])


def settle(system: EquationSystem, current: float) -> np.ndarray:
    """The generating model's state after 500 time units at the holding current."""
    y0 = rest(system, -65.0, current)
    t = np.linspace(0, 500, 2001)
    return simulate(system, y0[None], t, {"I": current}).y[0, -1]


def run(case: Case) -> dict:
    system = case.system
    t = np.arange(0, case.duration, case.dt)
    currents = stimuli(case, t, case.steps, case.noise, seed=0)
    starts = np.stack([settle(system, float(c[0])) for c in currents])
    data = simulate(system, starts, t, {"I": currents}, noise=0.01, seed=1)
    recorded = Trajectories(data.t, data.y[..., :1], data.u, ("V",), data.inputs)
    began = time.perf_counter()
    estimator = GateKinetics(system, case.gate, steps=case.train_steps).fit(recorded)
    trained = time.perf_counter() - began
    distilled = distill_gate(estimator)
    distill_s = time.perf_counter() - began - trained
    low, high = estimator.fit_.voltage_range
    v = np.linspace(low, high, 400)
    true_x, true_tau = true_curves(system, case.gate, v)
    net_x, net_tau = estimator.curves(v)
    cf_x, cf_tau = distilled.curves(v)
    held = stimuli(case, t, (case.heldout[0],), case.heldout[1], seed=7)
    held_starts = np.stack([settle(system, float(c[0])) for c in held])
    truth = simulate(system, held_starts, t, {"I": held})
    probe = Trajectories(t, truth.y[..., :1], truth.u, ("V",), ("I",))
    net_v = estimator.simulate(probe)[..., 0]
    closed = distilled.system
    hidden = tuple(s for s in closed.states if s != "V")
    y0 = np.column_stack([truth.y[:, 0, :1], resting_hidden(closed, probe, hidden)])
    cf_v = simulate(closed, y0, t, {"I": held}).y[..., 0]
    return {
        "case": case.name, "chosen": distilled.chosen.label, "expected": case.expected,
        "net_x": float(np.abs(net_x - true_x).max()), "net_tau": float(np.abs(net_tau / true_tau - 1).max()),
        "cf_x": float(np.abs(cf_x - true_x).max()), "cf_tau": float(np.abs(cf_tau / true_tau - 1).max()),
        "net_gamma": [gamma(t, truth.y[..., 0], net_v, case.threshold, w) for w in WINDOWS_MS],
        "cf_gamma": [gamma(t, truth.y[..., 0], cf_v, case.threshold, w) for w in WINDOWS_MS],
        "spikes": int(sum(len(spike_times(t, s, case.threshold)) for s in truth.y[..., 0])),
        "params": ", ".join(f"{k} {val:.4g} " + (f"± {distilled.chosen.errors[k]:.2g}"
                                                    if np.isfinite(distilled.chosen.errors[k]) else "(held)")
                            for k, val in distilled.chosen.values.items()),
        "train_s": trained, "distill_s": distill_s, "range": (low, high),
        "front": "; ".join(f"{f.label} ({f.size}): {f.loss:.3g}" for f in distilled.forms),
    }


def true_curves(system: EquationSystem, gate: str, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x_inf and tau of the generating gate at `v`, read off its equation: dx/dt is linear in x,
    a(V) - x b(V), so x_inf = a/b and tau = 1/b."""
    f = compile_numpy(system)
    i, iv = system.state_index(gate), system.state_index("V")
    y = np.zeros((len(v), len(system.states)))
    y[:, iv] = v
    at0 = f(y, np.zeros((len(v), len(system.inputs))))[:, i]
    y[:, i] = 1.0
    at1 = f(y, np.zeros((len(v), len(system.inputs))))[:, i]
    b = at0 - at1
    return at0 / b, 1 / b


def gamma(t, truth: np.ndarray, model: np.ndarray, threshold: float, window: float) -> float:
    data = [spike_times(t, s, threshold) for s in truth]
    pred = [spike_times(t, s, threshold) for s in model]
    scores = [sweep_gamma(d, p, float(t[-1] - t[0]), window) for d, p in zip(data, pred, strict=True)]
    scores = [s for s in scores if np.isfinite(s)]
    return float(np.mean(scores)) if scores else float("nan")


def table(rows: list[dict], header: str) -> str:
    lines = [
        "# Gate-kinetics benchmark (`python benchmarks/gates.py`)", "",
        f"Command: `python benchmarks/gates.py --write benchmarks/RESULTS_gates.md`; {header}. "
        "See the script's docstring for what each column is. Targets (issue 33): x_inf within 0.05 and tau "
        "within 10 % over the visited voltages, held-out Gamma >= 0.95, the generating structure chosen.", "",
        "| case | chosen form | generating form? | x_inf error: network / closed form | tau error: network / "
        "closed form | held-out Γ ±2 ms: network / closed form | held-out Γ ±4 ms: network / closed form "
        "| held-out spikes | train + distil (s) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['case']} | {r['chosen']} | {'yes' if r['chosen'] == r['expected'] else 'no: ' + r['expected']} "
            f"| {r['net_x']:.3f} / {r['cf_x']:.3f} | {100 * r['net_tau']:.1f} % / {100 * r['cf_tau']:.1f} % "
            f"| {r['net_gamma'][0]:.3f} / {r['cf_gamma'][0]:.3f} | {r['net_gamma'][1]:.3f} / {r['cf_gamma'][1]:.3f} "
            f"| {r['spikes']} "
            f"| {r['train_s']:.0f} + {r['distill_s']:.0f} |")
    lines += ["", "Targets (issue 33), the closed form:", ""]
    for r in rows:
        checks = [("structure", r["chosen"] == r["expected"]), ("x_inf within 0.05", r["cf_x"] <= 0.05),
                  ("tau within 10 %", r["cf_tau"] <= 0.10), ("held-out Γ ±4 ms >= 0.95", r["cf_gamma"][1] >= 0.95),
                  ("held-out Γ ±2 ms >= 0.95", r["cf_gamma"][0] >= 0.95)]
        lines.append(f"- {r['case']}: " + "; ".join(f"{name} **{'met' if ok else 'not met'}**" for name, ok in checks))
    lines += ["", "Chosen forms' parameters (± Gauss-Newton standard error, a lower bound: windows share slow "
              "errors; an exponential rate's midpoint is held, only rate·e^(−mid/scale) being identifiable), "
              "over the visited voltages:", ""]
    lines += [f"- **{r['case']}** (V {r['range'][0]:.1f} to {r['range'][1]:.1f} mV): {r['params']}" for r in rows]
    lines += ["", "Every form refitted on the data (size: teacher-forced loss):", ""]
    lines += [f"- **{r['case']}**: {r['front']}" for r in rows]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", nargs="*", default=[c.name for c in CASES])
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    header = machine()
    rows = []
    for case in CASES:
        if case.name in args.cases:
            rows.append(run(case))
            print(rows[-1], flush=True)
    text = table(rows, header)
    print(text)
    if args.write:
        args.write.write_text(text)


if __name__ == "__main__":
    main()
