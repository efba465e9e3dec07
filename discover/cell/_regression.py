"""The two regressions a GIF-type cell model is fitted by, and the forward selection of their terms.

Where a model is linear in its parameters it is fitted by linear regression, as GIF fitting does
(Pozzorini et al. 2015): the membrane's derivative is linear in C, gL, EL and the amplitudes of
spike-triggered currents, and the log of an escape rate is linear in 1/DV, the threshold and its
spike-triggered and voltage-dependent movements. Both problems are convex; terms (one per time
constant of a grid, one per candidate nonlinearity) are added one at a time while they improve
the fit on held-out blocks of the recording by more than a margin, so the result is a sum of
few exponentials rather than every grid point.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np


def least_squares(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Ordinary least squares, columns scaled first (V in mV beside traces near 1)."""
    scale = np.maximum(np.abs(X).max(axis=0), 1e-300)
    coef, *_ = np.linalg.lstsq(X / scale, y, rcond=None)
    return coef / scale


def noise_weights(x: np.ndarray, X: np.ndarray, y: np.ndarray, *, bins: int = 20) -> np.ndarray:
    """Weights 1/sigma(x) for least squares whose residual spread changes with `x`: an ordinary fit
    of `y` on `X`, the RMS residual in each of `bins` quantile bins of `x`, one weight per sample
    (normalised to mean square 1). A membrane's dV/dt is ten times noisier near 0 mV than near rest
    (abortive spikes, unmodelled currents); unweighted, those few samples set C, gL and EL."""
    residual = y - X @ least_squares(X, y)
    edges = np.quantile(x, np.linspace(0.0, 1.0, bins + 1)[1:-1])
    which = np.searchsorted(edges, x)
    spread = np.sqrt(np.bincount(which, residual**2, bins) / np.maximum(np.bincount(which, None, bins), 1))
    w = 1.0 / np.maximum(spread, 1e-12 * max(spread.max(), 1e-300))[which]
    return w / np.sqrt(np.mean(w**2))


NEWTON_ITERATIONS, RIDGE = 100, 1e-8
"""Newton steps at most, and the ridge that keeps a Poisson fit's Hessian invertible."""


def poisson_glm(X: np.ndarray, y: np.ndarray, start: np.ndarray | None = None, *,
                iterations: int = NEWTON_ITERATIONS, ridge: float = RIDGE) -> np.ndarray:
    """Maximum-likelihood Poisson regression with a log link, per-sample rate exp(X beta), by
    damped Newton steps (the log-likelihood is concave, so any start converges).

    `y` holds 0/1 per sample (a spike or none). A tiny `ridge` keeps the Hessian invertible when a
    candidate column barely varies."""
    scale = np.maximum(np.abs(X).max(axis=0), 1e-300)
    return _newton(X / scale, y, None if start is None else np.asarray(start, dtype=float) * scale,
                   iterations, ridge) / scale


def _newton(Z: np.ndarray, y: np.ndarray, beta: np.ndarray | None, iterations: int, ridge: float) -> np.ndarray:
    """`poisson_glm` on columns already scaled (|z| <= 1): the weights for Z. Each step's rates are
    kept from its line search, and y's part of the gradient is formed once (a 40 s recording at
    10 kHz has 400,000 rows: each pass over them counts)."""
    if beta is None:  # a constant column's weight at the mean rate; the rest at 0
        beta = np.zeros(Z.shape[1])
        constant = np.flatnonzero(np.ptp(Z, axis=0) == 0)
        if constant.size:
            beta[constant[0]] = np.log(max(y.mean(), 1e-12)) / Z[0, constant[0]]
    zy = Z.T @ y
    value, rate = _likelihood_and_rate(Z, y, beta)
    for _ in range(iterations):
        hessian = (Z.T * rate) @ Z + ridge * np.eye(Z.shape[1])
        step = np.linalg.solve(hessian, zy - Z.T @ rate)
        for _ in range(30):  # halve the step until the likelihood does not fall
            trial = beta + step
            new, trial_rate = _likelihood_and_rate(Z, y, trial)
            if new >= value - 1e-9:
                break
            step = step / 2
        beta, improvement, value, rate = trial, new - value, new, trial_rate
        if abs(improvement) < 1e-8 * max(1.0, abs(value)):
            break
    return beta


def _likelihood_and_rate(Z: np.ndarray, y: np.ndarray, beta: np.ndarray) -> tuple[float, np.ndarray]:
    eta = np.clip(Z @ beta, -50, 50)
    rate = np.exp(eta)
    return float(y @ eta - rate.sum()), rate


def poisson_log_likelihood(X: np.ndarray, y: np.ndarray, beta: np.ndarray) -> float:
    """Log-likelihood of 0/1 counts `y` under per-sample rates exp(X beta) (constant terms dropped)."""
    return _likelihood_and_rate(X, y, beta)[0]


@dataclass(frozen=True)
class Selection:
    """Which candidate terms a forward selection kept, in the order they were added, with the
    held-out score after each (`scores[0]` is the base model's) and why it stopped."""

    kept: tuple[str, ...]
    scores: tuple[float, ...]
    why: str


def blocks(n: int, k: int) -> list[np.ndarray]:
    """`k` contiguous blocks of sample indices 0..n-1: held-out folds that keep time order (samples
    0.1 ms apart are not independent, so random folds would score a fit on its own neighbours)."""
    edges = np.linspace(0, n, k + 1).astype(int)
    return [np.arange(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True)]


GRAM_ROWS = 100_000
"""Samples stacked at a time while summing a Gram matrix: the columns are never stacked whole (a grid
of 64 gate columns over 5 minutes at 10 kHz would be 2 GB more)."""


def _gram(columns: Sequence[np.ndarray], scale: np.ndarray, y: np.ndarray, start: int, stop: int):
    """(X'X, X'y, y'y) over samples start..stop-1 of the scaled columns, a chunk of rows at a time."""
    width = scale.size
    g, c, yy = np.zeros((width, width)), np.zeros(width), 0.0
    for a in range(start, stop, GRAM_ROWS):
        b = min(stop, a + GRAM_ROWS)
        X = np.concatenate([col[a:b] for col in columns], axis=1) / scale
        g += X.T @ X
        c += X.T @ y[a:b]
        yy += float(y[a:b] @ y[a:b])
    return g, c, yy


def forward_select_ls(base: np.ndarray, candidates: Mapping[str, np.ndarray], y: np.ndarray, *, folds: int = 4,
                      gain: float = 0.002, exclusive: Sequence[Sequence[str]] = (), at_most: int = 8,
                      sign: Mapping[str, float] | None = None) -> Selection:
    """Forward selection for least squares: add candidate columns to `base` one at a time, each time
    the one with the lowest held-out squared error over `folds` blocks, computed from each fold's
    Gram matrix: the sums of products of every column pair are formed once, after which any subset's
    fit and held-out error cost a small solve, so dozens of candidates (a grid of gates, say) are
    affordable. A term joins when it cuts the held-out squared error by more than `gain` (relative);
    a candidate named in `sign` joins only with a coefficient of that sign (an inward current must
    not come out outward)."""
    names = list(candidates)
    columns_of = [base, *[np.asarray(candidates[k])[:, None] for k in names]]
    scale = np.concatenate([np.maximum(np.max(np.abs(c), axis=0), 1e-300) for c in columns_of])
    n, nb = base.shape[0], base.shape[1]
    parts = [_gram(columns_of, scale, y, held[0], held[-1] + 1) for held in blocks(n, folds)]
    gram, cross = sum(p[0] for p in parts), sum(p[1] for p in parts)

    def held_out_error(columns: list[int]) -> tuple[float, list[np.ndarray]]:
        total, fits = 0.0, []
        for g, c, yy in parts:
            idx = np.array(columns)
            coef = np.linalg.lstsq((gram - g)[np.ix_(idx, idx)], (cross - c)[idx], rcond=None)[0]
            total += yy - 2 * coef @ c[idx] + coef @ g[np.ix_(idx, idx)] @ coef
            fits.append(coef)
        return total, fits

    kept: list[str] = []
    current, _ = held_out_error(list(range(nb)))
    scores = [-current]
    while len(kept) < at_most:
        banned = {c for group in exclusive if set(group) & set(kept) for c in group}
        trials = {}
        for name in names:
            if name in kept or name in banned:
                continue
            columns = [*range(nb), *[nb + names.index(k) for k in [*kept, name]]]
            error, fits = held_out_error(columns)
            if sign and name in sign and not all(np.sign(f[-1]) == np.sign(sign[name]) for f in fits):
                continue
            trials[name] = error
        if not trials:
            return Selection(tuple(kept), tuple(scores), "no candidate left to add")
        name = min(trials, key=lambda k: trials[k])
        if not trials[name] < current * (1 - gain):
            return Selection(tuple(kept), tuple(scores), f"the best next term ({name}) cut the held-out error by "
                                                          f"{1 - trials[name] / current:.2%}, less than {gain:.1%}")
        kept.append(name)
        current = trials[name]
        scores.append(-current)
    return Selection(tuple(kept), tuple(scores), f"stopped at {at_most} terms")


SCREEN = 6
"""Candidates the Poisson selection scores on every held-out block, of those best on the first."""


def forward_select_glm(base: np.ndarray, candidates: Mapping[str, np.ndarray], y: np.ndarray, *, folds: int = 4,
                       least: float = 2.0, exclusive: Sequence[Sequence[str]] = (), at_most: int = 8) -> Selection:
    """Forward selection (as `forward_select_ls`) for the Poisson regression, every trial fit started from the current
    model's fit on the same fold with the new term at 0 (a few Newton steps instead of a dozen): a
    term joins when it gains more than `least` nats of held-out log-likelihood."""
    names = list(candidates)
    X = np.column_stack([base, *[candidates[k] for k in names]])
    X /= np.maximum(np.abs(X).max(axis=0), 1e-300)  # scaled once, not per trial fit; weights stay internal
    n, nb = X.shape[0], base.shape[1]
    splits = [(np.setdiff1d(np.arange(n), held), held) for held in blocks(n, folds)]

    def cross_validated(columns: list[int], starts: list[np.ndarray | None], only: int | None = None
                        ) -> tuple[float, list[np.ndarray]]:
        total, fits, idx = 0.0, [], np.asarray(columns, dtype=int)
        for k, ((train, held), start) in enumerate(zip(splits, starts, strict=True)):
            if only is not None and k != only:
                continue
            beta = _newton(X[np.ix_(train, idx)], y[train], start, NEWTON_ITERATIONS, RIDGE)
            total += poisson_log_likelihood(X[np.ix_(held, idx)], y[held], beta)
            fits.append(beta)
        return total, fits

    kept: list[str] = []
    current, betas = cross_validated(list(range(nb)), [None] * folds)
    scores = [current]
    while len(kept) < at_most:
        banned = {c for group in exclusive if set(group) & set(kept) for c in group}
        columns = [*range(nb), *[nb + names.index(k) for k in kept]]
        open_ = [name for name in names if name not in kept and name not in banned]
        # screened on one held-out block, the few best are scored on every block
        screen = {name: cross_validated([*columns, nb + names.index(name)], [np.append(b, 0.0) for b in betas],
                                        only=0)[0] for name in open_}
        best = sorted(open_, key=lambda k: -screen[k])[:SCREEN]
        trials = {name: cross_validated([*columns, nb + names.index(name)], [np.append(b, 0.0) for b in betas])
                  for name in best}
        if not trials:
            return Selection(tuple(kept), tuple(scores), "every candidate is in the model")
        name = max(trials, key=lambda k: trials[k][0])
        if not trials[name][0] > current + least:
            return Selection(tuple(kept), tuple(scores), f"the best next term ({name}) gained too little on held-out "
                                                          f"blocks ({trials[name][0] - current:.3g} nats)")
        kept.append(name)
        current, betas = trials[name]
        scores.append(current)
    return Selection(tuple(kept), tuple(scores), f"stopped at {at_most} terms")
