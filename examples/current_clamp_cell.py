"""A real cell: discover the membrane equation of a fast-spiking interneuron from current-clamp steps.

The recording (examples/data/fsi_abf, pyABF's sample data, MIT licence) is an ABF file with 17
sweeps of current steps. We fit on some sweeps and validate on others:

1. the passive membrane C dV/dt = -gL (V - EL) + I is estimated from quiet subthreshold samples,
   and the spike rule (threshold, reset, refractory period) from the spikes;
2. a neural network of V learns the current the passive membrane lacks, trained on the
   stretches between spikes;
3. the network is distilled into closed-form terms (exponentials and polynomials of V);
4. the distilled terms are checked on the cell's spike times: the whole training sweeps are
   re-simulated, and if the chosen terms fall more than 0.1 in Gamma short of the best front
   candidate (or of the known part alone), and do not fire the sweeps' spike counts, the simplest
   model within 0.1 of the best replaces them;
5. the held-out sweeps are re-simulated with the spike rule, and the model's spike times are
   compared with the cell's by the coincidence factor Gamma (1 = every spike within 4 ms, 0 = chance).

Run: python examples/current_clamp_cell.py              (a few minutes on a laptop CPU;
                                                         results in results/current_clamp_cell/)
     python examples/current_clamp_cell.py --fast       (two sweeps, cropped, fewer iterations: what CI runs)
     python examples/current_clamp_cell.py --file other.abf --train 6 8 10 --heldout 9
The same run from a config: discover run examples/fsi_cell.toml
"""

import argparse
from pathlib import Path

from discover import discover, write_results
from discover.cell import estimate_passive, estimate_spike_rule, membrane_system
from discover.recordings import read_recording

HERE = Path(__file__).parent

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--file", default=str(HERE / "data" / "fsi_abf" / "2019_07_24_0055_fsi.abf"))
parser.add_argument("--train", type=int, nargs="+", help="sweeps to fit on (default: 6 8 10 12 14; --fast: 8 12)")
parser.add_argument("--heldout", type=int, nargs="+", help="sweeps to validate on (default: 9 11 13; --fast: 11)")
parser.add_argument("--threshold", type=float, default=-20.0, help="mV: the model spikes and resets here")
parser.add_argument("--fast", action="store_true", help="two sweeps, cropped, fewer iterations")
parser.add_argument("--out", default="results/current_clamp_cell", help="results folder (default: %(default)s)")
parser.add_argument("--force", action="store_true", help="replace the results folder if it holds files")
args = parser.parse_args()
FAST = args.fast
args.train = args.train or ([8, 12] if FAST else [6, 8, 10, 12, 14])
args.heldout = args.heldout or ([11] if FAST else [9, 11, 13])

# 1. Read the recording (NWB, ABF, Igor, CSV and NPZ all give the same type), in ms, mV and pA.
recording = read_recording(args.file).in_units("ms", V="mV", I="pA").decimate(2)  # 20 -> 10 kHz
if FAST:  # rest, the hyperpolarising step and the start of the second depolarising step
    recording = recording.crop(600.0, 1800.0)
train = recording.select(args.train).to_trajectories(["V"], ["I"])
heldout = recording.select(args.heldout).to_trajectories(["V"], ["I"])

# 2. The known part, estimated from the training sweeps.
rule = estimate_spike_rule(train, args.threshold)
passive = estimate_passive(train, rule)
known = membrane_system(passive, rule)
print(known, "\n")

# 3. Fit, distil, validate on the held-out sweeps.
result = discover(
    train, known, heldout,
    training={"iterations": 100 if FAST else 600, "substeps": 2 if FAST else 4, "seed": 0},
    distill={"backends": ["sparse"], "sparse": {"library": ["polynomial", "exp"], "degree": 2}},
    progress=not FAST,
)

print("Discovered membrane equation:")
print(result.discovered, "\n")
# Window errors between spikes cannot see whether a model still reaches threshold, so the final
# check re-simulates the whole training sweeps, the known part alone among the models (on this cell
# it is what remains: no distilled term times the spikes better; see docs/how-to/recordings.md).
print("Chosen by spike times:", result.refit["spike_times"]["reason"], "\n")
for model in ("known only", "discovered"):
    m = result.metrics[model]["V"]
    print(f"{model:>10}: held-out spike-time coincidence Gamma = {m['gamma']:.3f}, "
          f"spike-count error {m['spike_count_error']:.1%}, voltage RMSE {m['rmse']:.2f} mV")
print("\nResults:", write_results(result, args.out, force=args.force))
