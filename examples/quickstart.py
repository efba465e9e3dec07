"""Quickstart: discover FitzHugh–Nagumo's missing cubic term from Python.

Run: python examples/quickstart.py            (about 40 s on a laptop CPU; results in results/quickstart/)
     python examples/quickstart.py --fast     (a few seconds: less data, fewer iterations; what CI runs)
"""

import argparse

from discover import EquationSystem, discover, example_data, write_results

parser = argparse.ArgumentParser(description="Discover FitzHugh–Nagumo's missing cubic term.")
parser.add_argument("--fast", action="store_true", help="small data and few iterations (seconds)")
parser.add_argument("--out", default="results/quickstart", help="results folder (default: %(default)s)")
parser.add_argument("--force", action="store_true", help="replace the results folder if it holds files")
args = parser.parse_args()

# 1. Data: noisy trajectories to train on, two from new initial conditions to validate on.
train, heldout = example_data("fitzhugh_nagumo", n_train=3 if args.fast else 5, duration=60.0 if args.fast else 100.0)

# 2. What we know: dv/dt lacks its cubic nonlinearity, so a neural network of (v, w) stands in for it.
known = EquationSystem.from_text(
    ["dv/dt = -w + I", "dw/dt = (v + a - b*w)/tau"],
    inputs=["I"],
    parameters={"a": 0.7, "b": 0.8, "tau": 12.5},
).with_residual("v", features=["v", "w"])

# 3. Fit the UDE, distil the network into closed form, re-simulate the held-out trajectories.
result = discover(
    train, known, heldout,
    training={"iterations": 100 if args.fast else 600},
    # route "ude" distils the network; "auto" (the default) also distils the data's own derivatives and keeps the better
    distill={"route": "ude", "symbolic": {"max_evaluations": 30_000 if args.fast else 100_000}},
    progress=not args.fast,
)

print(result.discovered)
print("held-out R² of v:", round(result.metrics["discovered"]["v"]["r2"], 4))
print("results:", write_results(result, args.out, force=args.force))
