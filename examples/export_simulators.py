"""Export a discovered model to Brian2 and NEURON, run it there, and check both agree with discover.

Discovers FitzHugh–Nagumo's missing cubic term (as the demo does), writes the closed-form model as a
Brian2 script and as an NMODL mechanism with a NEURON runner, runs each simulator in a fresh Python
process (the exports do not import discover), and compares their trajectories with discover's own
simulation of the same model from the same initial state: NRMSE per state, which should be < 1e-3.

Run: python examples/export_simulators.py          (about a minute; results and exports in results/export_simulators/)
     python examples/export_simulators.py --fast   (a smaller discovery: what CI runs)
NEURON needs its compiler wrapper `nrnivmodl` on PATH (NEURON's wheel provides it where a C compiler is present).
"""

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from discover import EquationSystem, discover, example_data, simulate, write_results
from discover.export import export

parser = argparse.ArgumentParser(description="Export a discovered model to Brian2 and NEURON and run it there.")
parser.add_argument("--fast", action="store_true", help="a smaller discovery (seconds)")
parser.add_argument("--out", default="results/export_simulators", help="results folder (default: %(default)s)")
parser.add_argument("--force", action="store_true", help="replace the results folder if it holds files")
args = parser.parse_args()

# 1. Discover the model (the quickstart's problem).
train, heldout = example_data("fitzhugh_nagumo", n_train=3 if args.fast else 5, duration=60.0 if args.fast else 100.0)
known = EquationSystem.from_text(
    ["dv/dt = -w + I", "dw/dt = (v + a - b*w)/tau"], inputs=["I"], parameters={"a": 0.7, "b": 0.8, "tau": 12.5},
    name="fitzhugh_nagumo",  # the name of the exported files and of the NEURON mechanism
).with_residual("v", features=["v", "w"])
result = discover(train, known, heldout, training={"iterations": 100 if args.fast else 600},
                  distill={"route": "ude", "symbolic": {"max_evaluations": 30_000 if args.fast else 100_000}},
                  progress=not args.fast)
folder = write_results(result, args.out, force=args.force)
print(result.discovered, "\n")

# 2. Export it, starting from the first held-out trajectory's initial state with its input.
y0, current, duration = heldout.y[0, 0], float(heldout.u[0, :, 0].mean()), float(heldout.t[-1])
t = np.linspace(0.0, duration, 2001)
ours = simulate(result.discovered, [y0], t, {"I": current}).y[0]


def run_in_simulator(files: list[Path]) -> tuple[np.ndarray, np.ndarray]:
    """Compile (NEURON), then call the exported runner's run_model() in a fresh interpreter."""
    where = files[0].parent
    if any(f.suffix == ".mod" for f in files):
        subprocess.run(["nrnivmodl"], cwd=where, check=True, capture_output=True)
    code = (f"import sys, numpy as np; sys.path.insert(0, '.'); from {files[-1].stem} import run_model\n"
            "t, y = run_model(); np.savez('trajectory.npz', t=t, y=y)")
    subprocess.run([sys.executable, "-c", code], cwd=where, check=True)
    with np.load(where / "trajectory.npz") as f:
        return f["t"], f["y"]


errors = {}
for target in ("brian2", "neuron"):
    if target == "neuron" and shutil.which("nrnivmodl") is None:
        print("neuron: skipped, nrnivmodl is not on PATH (pip install neuron; needs a C compiler)")
        continue
    files = export(result.discovered, target, folder / "export" / target, y0=y0, inputs={"I": current},
                   duration=duration, force=args.force)
    t_sim, y_sim = run_in_simulator(files)
    got = np.column_stack([np.interp(t, t_sim, y_sim[:, k]) for k in range(y_sim.shape[1])])
    errors[target] = np.sqrt(np.mean((got - ours) ** 2, axis=0)) / ours.std(axis=0)
    print(f"{target}: {', '.join(f.name for f in files)}; NRMSE against discover's simulation: "
          + ", ".join(f"{s} {e:.1e}" for s, e in zip(result.discovered.states, errors[target], strict=True)))
print("results and exports:", folder)
