"""A discovered GIF-type cell model (gif_system: several spike-triggered currents and threshold jumps,
a threshold that follows V through max(0, V - knee), an A-type potassium gate) runs in every
simulator and spikes when we do, read both ways: V crossing its threshold, and the escape noise's
median (a state H integrating the escape rate, the rule watching H and resetting V)."""

import functools
import subprocess
import sys

import numpy as np
import pytest

from discover import Trajectories
from discover.export import export
from discover.validate import resimulate_spiking, spike_times
from discover.validate._spiking import spike_signal
from tests.helpers import GIF_SYSTEMS as SYSTEMS, compile_mod, gif_y0 as y0, in_a_fresh_interpreter, needs

pytestmark = pytest.mark.simulators

CURRENT, DURATION, TOLERANCE = 175.0, 150.0, 0.1  # pA, ms, ms per spike


@pytest.fixture(params=list(SYSTEMS))
def reading(request):
    return request.param


@functools.cache
def our_spike_times(reading: str, dt: float = 0.005) -> np.ndarray:
    system, t = SYSTEMS[reading], np.arange(0.0, DURATION, dt)
    start = Trajectories(t, np.tile(y0(reading), (1, t.size, 1)), np.full((1, t.size, 1), CURRENT), system.states,
                         ("I",))
    return spike_times(t, spike_signal(system.spike, resimulate_spiking(system, start)[0], system.states),
                       system.spike.threshold)


def _assert_as_ours(theirs, reading):
    ours = our_spike_times(reading)
    assert len(ours) >= 4 and len(theirs) == len(ours), (theirs, ours)
    np.testing.assert_allclose(theirs, ours, atol=TOLERANCE)


def _resets(t, y):
    """Where V drops to the reset: the spikes of a runner whose trace never reads the threshold."""
    return t[1:][np.diff(y[:, 0]) < -5.0]


def test_python_export_of_a_discovered_cell_spikes_as_we_do(tmp_path, reading):
    [path] = export(SYSTEMS[reading], "python", tmp_path, y0=y0(reading), inputs={"I": CURRENT}, duration=DURATION)
    _, _, theirs = in_a_fresh_interpreter(tmp_path, path.name, f"simulate_spikes(t=np.arange(0, {DURATION}, 0.01))",
                                          ("t", "y", "spikes"))
    _assert_as_ours(theirs, reading)


def test_brian2_export_of_a_discovered_cell_spikes_as_we_do(tmp_path, reading):
    needs("brian2")
    files = export(SYSTEMS[reading], "brian2", tmp_path, y0=y0(reading), inputs={"I": CURRENT}, duration=DURATION)
    t, y = in_a_fresh_interpreter(tmp_path, files[-1].name, "run_model()")
    _assert_as_ours(_resets(t, y), reading)


def test_neuron_export_of_a_discovered_cell_spikes_as_we_do(tmp_path, reading):
    needs("neuron")
    files = export(SYSTEMS[reading], "neuron", tmp_path, y0=y0(reading), inputs={"I": CURRENT}, duration=DURATION)
    compile_mod(tmp_path)
    _, _, theirs = in_a_fresh_interpreter(tmp_path, files[-1].name, "run_model(record_dt=0.01)", ("t", "y", "spikes"))
    _assert_as_ours(theirs, reading)


def test_lems_export_of_a_discovered_cell_spikes_as_we_do(tmp_path, reading):
    needs("neuroml")
    files = export(SYSTEMS[reading], "neuroml", tmp_path, y0=y0(reading), inputs={"I": CURRENT}, duration=DURATION)
    t, y = in_a_fresh_interpreter(tmp_path, files[-1].name, "run_model()")
    _assert_as_ours(_resets(t, y), reading)


def test_nestml_export_of_a_discovered_cell_passes_the_nestml_checks(tmp_path, reading):
    """NEST does not build here: NESTML's parser and semantic (unit) checks run on the whole model."""
    needs("nestml")
    [path] = export(SYSTEMS[reading], "nestml", tmp_path, y0=y0(reading), inputs={"I": CURRENT}, duration=DURATION)
    done = subprocess.run([sys.executable, "-m", "discover.export.nestml_check", str(path)], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
