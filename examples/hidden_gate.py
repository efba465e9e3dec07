"""A gate's kinetics learned from the membrane potential alone, and written in closed form.

Morris-Lecar's potassium gate w is not recorded and its kinetics are declared unknown: x_inf(V)
and tau(V) are small networks trained through the model's V equation on V and the injected
current (1 % noise), then distilled to the forms physiologists write (Boltzmann steady state with
a constant, bell, sigmoid or asymmetric time constant; or alpha/beta rates, each exponential,
sigmoid or expo-linear). Expected: w_inf a Boltzmann with V_h = 2 mV and k = 15 mV, tau a bell
25 ms / cosh((V - 2)/60), the generating model's own form.

    python examples/hidden_gate.py              (3 sweeps of 1 s, 600 steps: about 1.5 minutes)
    python examples/hidden_gate.py --fast       (2 sweeps of 0.6 s, 300 steps, about 40 s: what CI runs)
"""

import argparse

import numpy as np

from discover import Trajectories, simulate
from discover.data import Step
from discover.distill import distill_gate
from discover.models import get_model
from discover.report import write_gate_results
from discover.ude import GateKinetics

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--fast", action="store_true", help="two short sweeps and 300 training steps")
parser.add_argument("--out", default="results_hidden_gate", help="results folder (must be new or empty)")
args = parser.parse_args()

# 1. Recordings of V only: steps from two holding currents and a noisy current, 1 % noise
system = get_model("morris_lecar")
duration, dt = (600.0, 1.0) if args.fast else (1000.0, 0.5)
t = np.arange(0, duration, dt)
rng = np.random.default_rng(0)
noise = 90 + 30 * np.convolve(rng.normal(size=t.size), np.ones(4) / 2, "same") * (t > 100)
currents = np.stack([Step(60, 60, duration - 100, 20)(t), Step(110, 60, duration - 50, 0)(t), noise])
currents = currents[:2] if args.fast else currents
data = simulate(system, np.tile([-60.0, 0.0], (len(currents), 1)), t, {"I": currents}, noise=0.01)
voltage = Trajectories(t, data.y[..., :1], data.u, ("V",), ("I",))

# 2. w hidden, its kinetics two networks of V; then the closed forms, refitted on the data
estimator = GateKinetics(system, "w", steps=300 if args.fast else 600).fit(voltage)
distilled = distill_gate(estimator)
chosen = distilled.chosen
print(f"w: {chosen.label}")
for name, value in chosen.values.items():
    print(f"  {name} = {value:.4g} ± {chosen.errors[name]:.2g}")
print(distilled.system)


# 3. The report, with the generating curves drawn beside the learned ones
def truth(v):
    return (1 + np.tanh((v - 2) / 30)) / 2, 25 / np.cosh((v - 2) / 60)


write_gate_results(estimator, distilled, args.out, truth=truth)
print(f"report: {args.out}/report.html")
