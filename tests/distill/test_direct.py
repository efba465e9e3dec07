"""The direct route: smoothed derivatives of the data, distilled with no network."""

import json

import numpy as np
import pytest
import sympy as sp

from discover import DataError, EquationSystem, Trajectories, discover, simulate
from discover.distill._direct import SMOOTHING, estimate_derivatives

LV = ("dx/dt = 1.3*x - 0.9*x*y", "dy/dt = 0.8*x*y - 1.8*y")


def no_prior(states) -> EquationSystem:
    blank = EquationSystem.from_text([f"d{s}/dt = 0" for s in states])
    for s in states:
        blank = blank.with_residual(s, list(states))
    return blank


def test_savitzky_golay_derivative_of_a_sine():
    t = np.linspace(0, 10, 201)
    data = Trajectories(t, np.sin(t)[None, :, None], None, ("x",))
    dydt = estimate_derivatives(data, 9)
    assert dydt.shape == data.y.shape
    np.testing.assert_allclose(dydt[0, :, 0], np.cos(t), atol=5e-4)  # the ends are a fitted cubic, not a centred one


@pytest.mark.parametrize("smoothing", [4, 6, 1000, True])
def test_bad_smoothing_window_is_named(smoothing):
    t = np.linspace(0, 10, 201)
    data = Trajectories(t, np.sin(t)[None, :, None], None, ("x",))
    with pytest.raises(DataError, match="`smoothing`"):
        estimate_derivatives(data, smoothing)


@pytest.fixture(scope="module")
def lotka_volterra_direct():
    """No prior at all, one trajectory of 150 samples with 5 % multiplicative noise, direct route."""
    truth = EquationSystem.from_text(LV)
    t = np.linspace(0, 10, 150)
    train = simulate(truth, [[0.44, 4.6]], t, noise=0.05, noise_model="multiplicative", seed=0)
    unseen = simulate(truth, [[2.0, 1.0]], t)
    return discover(train, no_prior(("x", "y")), unseen, distill={"route": "direct", "backends": ["sparse"]},
                    progress=False)


@pytest.mark.slow  # a whole no-prior run (module fixture, ~35 s on 2 cores)
def test_direct_route_recovers_lotka_volterra_from_one_noisy_trajectory(lotka_volterra_direct):
    """Exactly the four Lotka-Volterra terms, coefficients within 5 %, and a model that predicts
    from an initial condition it never saw."""
    result = lotka_volterra_direct
    x, y = sp.symbols("x y", real=True)
    expected = {"x": {x: 1.3, x * y: -0.9}, "y": {x * y: 0.8, y: -1.8}}
    for state, terms in expected.items():
        coefs = result.discovered.discovered[state].as_coefficients_dict()
        assert set(coefs) == set(terms), f"d{state}/dt: recovered {result.discovered.discovered[state]}"
        for term, value in terms.items():
            assert float(coefs[term]) == pytest.approx(value, rel=0.05)
        assert "direct route" in result.distillation[state].reason
        assert result.metrics["discovered"][state]["r2"] > 0.95
    assert result.ude is None and "UDE" not in result.predictions
    assert result.routes["chosen"] == "direct" and result.routes["smoothing"] in SMOOTHING


@pytest.mark.slow  # a whole no-prior run (module fixture, ~35 s on 2 cores)
def test_direct_route_results_and_report_need_no_network(lotka_volterra_direct, tmp_path):
    from discover import write_results

    folder = write_results(lotka_volterra_direct, tmp_path / "run")
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["routes"]["chosen"] == "direct" and metrics["final_training_loss"] is None
    with np.load(folder / "residuals.npz") as arrays:  # the derivative estimate stands in for the network
        assert arrays["learned_x"].shape == arrays["distilled_x"].shape
        assert np.corrcoef(arrays["learned_x"], arrays["distilled_x"])[0, 1] > 0.95
    assert "direct" in (folder / "report.md").read_text()
