"""What every distiller shares: scoring a candidate on held-out samples, its own choice from its
front (`FrontChoice`), the checks of its inputs and the train / held-out split."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import sympy as sp

from .._candidate import Candidate as Candidate, complexity, n_constants, pareto_front
from .._errors import FitError


def make_candidate(expr: sp.Expr, prediction: np.ndarray, y: np.ndarray, source: str, **extra) -> Candidate:
    """A candidate scored on held-out samples (`prediction` of `expr` against `y`)."""
    error = normalised_error(prediction, y)
    n, k = len(y), max(1, len(expr.atoms(sp.Float)))
    log_mse = float(np.log(max(error * max(np.var(y), 1e-300), 1e-300)))
    return Candidate(expr, complexity(expr), error, source, n * log_mse + 2 * k, n * log_mse + k * np.log(n), **extra)


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
