"""A real neuron under noise current: discover a GIF-type model and predict spike times it never saw.

The recording (examples/data/drn_gaba, GIF-K data, MIT licence) is a GABAergic dorsal raphe neuron in
three ABF files: 10 s of subthreshold noise (to compensate the electrode), a 60 s noise sweep to fit
on, and 10 repeats of one frozen 10 s noise to test on: the standard protocol for spike-time
prediction (Pozzorini et al. 2015). Steps:

1. active electrode compensation (Badel et al. 2008) from the subthreshold sweep;
2. spikes found by their onset slope; reset and refractory period read off the average spike;
3. C dV/dt = -gL (V - EL) + I - sum_k a_k w_k - I_A by least squares, the spike-triggered currents'
   time constants and an A-type potassium current's kinetics (I_A = g_A m_inf(V) h (V - E_K), one of
   a grid of half-activation, half-inactivation and recovery time) chosen on held-out blocks; an
   escape-rate threshold with spike-triggered jumps and a dependence on V by Poisson regression,
   chosen the same way; the gate kept only if it also makes the spike times likelier: the model's
   form is found, in closed form; the deterministic model (the one exports carry) fires where V
   crosses its threshold, or, where that places the training spikes worse beyond chance, at the
   escape noise's median (H, the escape rate integrated since the last spike, reaching ln 2);
4. the test current alone predicts each repeat: Gamma against each repeat over the cell's own
   reliability, and Md* (how the model's and the cell's spike densities agree, 1 = as well as the cell
   agrees with itself).

Run: python examples/noise_driven_cell.py           (about 2.5 min on 2 cores; results in results/noise_driven_cell/)
     python examples/noise_driven_cell.py --fast    (20 s of training, 3 repeats of 5 s: what CI runs)
The same run from a config: discover run examples/drn_cell.toml
"""

import argparse
from pathlib import Path

from discover import write_results
from discover.cell import CellSettings, discover_cell, fit_electrode
from discover.recordings import read_recording

HERE = Path(__file__).parent / "data" / "drn_gaba"

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--fast", action="store_true", help="20 s of training, 3 test repeats of 5 s, 20 runs")
parser.add_argument("--out", default="results/noise_driven_cell", help="results folder (default: %(default)s)")
parser.add_argument("--force", action="store_true", help="replace the results folder if it holds files")
args = parser.parse_args()


def read(name: str, stop: float | None = None):
    """One ABF file in ms, mV and pA: channel 0 is V, channel 1 the recorded current (labels swapped)."""
    recording = read_recording(HERE / f"DRN158_gaba_{name}.abf", current_channel=1).in_units("ms", V="mV", I="pA")
    return (recording.crop(None, stop) if stop else recording).to_trajectories(["V"], ["I"])


# 1. The three files; --fast keeps the first 20 s of training and 5 s of 3 test repeats
train = read("training", 20_000.0 if args.fast else None)
test = read("test", 5_000.0 if args.fast else None)
if args.fast:
    test = test.select([0, 1, 2])
aec = read("aec")
electrode = fit_electrode(aec.y[0, :, 0], aec.u[0, :, 0], aec.dt)
print(f"Electrode: R_e = {electrode.resistance:.1f} MOhm; membrane tau from the kernel {electrode.membrane_tau:.1f} ms")

# 2-4. Fit on the training sweep, predict the test repeats
cell = discover_cell(train, test, electrode=electrode, settings=CellSettings(runs=20 if args.fast else 100))
print("\nDiscovered model (times in ms, V in mV, I in pA):")
print(cell.discovered)
print(f"\nSpikes: {cell.spikes.count} in training, onset at {cell.spikes.threshold:.1f} mV, "
      f"reset {cell.spikes.reset:.1f} mV after {cell.spikes.refractory:.1f} ms")
print(next(note for note in cell.notes if note.startswith("deterministic reading")))
for model, measures in cell.metrics.items():
    m = measures["V"]
    print(f"{model:>24}: Md* {m.get('md_star', float('nan')):.3f}, "
          f"Gamma/intrinsic {m.get('gamma_ratio', float('nan')):.3f}, spike-count error {m['spike_count_error']:+.0%}")
path = write_results(cell.as_discovery(), args.out, force=args.force)
print(f"\nResults in {path}/ (report.html); export them with: discover export {path} --to all")
