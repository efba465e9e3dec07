"""Sparse regression backend (pysindy): polynomial library + STLSQ along a threshold path."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pysindy as ps
import sympy as sp

from .._errors import FitError
from ._base import Candidate, FrontChoice, check_xy, complexity, normalised_error, split_indices


class SparseDistiller(FrontChoice):
    """Distil a residual into a sparse sum of library terms (SINDy-style regression).

    Fits pysindy's STLSQ on standardised library columns for a path of thresholds, scores each
    distinct support on held-out samples, and picks the simplest candidate on the Pareto front
    whose held-out error is within `tolerance` x the best (see `choose`).

    **Arguments:** `degree` of the polynomial library; `thresholds` (on standardised
    coefficients; default 40 values from 1e-3 to 1); `alpha` (ridge strength in STLSQ);
    `tolerance`, `floor` (the choice rule); `holdout` (fraction of samples held out); `seed`.

    **Learned attributes:** `candidates_` (every distinct support), `front_` (its Pareto front),
    `expression_` (the chosen sympy expression), `chosen_` (its `Candidate`).
    """

    def __init__(
        self, *, degree: int = 3, thresholds: Sequence[float] | None = None, alpha: float = 1e-6,
        tolerance: float = 2.0, floor: float = 1e-4, holdout: float = 0.25, seed: int = 0,
    ) -> None:
        self.degree, self.thresholds, self.alpha = degree, thresholds, alpha
        self.tolerance, self.floor, self.holdout, self.seed = tolerance, floor, holdout, seed

    def fit(self, X: np.ndarray, y: np.ndarray, feature_names: Sequence[str]) -> SparseDistiller:
        X, y = check_xy(X, y, feature_names)
        if int(self.degree) < 1:
            raise FitError(f"`degree` must be at least 1, got {self.degree!r}.")
        library = ps.PolynomialLibrary(degree=int(self.degree)).fit(X)
        theta = np.asarray(library.transform(X))
        terms = [_monomial(p, feature_names) for p in library.powers_]
        train, held = split_indices(len(y), self.holdout, self.seed)
        scale = np.where(theta[train].std(0) > 0, theta[train].std(0), 1.0)
        scale[np.all(library.powers_ == 0, axis=1)] = 1.0  # leave the constant column as is
        y_scale = y[train].std() or 1.0
        candidates: dict[tuple[int, ...], Candidate] = {}
        thresholds = self.thresholds if self.thresholds is not None else np.logspace(-3, 0, 40)
        for threshold in thresholds:
            opt = ps.STLSQ(threshold=float(threshold), alpha=self.alpha, normalize_columns=False)
            with warnings.catch_warnings():
                # the top of the threshold path removes every term on purpose
                warnings.filterwarnings("ignore", message="Sparsity parameter is too big")
                opt.fit(theta[train] / scale, y[train] / y_scale)
            coef = opt.coef_.ravel() * y_scale / scale
            support = tuple(np.flatnonzero(coef))
            if support in candidates or not support:
                continue
            error = normalised_error(theta[held] @ coef, y[held])
            expr = sum((sp.Float(coef[i], 6) * terms[i] for i in support), sp.Integer(0))
            candidates[support] = Candidate(expr, complexity(expr), error, f"sparse (STLSQ, threshold={threshold:.3g})")
        return self._choose_from(
            list(candidates.values()),
            "sparse regression selected no term at any threshold; lower `thresholds` or raise `degree`.",
        )


def _monomial(powers: np.ndarray, names: Sequence[str]) -> sp.Expr:
    return sp.Mul(*[sp.Symbol(n, real=True) ** int(k) for n, k in zip(names, powers)])
