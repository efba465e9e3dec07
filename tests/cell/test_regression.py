"""Least-squares helpers of the cell fit: weights for residuals whose spread changes with voltage."""

import numpy as np
import pytest

from discover.cell._regression import least_squares, noise_weights


def _heteroscedastic(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    v = rng.uniform(-80.0, 0.0, 20_000)
    spread = np.where(v > -30.0, 10.0, 1.0)  # ten times noisier near 0 mV, as a real membrane's dV/dt
    X = np.column_stack([v, np.ones(v.size)])
    return v, X, -0.05 * v - 3.0 + spread * rng.standard_normal(v.size)


def test_noise_weights_follow_the_residual_spread():
    v, X, y = _heteroscedastic(0)
    w = noise_weights(v, X, y)
    assert np.mean(w**2) == pytest.approx(1.0)
    assert np.median(w[v < -40.0]) / np.median(w[v > -20.0]) == pytest.approx(10.0, rel=0.1)


def test_weighted_least_squares_is_the_sharper_estimate():
    errors = []
    for seed in range(10):
        v, X, y = _heteroscedastic(seed)
        w = noise_weights(v, X, y)
        errors.append((least_squares(X, y)[0] + 0.05, least_squares(X * w[:, None], y * w)[0] + 0.05))
    ordinary, weighted = np.sqrt(np.mean(np.square(errors), axis=0))
    assert weighted < 0.5 * ordinary  # theory: about 0.3 for these spreads
