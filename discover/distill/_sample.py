"""Sample a trained residual where the data are, for the regressors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data import Trajectories
from ..ude import UDE


@dataclass(frozen=True, eq=False)
class ResidualSamples:
    """Features and residual values of one state's network, at the observed samples."""

    state: str
    features: tuple[str, ...]
    X: np.ndarray
    y: np.ndarray


def sample_residuals(ude: UDE, data: Trajectories, max_samples: int = 5000, seed: int = 0) -> list[ResidualSamples]:
    """Evaluate each trained residual at the observed states and inputs.

    Sampling at the data (not on a grid or the convex hull) matters: a limit cycle never
    visits its interior, and a network is only trustworthy where it was trained. Features that
    never varied in the data are dropped, since a regression cannot separate them from a constant.
    """
    columns = (*data.states, *data.inputs)
    z = np.concatenate([data.y, data.u], axis=-1).reshape(-1, len(columns))
    if len(z) > max_samples:
        z = z[np.sort(np.random.default_rng(seed).choice(len(z), max_samples, replace=False))]
    out = []
    for state in ude.system.residuals:
        names = ude.system.residual_features(state)
        X = z[:, [columns.index(f) for f in names]]
        y = ude.residual(state, X)
        keep = [i for i, f in enumerate(names) if f not in ude.constant_features_]
        out.append(ResidualSamples(state, tuple(names[i] for i in keep), X[:, keep], y))
    return out
