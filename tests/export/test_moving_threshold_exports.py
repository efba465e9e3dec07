"""A model with a moving spike threshold (GIF) runs in every simulator and spikes when we do."""

import functools

import numpy as np
import pytest

from discover import EquationSystem, Trajectories
from discover.equations import Parameter, SpikeRule
from discover.export import export
from discover.validate import resimulate_spiking, spike_times
from discover.validate._spiking import spike_signal
from tests.helpers import compile_mod, in_a_fresh_interpreter, needs

pytestmark = pytest.mark.simulators

RULE = SpikeRule("V", threshold=-50.0, reset=-60.0, refractory=2.0, add=(("w", 20.0), ("theta", 1.0)),
                 moving=(("theta", 8.0),))
Y0, CURRENT, DURATION = [-65.0, 0.0, 0.0], 250.0, 100.0  # V (mV), w (pA), theta; I (pA); ms
TOLERANCE = 0.1  # ms, per spike


def gif() -> EquationSystem:
    """A LIF with one spike-triggered adaptation current w and one threshold trace theta: each
    spike raises the threshold by 8 mV, decaying with 30 ms."""
    return EquationSystem.from_text(
        ["dV/dt = (-gL*(V - EL) - w + I)/C", "dw/dt = -w/tau_w", "dtheta/dt = -theta/tau_t"], inputs=["I"],
        parameters=[Parameter("C", 100.0, "pF"), Parameter("gL", 5.0, "nS"), Parameter("EL", -65.0, "mV"),
                    Parameter("tau_w", 100.0, "ms"), Parameter("tau_t", 30.0, "ms")],
        units={"V": "mV", "w": "pA", "I": "pA"}, time_unit="ms", name="gif", spike=RULE)


@functools.cache
def our_spike_times(dt: float = 0.005) -> np.ndarray:
    t = np.arange(0.0, DURATION, dt)
    system = gif()
    start = Trajectories(t, np.tile(Y0, (1, t.size, 1)), np.full((1, t.size, 1), CURRENT), system.states, ("I",))
    return spike_times(t, spike_signal(RULE, resimulate_spiking(system, start)[0], system.states), RULE.threshold)


def _assert_as_ours(theirs):
    ours = our_spike_times()
    assert len(ours) >= 5 and len(theirs) == len(ours), (theirs, ours)
    np.testing.assert_allclose(theirs, ours, atol=TOLERANCE)
    assert ours[1] - ours[0] > 10.0  # the raised threshold delays the second spike (7.6 ms with a fixed one)


def _resets(t, y):
    """Where V drops to the reset: the spikes of a runner whose trace never reads the threshold."""
    return t[1:][np.diff(y[:, 0]) < -5.0]


def test_python_export_spikes_at_the_moving_threshold(tmp_path):
    [path] = export(gif(), "python", tmp_path, y0=Y0, inputs={"I": CURRENT}, duration=DURATION)
    _, _, theirs = in_a_fresh_interpreter(tmp_path, path.name, "simulate_spikes(t=np.arange(0, 100.0, 0.01))",
                                          ("t", "y", "spikes"))
    _assert_as_ours(theirs)


def test_brian2_export_spikes_at_the_moving_threshold(tmp_path):
    needs("brian2")
    files = export(gif(), "brian2", tmp_path, y0=Y0, inputs={"I": CURRENT}, duration=DURATION)
    assert "threshold='V_ >= ((-50.0) + (8.0)*theta) * (mV)'" in files[0].read_text()
    t, y = in_a_fresh_interpreter(tmp_path, files[-1].name, "run_model()")
    _assert_as_ours(_resets(t, y))


def test_neuron_export_spikes_at_the_moving_threshold(tmp_path):
    """The NetCon watches the mechanism's vspike = v - 8*theta for -50 mV."""
    needs("neuron")
    files = export(gif(), "neuron", tmp_path, y0=Y0, inputs={"I": CURRENT}, duration=DURATION)
    compile_mod(tmp_path)
    _, _, theirs = in_a_fresh_interpreter(tmp_path, files[-1].name, "run_model(record_dt=0.01)", ("t", "y", "spikes"))
    _assert_as_ours(theirs)


def test_lems_export_spikes_at_the_moving_threshold(tmp_path):
    needs("neuroml")
    files = export(gif(), "neuroml", tmp_path, y0=Y0, inputs={"I": CURRENT}, duration=DURATION)
    t, y = in_a_fresh_interpreter(tmp_path, files[-1].name, "run_model()")
    _assert_as_ours(_resets(t, y))


def test_nestml_export_writes_the_moving_threshold_and_passes_the_nestml_checks(tmp_path):
    """NEST does not build here: NESTML's parser and semantic (unit) checks run on the condition."""
    import subprocess
    import sys

    needs("nestml")
    [path] = export(gif(), "nestml", tmp_path, y0=Y0, inputs={"I": CURRENT}, duration=DURATION)
    assert "onCondition(refr_t <= 0 ms and V_ >= ((-50.0) + (8.0)*theta) * (1 mV)):" in path.read_text()
    done = subprocess.run([sys.executable, "-m", "discover.export.nestml_check", str(path)], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
