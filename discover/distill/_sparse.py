"""Sparse regression backend (pysindy): a neuron-ready library + STLSQ along a threshold path."""

from __future__ import annotations

import dataclasses
import itertools
import math
import warnings
from collections.abc import Sequence

import numpy as np
import pysindy as ps
import sympy as sp

from .._candidate import pareto_front
from .._errors import FitError
from ..equations import evaluate_expression
from ._base import FrontChoice, check_xy, make_candidate, split_indices
from ._gate import gate_terms
from ._library import build_library, check_library, inner_constants, refine_inner

CRITERIA = ("knee", "per_term", "aic", "bic")


class SparseDistiller(FrontChoice):
    """Distil a residual into a sparse sum of library terms (SINDy-style regression).

    Fits pysindy's STLSQ on standardised library columns for a path of thresholds, adds the
    best one-, two- and three-term supports by exhaustive least squares (as far as a budget of
    subsets allows), scores each distinct support on held-out samples (error, AIC, BIC), refits the constants inside
    exponential and sigmoid terms, and bags each threshold over bootstrap resamples to report
    how often every term is selected.

    **Arguments:** `library`: any of "polynomial", "exp" (exp(x/k)), "sigmoid" (Boltzmann
    1/(1+exp(-(x-c)/k)), alone and times each feature), "gate" (a sigmoid of a fitted weighted
    sum of all features times a linear driving force: Wilson-Cowan and LTC gates), "trig" (sin and cos
    of each feature and of each pair's difference), "saturating" (Michaelis-Menten x/(K + x) and Hill
    x^2/(K^2 + x^2), K refined); `degree` of the polynomials;
    `thresholds` (on standardised coefficients; default 40 values from 1e-3 to 1); `alpha`
    (ridge strength in STLSQ); `max_refine` (candidates with at most this many exp/sigmoid terms
    get their inner constants refit); `n_bags` (bootstrap resamples per threshold; 0 turns bagging off);
    `criterion`: "knee" (the simplest candidate within `tolerance` x the best error + `floor`,
    see `choose`), "per_term" (the simplest candidate no more complex one beats by more than
    `tolerance` per extra constant, see `choose_per_term`; for noise-free targets), "aic" or "bic";
    `holdout` (fraction of samples held out); `seed`.

    **Learned attributes:** `candidates_` (every distinct support), `front_` (its Pareto front),
    `expression_` (the chosen sympy expression), `chosen_` (its `Candidate`).
    """

    def __init__(
        self, *, library: Sequence[str] = ("polynomial",), degree: int = 3, thresholds: Sequence[float] | None = None,
        alpha: float = 1e-6, n_bags: int = 20, criterion: str = "knee", max_refine: int = 3, tolerance: float = 2.0,
        floor: float = 1e-4, holdout: float = 0.25, seed: int = 0,
    ) -> None:
        self.library, self.degree, self.thresholds, self.alpha = library, degree, thresholds, alpha
        self.n_bags, self.criterion, self.max_refine = n_bags, criterion, max_refine
        self.tolerance, self.floor, self.holdout, self.seed = tolerance, floor, holdout, seed

    def fit(self, X: np.ndarray, y: np.ndarray, feature_names: Sequence[str]) -> SparseDistiller:
        X, y = check_xy(X, y, feature_names)
        if int(self.degree) < 1:
            raise FitError(f"`degree` must be at least 1, got {self.degree!r}; use 1 for linear terms.")
        if self.criterion not in CRITERIA:
            raise FitError(f"`criterion` must be one of {list(CRITERIA)}, got {self.criterion!r}.")
        theta, terms = build_library(X, feature_names, check_library(self.library), self.degree)
        train, held = split_indices(len(y), self.holdout, self.seed)
        std = theta[train].std(0)
        scale = np.where(std > 1e-12 * np.abs(theta[train]).max(0), std, 1.0)
        scale[0] = 1.0  # the constant column stays as it is
        y_scale = y[train].std() or 1.0
        rng = np.random.default_rng(self.seed)
        A, b = theta[train] / scale, y[train] / y_scale
        supports: dict[tuple[int, ...], tuple[np.ndarray, str, float | None]] = {}
        for threshold in self.thresholds if self.thresholds is not None else np.logspace(-3, 0, 40):
            coef = self._stlsq(A, b, threshold)
            support = tuple(np.flatnonzero(coef))
            if support and support not in supports:
                supports[support] = (coef * y_scale / scale, f"sparse (STLSQ, threshold={threshold:.3g})", threshold)
        for support, coef in _best_subsets(A, b, max_terms=3):
            supports.setdefault(support, (coef * y_scale / scale, f"sparse (best {len(support)}-term subset)", None))
        if set(check_library(self.library)) - {"polynomial"}:
            # Grid terms are only near the truth, and STLSQ on many correlated sigmoids tends to
            # stack look-alikes; a greedy path proposes the few-term supports it skips.
            for support, coef in _greedy_path(A, b, max_terms=6):
                supports.setdefault(support, (coef * y_scale / scale, "sparse (greedy forward selection)", None))
        candidates, thresholds = [], []
        for support, (coef, source, threshold) in supports.items():
            expr = sum((sp.Float(coef[i], 6) * terms[i] for i in support), sp.Integer(0))
            if len(inner_constants(expr)) <= 3 * self.max_refine:
                expr = refine_inner(expr, X[train], y[train], feature_names)
            with np.errstate(all="ignore"):
                prediction = evaluate_expression(expr, X[held], feature_names)
            if not np.all(np.isfinite(prediction)):
                continue
            candidates.append(make_candidate(expr, prediction, y[held], source))
            thresholds.append((threshold, support))
        if "gate" in check_library(self.library):
            for expr, source in gate_terms(X[train], y[train], feature_names, self.seed):
                with np.errstate(all="ignore"):
                    prediction = evaluate_expression(expr, X[held], feature_names)
                if np.all(np.isfinite(prediction)):
                    candidates.append(make_candidate(expr, prediction, y[held], source))
                    thresholds.append((None, ()))
        # bagging costs n_bags regressions per candidate: spend it on the Pareto front only
        front = set(map(id, pareto_front(candidates)))
        for k, (threshold, support) in enumerate(thresholds):
            if id(candidates[k]) in front and threshold is not None:
                inclusion = self._bag(A, b, threshold, support, terms, rng)
                candidates[k] = dataclasses.replace(candidates[k], inclusion=inclusion)
        return self._choose_from(
            candidates,
            "sparse regression selected no term at any threshold; lower `thresholds` or raise `degree`.",
            criterion=self.criterion,
        )

    def _stlsq(self, A: np.ndarray, b: np.ndarray, threshold: float) -> np.ndarray:
        opt = ps.STLSQ(threshold=float(threshold), alpha=self.alpha, normalize_columns=False)
        with warnings.catch_warnings():
            # the top of the threshold path removes every term on purpose
            warnings.filterwarnings("ignore", message="Sparsity parameter is too big")
            opt.fit(A, b)
        return opt.coef_.ravel()

    def _bag(self, A, b, threshold, support, terms, rng) -> dict[str, float]:
        """Fraction of bootstrap resamples in which each term of `support` is selected."""
        if int(self.n_bags) <= 0:
            return {}
        counts = np.zeros(A.shape[1])
        for _ in range(int(self.n_bags)):
            rows = rng.integers(0, len(b), min(len(b), 2000))
            counts += self._stlsq(A[rows], b[rows], threshold) != 0
        return {sp.sstr(terms[i]): float(counts[i] / int(self.n_bags)) for i in support}



def _best_subsets(A: np.ndarray, b: np.ndarray, max_terms: int, budget: int = 4000, keep: int = 2,
                  keep_single: int = 12) -> list[tuple[tuple[int, ...], np.ndarray]]:
    """The `keep` best-fitting supports of each size from 2 to `max_terms` (while the sizes'
    subsets number at most `budget`) by exhaustive least squares, and the `keep_single` best
    single terms. STLSQ's threshold path is greedy and on few, noisy samples it can skip the
    true few-term support altogether (Lotka-Volterra's 0.8*x*y at 5 % noise was nowhere on it,
    beaten by y**2 + c and by ten-term junk), and a noisy derivative can rank the true single
    term below look-alikes; re-simulation can only choose a support something proposed. Column 0
    is the library's constant."""
    gram, rhs = A.T @ A, A.T @ b
    total = 0
    out = []
    for k in range(1, min(max_terms, A.shape[1]) + 1):
        total += math.comb(A.shape[1], k)
        if total > budget:
            break
        fits = []
        for support in itertools.combinations(range(A.shape[1]), k):
            if support == (0,):  # the constant alone: no better than a constant by construction
                continue
            idx = list(support)
            try:
                coef = np.linalg.solve(gram[np.ix_(idx, idx)], rhs[idx])
            except np.linalg.LinAlgError:
                continue
            fits.append((float(b @ b - rhs[idx] @ coef), support, coef))  # residual sum of squares
        for _, support, _ in sorted(fits, key=lambda f: f[0])[:keep_single if k == 1 else keep]:
            # the normal equations rank supports fast but square the conditioning: near-collinear
            # exponentials came out as 1.58e10*exp(0.32397*V) - 1.58e10*exp(0.32395*V)
            full = np.zeros(A.shape[1])
            full[list(support)] = np.linalg.lstsq(A[:, support], b, rcond=None)[0]
            out.append((support, full))
    return out


def _greedy_path(A: np.ndarray, b: np.ndarray, max_terms: int) -> list[tuple[tuple[int, ...], np.ndarray]]:
    """Orthogonal matching pursuit: add the column most correlated with what is left, refit, repeat."""
    norms = np.linalg.norm(A, axis=0)
    norms[norms == 0] = np.inf
    chosen: list[int] = []
    out = []
    for _ in range(max_terms):
        left = b - A[:, chosen] @ np.linalg.lstsq(A[:, chosen], b, rcond=None)[0] if chosen else b
        scores = np.abs(A.T @ left) / norms
        scores[chosen] = -1
        chosen.append(int(np.argmax(scores)))
        full = np.zeros(A.shape[1])
        full[chosen] = np.linalg.lstsq(A[:, chosen], b, rcond=None)[0]
        out.append((tuple(sorted(chosen)), full))
    return out
