"""Hodgkin–Huxley: rediscover the potassium current g_K n⁴ (V − E_K) / C from voltage and gate traces.

The squid axon model (Hodgkin & Huxley 1952) is simulated under a constant injected current, with 1 %
noise. We declare everything we know — the capacitance, the sodium and leak currents and all three
gates' kinetics — and remove the potassium current from dV/dt: something of V and n is missing there.
The data are dense and every state is observed, so the direct route fits: no network, the
derivative of V is estimated by a Savitzky–Golay filter, the known part subtracted, and sparse
regression on polynomials of (V, n) up to degree 5 proposes terms, chosen by how well each
candidate re-simulates held-out stretches.

Run: python examples/hodgkin_huxley.py          (about 5 minutes on a laptop CPU; results in results/hodgkin_huxley/)
     python examples/hodgkin_huxley.py --fast   (less data: what CI runs)
"""

import argparse

import numpy as np

from discover import discover, simulate, write_results
from discover.models import hodgkin_huxley

parser = argparse.ArgumentParser(description="Rediscover Hodgkin–Huxley's potassium current.")
parser.add_argument("--fast", action="store_true", help="fewer and shorter trajectories")
parser.add_argument("--out", default="results/hodgkin_huxley", help="results folder (default: %(default)s)")
parser.add_argument("--force", action="store_true", help="replace the results folder if it holds files")
args = parser.parse_args()

# 1. Data: trajectories from random initial states (V in mV, gates m, h, n), I = 10 uA/cm², 1 % noise.
full = hodgkin_huxley()
n_train, n_heldout = (2, 1) if args.fast else (5, 2)
rng = np.random.default_rng(0)
y0 = rng.uniform([-70, 0.02, 0.4, 0.25], [-60, 0.1, 0.65, 0.4], size=(n_train + n_heldout, 4))
t = np.arange(0.0, (25.0 if args.fast else 50.0) + 0.025, 0.05)  # ms
data = simulate(full, y0, t, {"I": 10.0}, noise=0.01, seed=0)
train, heldout = data.select(slice(0, n_train)), data.select(slice(n_train, None))

# 2. What we know: all of Hodgkin–Huxley but the potassium current, whose place a residual of (V, n) takes.
known = full.without_terms("V", ["g_K*n**4*(V - E_K)/C"]).with_residual("V", ["V", "n"])
print(known, "\n")

# 3. Distil the data's derivative directly (no network), choose by re-simulation, validate on held-out data.
result = discover(
    train, known, heldout,
    training={"substeps": 2, "dtype": "float64"},  # HH is stiff: two RK4 steps per 0.05 ms sample
    distill={"route": "direct", "backends": ["sparse"], "sparse": {"degree": 5},
             # refitting candidates through the solver is most of the time; --fast refits only the winner
             "refit_candidates": 0 if args.fast else 6},
    progress=not args.fast,
)

p = full.parameter_values
print("Discovered:", result.discovered.discovered["V"])
print(f"Truth:      {-p['g_K'] / p['C']:g}*V*n**4 + {p['g_K'] * p['E_K'] / p['C']:g}*n**4   "
      "(the removed -g_K n⁴ (V - E_K)/C)")
print("held-out R² of V:", round(result.metrics["discovered"]["V"]["r2"], 4))
print("results:", write_results(result, args.out, force=args.force))
