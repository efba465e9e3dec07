"""Turn any closed-form candidate into a clean sum of terms with least-squares coefficients."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import sympy as sp

from ..equations import evaluate_expression


def term_shapes(expr: sp.Expr) -> list[tuple[float, sp.Expr]]:
    """Split an expanded expression into (coefficient, shape) pairs: `0.3*v**3` -> (0.3, v**3)."""
    out = []
    for term in sp.Add.make_args(sp.expand(expr)):
        coef, shape = term.as_coeff_Mul()
        if shape == 1 or not shape.free_symbols:
            coef, shape = float(term.evalf()), sp.Integer(1)
        out.append((float(coef), shape))
    return out


def polish(expr: sp.Expr, X: np.ndarray, y: np.ndarray, names: Sequence[str], prune: float) -> sp.Expr | None:
    """Drop terms whose contribution is below `prune` x RMS(y), refit the rest by least squares.

    Symbolic search returns expressions like (0.13 v + 0.23)(-2.5 v**2 + 4.4 v), whose
    expansion hides the structure v - v**3/3 behind near-cancelling terms; the polished
    form is what the Pareto front and the user should see. Returns None when nothing is left.
    """
    shapes = [s for _, s in term_shapes(expr)]
    with np.errstate(all="ignore"):
        columns = np.stack([evaluate_expression(s, X, names) for s in shapes], axis=1)
    if not np.all(np.isfinite(columns)):
        return None
    coef = np.linalg.lstsq(columns, y, rcond=None)[0]
    rms_y = float(np.sqrt(np.mean(y**2))) or 1.0
    keep = [i for i in range(len(shapes)) if np.sqrt(np.mean((coef[i] * columns[:, i]) ** 2)) > prune * rms_y]
    if not keep:
        return None
    coef = np.linalg.lstsq(columns[:, keep], y, rcond=None)[0]
    return sum((sp.Float(c, 6) * shapes[i] for c, i in zip(coef, keep, strict=True)), sp.Integer(0))
