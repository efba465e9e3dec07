import numpy as np
import pytest
import sympy as sp

from discover import simulate
from discover.distill import refit_coefficients
from discover.models import fitzhugh_nagumo
from tests.conftest import fhn_known


def test_refit_through_solver_recovers_true_coefficients():
    t = np.arange(0, 40.0001, 0.1)
    y0 = np.random.default_rng(0).uniform([-2, -1], [2, 2], size=(3, 2))
    data = simulate(fitzhugh_nagumo(), y0, t, {"I": 0.5})
    v = sp.Symbol("v", real=True)
    biased = fhn_known().replace_residuals({"v": 0.95 * v - 0.31 * v**3}, how="test")
    refit, before, after = refit_coefficients(biased, data, window=20)
    coefs = refit.discovered["v"].as_coefficients_dict()
    assert after < before / 100
    assert float(coefs[v]) == pytest.approx(1.0, rel=5e-3)
    assert float(coefs[v**3]) == pytest.approx(-1 / 3, rel=5e-3)
    assert "refit" in refit.provenance[-1]


def test_discovery_records_front_scores_and_reason(small_fhn_discovery):
    d = small_fhn_discovery.distillation["v"]
    assert d.chosen in d.front and len(d.scores) == len(d.front)
    assert {"sparse", "symbolic"} <= {c.source.split()[0] for c in d.candidates}
    assert "re-simulation" in d.reason
    assert small_fhn_discovery.refit["window_error_after"] <= small_fhn_discovery.refit["window_error_before"]
