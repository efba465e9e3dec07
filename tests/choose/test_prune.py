"""Backward elimination of discovered terms through the solver."""

import numpy as np
import sympy as sp

from discover import EquationSystem, simulate
from discover.choose import prune_terms
from discover.models import lotka_volterra

X, Y = sp.symbols("x y", real=True)


def _known_and_data():
    full = lotka_volterra()
    known = full.without_terms("x", ["-beta*x*y"]).without_terms("y", ["gamma*x*y"])
    known = known.with_residual("x", ["x", "y"]).with_residual("y", ["x", "y"])
    data = simulate(full, [[0.5, 4.0], [3.0, 1.0]], np.arange(0, 10.05, 0.1), noise=0.01, seed=0)
    return known, data


def test_spurious_terms_are_dropped_and_true_ones_kept():
    """-0.9*x*y plus a constant and an x**2 that do nothing; 0.8*x*y alone: the spurious terms
    go, the remaining coefficients are refit, and the true terms stay (without them the error
    grows far past the tolerance)."""
    known, data = _known_and_data()
    padded = known.replace_residuals({"x": sp.Float(-0.85) * X * Y + sp.Float(0.05) + sp.Float(0.02) * X**2,
                                      "y": sp.Float(0.75) * X * Y}, how="test")
    pruned, notes = prune_terms(padded, data, window=20)
    assert len(notes) == 2 and all("dropped from dx/dt" in n for n in notes)
    found = {s: sp.expand(e).as_coefficients_dict() for s, e in pruned.discovered.items()}
    assert set(found["x"]) == {X * Y} and set(found["y"]) == {X * Y}
    assert abs(float(found["x"][X * Y]) + 0.9) < 0.02
    assert abs(float(found["y"][X * Y]) - 0.8) < 0.02
    assert pruned.provenance[-1].startswith(notes[-1])  # the note, then the terms it left


def test_nothing_is_dropped_from_the_true_model():
    """No prior: all four Lotka-Volterra terms are discovered ones, and each is needed."""
    _, data = _known_and_data()
    blank = EquationSystem.from_text(["dx/dt = 0", "dy/dt = 0"])
    blank = blank.with_residual("x", ["x", "y"]).with_residual("y", ["x", "y"])
    true = blank.replace_residuals({"x": sp.Float(1.3) * X - sp.Float(0.9) * X * Y,
                                    "y": sp.Float(0.8) * X * Y - sp.Float(1.8) * Y}, how="test")
    pruned, notes = prune_terms(true, data, window=20)
    assert notes == []
    assert {s: set(sp.expand(e).as_coefficients_dict()) for s, e in pruned.discovered.items()} == \
        {"x": {X, X * Y}, "y": {X * Y, Y}}
