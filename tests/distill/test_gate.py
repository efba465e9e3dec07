"""Gated terms: a sigmoid of a fitted weighted sum of features times a linear driving force."""

import numpy as np
import pytest
import sympy as sp

from discover.distill import SparseDistiller
from discover.distill._gate import gate_terms

X_, I_ = sp.symbols("x I", real=True)


def _ltc_samples(noise: float = 0.01, n: int = 2000):
    """An LTC neuron's gated term sigmoid(0.5 x + I) (1 - x) at scattered samples."""
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.uniform(-1, 1, n), rng.normal(0, 1, n)])
    y = (1 - X[:, 0]) / (1 + np.exp(-(0.5 * X[:, 0] + X[:, 1])))
    return X, y + rng.normal(0, noise, n)


def test_gate_recovers_weights_and_driving_force():
    X, y = _ltc_samples()
    exprs = {source: e for e, source in gate_terms(X, y, ["x", "I"])}
    assert set(exprs) == {"sparse (gate, 1-term force)", "sparse (gate, 2-term force)", "sparse (gate, 3-term force)"}
    two = [e for e, source in gate_terms(X, y, ["x", "I"]) if source.endswith("2-term force)")]
    grid = np.column_stack([np.linspace(-1, 1, 50), np.linspace(-2, 2, 50)])
    truth = (1 - grid[:, 0]) / (1 + np.exp(-(0.5 * grid[:, 0] + grid[:, 1])))
    errors = [np.sqrt(np.mean((sp.lambdify([X_, I_], e)(*grid.T) - truth) ** 2)) for e in two]
    assert min(errors) < 0.01  # the subset {1, x} of the force, with the sigmoid's weights right


def test_sparse_distiller_with_the_gate_library_chooses_the_gated_term():
    X, y = _ltc_samples()
    d = SparseDistiller(library=["polynomial", "gate"], n_bags=0).fit(X, y, ["x", "I"])
    assert d.chosen_.source == "sparse (gate, 2-term force)"
    # the driving force 1 - x: the two outer coefficients equal and opposite
    terms = sp.expand(d.expression_).as_coefficients_dict()
    outer = sorted(float(c) for c in terms.values())
    assert outer[0] == pytest.approx(-outer[1], rel=0.02)
    assert d.chosen_.error < 1e-3
