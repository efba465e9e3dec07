"""The examples in examples/ run, scaled down, and find the right equation."""

import runpy
from pathlib import Path

import pytest
import sympy as sp

EXAMPLES = Path(__file__).parents[1] / "examples"


def test_quickstart_runs_and_recovers_cubic(capsys):
    namespace = runpy.run_path(str(EXAMPLES / "quickstart.py"), run_name="testing")
    v = sp.Symbol("v", real=True)
    assert set(namespace["result"].discovered.discovered["v"].as_coefficients_dict()) == {v, v**3}
    assert "held-out R² of v" in capsys.readouterr().out


@pytest.mark.slow  # about 2-5 minutes on 2 cores: three sweeps of a real recording at 10 kHz
def test_current_clamp_example_fits_the_real_cell_and_reports_held_out_gamma(capsys):
    """The shared fast-spiking interneuron (ABF): the truth is unknown, so this checks the pipeline
    ran on it whole: plausible passive membrane, closed-form terms, Gamma on held-out sweeps."""
    namespace = runpy.run_path(str(EXAMPLES / "current_clamp_cell.py"), run_name="testing")
    result = namespace["result"]
    params = {p.name: p.value for p in result.discovered.parameters}
    assert 5 < params["C"] < 200 and 0.5 < params["gL"] < 50 and -80 < params["EL"] < -40  # pF, nS, mV
    assert not result.discovered.residuals and "V" in result.discovered.discovered
    assert 0 <= result.metrics["discovered"]["V"]["gamma"] <= 1
    out = capsys.readouterr().out
    assert "Discovered membrane equation" in out and "held-out spike-time coincidence Gamma" in out
