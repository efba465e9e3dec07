"""Shared result types of the distillers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from .._errors import FitError


@dataclass(frozen=True)
class Candidate:
    """One closed-form candidate for a residual.

    `complexity` counts expression-tree nodes (`complexity()`); `error` is the mean squared
    error on held-out samples divided by the target's variance (0 is perfect, 1 is no better
    than a constant). `aic`, `bic`: information criteria on the same held-out samples
    (n log(MSE) + 2k or + k log n, k = the number of fitted constants); lower is better.
    `inclusion`: for sparse candidates, how often each term was selected across bootstrap
    resamples (bagging) at that candidate's threshold; a term near 1.0 is robust.
    """

    expression: sp.Expr
    complexity: int
    error: float
    source: str
    aic: float = float("nan")
    bic: float = float("nan")
    inclusion: Mapping[str, float] = field(default_factory=dict)


def make_candidate(expr: sp.Expr, prediction: np.ndarray, y: np.ndarray, source: str, **extra) -> Candidate:
    """A candidate scored on held-out samples (`prediction` of `expr` against `y`)."""
    error = normalised_error(prediction, y)
    n, k = len(y), max(1, len(expr.atoms(sp.Float)))
    log_mse = float(np.log(max(error * max(np.var(y), 1e-300), 1e-300)))
    return Candidate(expr, complexity(expr), error, source, n * log_mse + 2 * k, n * log_mse + k * np.log(n), **extra)


def complexity(expr: sp.Expr) -> int:
    """Nodes in the expression tree: one measure for sparse and symbolic candidates alike."""
    return sum(1 for _ in sp.preorder_traversal(expr))


def n_constants(expr: sp.Expr) -> int:
    """Fitted numbers in `expr` (every float, repeats counted): its freedom to fit the data."""
    return sum(1 for e in sp.preorder_traversal(expr) if isinstance(e, sp.Float))


def pareto_front(candidates: Sequence[Candidate]) -> list[Candidate]:
    """Candidates not beaten in both complexity and error, ordered by complexity."""
    front: list[Candidate] = []
    for c in sorted(candidates, key=lambda c: (c.complexity, c.error)):
        if not front or c.error < front[-1].error:
            front.append(c)
    return front


def choose(front: Sequence[Candidate], tolerance: float, floor: float) -> Candidate:
    """The simplest candidate whose error is within `tolerance` times the best error (plus `floor`).

    A neural residual is fitted, not exact: its small systematic errors are fitted better by
    extra spurious terms, so the most accurate candidate is rarely the right structure. The
    true structure sits at the knee of the front, where more terms stop paying for themselves.
    """
    best = min(c.error for c in front)
    return next(c for c in front if c.error <= tolerance * best + floor)


def choose_per_term(front: Sequence[Candidate], factor: float, floor: float) -> Candidate:
    """The simplest candidate that no more complex one on the front beats by more than `factor` per
    extra constant (error <= factor^(extra constants) x theirs + `floor`).

    For a target without noise, such as a network's field evaluated where the data are, the best error
    is the network's own non-polynomial remainder, which every superset of the true terms reaches
    about equally; `choose`'s "within 2x the best" then also accepts a candidate lacking a true term
    that the others cut the error by 30 % with (Lorenz's -y in dy/dt). Here each term has to pay
    for itself, while a dense fit that gains a few % per term does not outweigh a simple one."""
    for i, c in enumerate(front):
        k = n_constants(c.expression)
        if all(c.error <= factor ** max(n_constants(o.expression) - k, 0) * o.error + floor for o in front[i + 1:]):
            return c
    return front[-1]


def check_xy(X, y, feature_names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Features `(n, n_features)` and a target `(n,)` whose sizes agree with the names."""
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float).ravel()
    if X.ndim != 2 or X.shape[0] != y.size or X.shape[1] != len(feature_names):
        raise FitError(f"X {X.shape}, y {y.shape} and feature_names {list(feature_names)} do not match.")
    return X, y


def normalised_error(prediction: np.ndarray, y: np.ndarray) -> float:
    """Mean squared error over the target's variance (0 perfect, 1 no better than a constant)."""
    return float(np.mean((prediction - y) ** 2) / max(np.var(y), 1e-300))


class FrontChoice:
    """Shared ending of every distiller's `fit`: keep the candidates, their front and the choice."""

    tolerance: float
    floor: float

    def _choose_from(self, candidates: Sequence[Candidate], none_found: str, criterion: str = "knee"):
        if not candidates:
            raise FitError(none_found)
        self.candidates_ = list(candidates)
        self.front_ = pareto_front(self.candidates_)
        if criterion == "knee":
            self.chosen_ = choose(self.front_, self.tolerance, self.floor)
        elif criterion == "per_term":
            self.chosen_ = choose_per_term(self.front_, self.tolerance, self.floor)
        else:  # an information criterion: the lowest AIC or BIC over every candidate
            self.chosen_ = min(self.candidates_, key=lambda c: (getattr(c, criterion), c.complexity))
        self.expression_ = self.chosen_.expression
        return self


def split_indices(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random train / held-out split of `n` samples."""
    order = np.random.default_rng(seed).permutation(n)
    cut = max(1, int(round(n * (1 - fraction))))
    return order[:cut], order[cut:]
