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


@pytest.mark.slow  # about 3-6 minutes on 2 cores: both routes on three 60-time-unit trajectories
def test_no_prior_example_rediscovers_fitzhugh_nagumo_whole(tmp_path):
    """Nothing known but the state names: both right-hand sides, every term, within 3 %."""
    from discover import discover, load_config

    config = load_config(EXAMPLES / "no_prior.toml")
    system, train, heldout = config.prepare()
    result = discover(train, system, heldout, training=config.training, distill=config.distill, progress=False)
    v, w = sp.symbols("v w", real=True)
    expected = {"v": {v: 1.0, v**3: -1 / 3, w: -1.0, sp.Integer(1): 0.5},
                "w": {v: 0.08, w: -0.064, sp.Integer(1): 0.056}}
    for state, terms in expected.items():
        coefs = result.discovered.discovered[state].as_coefficients_dict()
        assert set(coefs) == set(terms), f"d{state}/dt: {result.discovered.discovered[state]}"
        for term, value in terms.items():
            assert float(coefs[term]) == pytest.approx(value, rel=0.03)
    assert set(result.routes["routes"]) == {"ude", "direct"}
    assert all(m["r2"] > 0.99 for m in result.metrics["discovered"].values())
