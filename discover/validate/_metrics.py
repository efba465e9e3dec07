"""Trajectory metrics for re-simulation against held-out data."""

from __future__ import annotations

import numpy as np

from ..data import Trajectories


def trajectory_metrics(predicted: np.ndarray, data: Trajectories) -> dict[str, dict[str, float]]:
    """Per state: RMSE, RMSE normalised by the data's standard deviation (NRMSE), and R².

    A prediction holding NaN (a model that blew up) scores RMSE = inf and R² = -inf, so it
    ranks last instead of crashing whatever compares models.
    """
    out = {}
    for i, state in enumerate(data.states):
        obs, pred = data.y[..., i], predicted[..., i]
        if not np.all(np.isfinite(pred)):
            out[state] = {"rmse": float("inf"), "nrmse": float("inf"), "r2": float("-inf")}
            continue
        mse = float(np.mean((pred - obs) ** 2))
        var = float(np.var(obs)) or 1.0
        out[state] = {"rmse": mse**0.5, "nrmse": (mse / var) ** 0.5, "r2": 1.0 - mse / var}
    return out
