import numpy as np
import pytest
import sympy as sp

from discover import simulate
from discover.choose import refit_coefficients, round_coefficients
from discover.models import fitzhugh_nagumo
from tests.helpers import fhn_known

T = np.arange(0, 40.0001, 0.1)
Y0 = np.random.default_rng(0).uniform([-2, -1], [2, 2], size=(3, 2))


@pytest.fixture(scope="module")
def data():
    """Three clean FitzHugh-Nagumo trajectories, the ground truth every refit here aims at."""
    return simulate(fitzhugh_nagumo(), Y0, T, {"I": 0.5})


def test_refit_through_solver_recovers_true_coefficients(data):
    v = sp.Symbol("v", real=True)
    biased = fhn_known().replace_residuals({"v": 0.95 * v - 0.31 * v**3}, how="test")
    refit, before, after = refit_coefficients(biased, data, window=20)
    coefs = refit.discovered["v"].as_coefficients_dict()
    assert after < before / 100
    assert float(coefs[v]) == pytest.approx(1.0, rel=5e-3)
    assert float(coefs[v**3]) == pytest.approx(-1 / 3, rel=5e-3)
    assert "refit" in refit.provenance[-1]


def test_rounding_keeps_only_digits_that_do_not_hurt(data):
    v = sp.Symbol("v", real=True)
    fitted = fhn_known().replace_residuals({"v": 1.00021 * v - 0.333287 * v**3}, how="test")
    rounded, digits = round_coefficients(fitted, data, window=20)
    coefs = rounded.discovered["v"].as_coefficients_dict()
    assert digits is not None and digits < 6
    assert float(coefs[v**3]) == float(f"{-0.333287:.{digits}g}")
    assert "rounded" in rounded.provenance[-1]
    # a coefficient that is far from any short number is left with the digits it needs
    odd = fhn_known().replace_residuals({"v": 1.0 * v - 0.3712 * v**3}, how="test")
    kept, digits = round_coefficients(odd, simulate(odd.without_residuals(), Y0, T, {"I": 0.5}), window=20)
    assert digits is None or digits >= 3


def test_negligible_terms_are_dropped_before_rounding(data):
    v = sp.Symbol("v", real=True)
    fitted = fhn_known().replace_residuals({"v": 1.00002 * v - 0.333331 * v**3 + 6.3e-6}, how="test")
    cleaned, _ = round_coefficients(fitted, data, window=20)
    assert set(cleaned.discovered["v"].as_coefficients_dict()) == {v, v**3}
    assert any("negligible term" in p for p in cleaned.provenance)
