"""What the exported runners print and write, run as a user runs them (scripts in their folder)."""

import re
import subprocess
import sys

import numpy as np
import pytest

from discover import EquationSystem, simulate
from discover.export import export
from discover.models import get_model
from tests.helpers import compile_mod, in_a_fresh_interpreter, needs

pytestmark = pytest.mark.simulators


@pytest.mark.parametrize("target", ["python", "brian2", "neuron", "neuroml"])
def test_runner_scripts_print_the_final_state_as_plain_numbers(target, tmp_path):
    """Run as scripts, the runners printed `{'v': np.float64(...)}` (numpy 2's repr); they print
    `final state: v = ..., w = ...`, numbers that are discover's own final state."""
    needs(target)
    system, y0, current, duration = get_model("fitzhugh_nagumo"), [1.0, 0.5], 0.5, 20.0
    files = export(system, target, tmp_path, y0=y0, inputs={"I": current}, duration=duration)
    if target == "neuron":
        compile_mod(tmp_path)
    done = subprocess.run([sys.executable, files[-1].name], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "np.float64" not in done.stdout
    match = re.search(r"^final state: v = (\S+), w = (\S+)$", done.stdout, re.MULTILINE)
    assert match, done.stdout[-2000:]
    ours = simulate(system, [y0], np.linspace(0, duration, 2001), {"I": current}).y[0, -1]
    # Brian2's monitor ends one 0.01 step before the end; jLEMS steps by forward Euler
    np.testing.assert_allclose([float(match[1]), float(match[2])], ours, rtol=0.005, atol=0.005)


@pytest.mark.parametrize("time_unit, duration", [("ms", 50.0), ("s", 5.0)])
def test_lems_runner_writes_a_header_and_time_in_the_model_unit(time_unit, duration, tmp_path):
    """jLEMS writes no header and time in seconds (and has no option for either); the exported
    runner rewrites its output as <model>.dat: one header line naming each column with its unit,
    then time in the model's own unit."""
    needs("neuroml")
    from discover.equations import Parameter

    parameters = [Parameter("EL", -70.0, "mV"), Parameter("tau", duration / 5, time_unit)]
    decay = EquationSystem.from_text(["dV/dt = -(V - EL)/tau", "dx/dt = -x/tau"], name="decay",
                                     parameters=parameters, units={"V": "mV"}, time_unit=time_unit)
    files = export(decay, "neuroml", tmp_path, y0=[-50.0, 1.0], duration=duration)
    assert [f.name for f in files] == ["LEMS_decay.xml", "run_decay_neuroml.py"]
    t, y = in_a_fresh_interpreter(tmp_path, files[-1].name, "run_model()")
    lines = (tmp_path / "decay.dat").read_text().splitlines()
    assert lines[0] == f"# t ({time_unit})\tV (mV)\tx (dimensionless)"
    table = np.loadtxt(tmp_path / "decay.dat")
    assert table[0, 0] == 0.0 and table[-1, 0] == pytest.approx(duration, rel=1e-6)  # not 1000x off
    np.testing.assert_allclose(table[:, 1:], y)
    np.testing.assert_allclose(table[-1, 1:], [-70.0 + 20.0 * np.exp(-5), np.exp(-5)], rtol=1e-3, atol=1e-3)
