"""Gated terms: a Boltzmann sigmoid of a weighted sum of the features, times a linear driving force.

A grid of one-feature sigmoids (`_library`) covers gates that depend on one variable, such as
m_inf(V). Rate and LTC neurons gate on a weighted sum: Wilson-Cowan's (1 - r E) S(a (c1 E - c2 I + P - theta)),
an LTC neuron's sigmoid(w_x x + w_I I + mu) (A - x). No grid covers every direction in feature
space, so the sigmoid's weights are fitted (variable projection from several starts: the linear
coefficients are solved for each trial of the weights) and the driving force's terms chosen by
trying each subset of them.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import sympy as sp
from scipy.optimize import least_squares

STARTS = 12  # random starts of the sigmoid's weights: its fit has local minima


def gate_terms(X: np.ndarray, y: np.ndarray, names: Sequence[str], seed: int = 0) -> list[tuple[sp.Expr, str]]:
    """Gated candidates for `y` at samples `X` (columns `names`): for each non-empty subset of the
    driving force's terms {1, each feature}, sum_k a_k z_k / (1 + exp(-(w . z + c))) with w, c
    and a fitted; the sigmoid's weights are those of the full driving force's best fit, refit for
    each subset. Returns (expression, source) pairs."""
    mean, sd = X.mean(0), X.std(0)
    sd = np.where(sd > 0, sd, 1.0)
    Z = (X - mean) / sd  # standardised: one scale of weights for every feature
    if len(y) > 3000:  # a few weights need few samples; keeps the multi-start fit fast
        rows = np.random.default_rng(seed).choice(len(y), 3000, replace=False)
        Z, X, y = Z[rows], X[rows], y[rows]
    forces = np.column_stack([np.ones(len(y)), X])
    full = tuple(range(forces.shape[1]))
    p = _fit(Z, forces, y, full, _starts(Z.shape[1], seed))
    if p is None:
        return []
    out = []
    symbols = [sp.Symbol(n, real=True) for n in names]
    for k in range(1, len(full) + 1):
        for subset in itertools.combinations(full, k):
            q = p if subset == full else _fit(Z, forces, y, subset, [p])
            if q is None:
                continue
            coef = np.linalg.lstsq(_design(Z, forces, subset, q), y, rcond=None)[0]
            out.append((_expression(q, coef, subset, mean, sd, symbols), f"sparse (gate, {len(subset)}-term force)"))
    return out


def _starts(n_features: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [np.concatenate([rng.normal(0, 1.5, n_features), rng.normal(0, 1, 1)]) for _ in range(STARTS)]


def _design(Z, forces, subset, p) -> np.ndarray:
    with np.errstate(over="ignore"):
        gate = 1 / (1 + np.exp(-(Z @ p[:-1] + p[-1])))
    return forces[:, list(subset)] * gate[:, None]


def _fit(Z, forces, y, subset, starts) -> np.ndarray | None:
    """The sigmoid's weights (standardised features, then offset) fitting `y` best from `starts`."""
    def residual(p):
        A = _design(Z, forces, subset, p)
        return A @ np.linalg.lstsq(A, y, rcond=None)[0] - y

    best, cost = None, np.inf
    for p0 in starts:
        fit = least_squares(residual, p0, max_nfev=200)
        if np.isfinite(fit.cost) and fit.cost < cost and np.all(np.abs(fit.x) < 50):  # not a step function
            best, cost = fit.x, fit.cost
    return best


def _expression(p, coef, subset, mean, sd, symbols) -> sp.Expr:
    """The gated term in the features' own units: w . (x - mean)/sd + c = (w/sd) . x + (c - w . mean/sd)."""
    w = p[:-1] / sd
    argument = sum((sp.Float(wi, 6) * s for wi, s in zip(w, symbols, strict=True)), sp.Float(p[-1] - w @ mean, 6))
    force = [sp.Integer(1), *symbols]
    gated = sum((sp.Float(a, 6) * force[j] for a, j in zip(coef, subset, strict=True)), sp.Integer(0))
    return gated / (1 + sp.exp(-argument))


__all__ = ["gate_terms"]
