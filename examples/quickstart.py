"""Quickstart: discover FitzHugh–Nagumo's missing cubic term from Python.

Run: python examples/quickstart.py   (about 40 s on a laptop CPU)
"""

from discover import EquationSystem, discover, example_data, write_results

FAST = __name__ == "testing"  # the test suite runs this file with fewer iterations

# 1. Data: five noisy trajectories to train on, two from new initial conditions to validate on.
train, heldout = example_data("fitzhugh_nagumo", n_train=3 if FAST else 5, duration=60.0 if FAST else 100.0)

# 2. What we know: dv/dt lacks its cubic nonlinearity, so a neural network of (v, w) stands in for it.
known = EquationSystem.from_text(
    ["dv/dt = -w + I", "dw/dt = (v + a - b*w)/tau"],
    inputs=["I"],
    parameters={"a": 0.7, "b": 0.8, "tau": 12.5},
).with_residual("v", features=["v", "w"])

# 3. Fit the UDE, distil the network into closed form, re-simulate the held-out trajectories.
result = discover(
    train, known, heldout,
    training={"iterations": 100 if FAST else 600},
    distill={"symbolic": {"max_evaluations": 30_000 if FAST else 100_000}},  # symbolic search budget
    progress=not FAST,
)

print(result.discovered)
print("held-out R² of v:", round(result.metrics["discovered"]["v"]["r2"], 4))
if not FAST:
    write_results(result, "results/quickstart", force=True)
