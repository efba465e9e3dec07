"""Built-in example data sets, simulated on demand (nothing to download)."""

from __future__ import annotations

import numpy as np

from .._errors import ConfigError, did_you_mean
from ._simulate import simulate
from ._trajectories import Trajectories


def _fitzhugh_nagumo(n_train: int, n_heldout: int, noise: float, seed: int, duration: float) -> tuple[Trajectories, Trajectories]:
    from ..models import fitzhugh_nagumo

    rng = np.random.default_rng(seed)
    y0 = rng.uniform([-2.0, -1.0], [2.0, 2.0], size=(n_train + n_heldout, 2))
    t = np.arange(0.0, duration + 1e-9, 0.1)
    data = simulate(fitzhugh_nagumo(), y0, t, {"I": 0.5}, noise=noise, seed=seed)
    return data.select(slice(0, n_train)), data.select(slice(n_train, None))


EXAMPLES = {"fitzhugh_nagumo": _fitzhugh_nagumo}


def example_data(
    name: str = "fitzhugh_nagumo", *, n_train: int = 5, n_heldout: int = 2, noise: float = 0.01,
    seed: int = 0, duration: float = 100.0,
) -> tuple[Trajectories, Trajectories]:
    """Simulated example data: `(training, held_out)` trajectories from distinct initial conditions.

    `fitzhugh_nagumo`: the FitzHugh–Nagumo model with I = 0.5, initial conditions drawn
    uniformly from v in [-2, 2], w in [-1, 2], sampled every 0.1 on [0, `duration`], Gaussian
    noise of `noise` x each state's standard deviation.
    """
    if name not in EXAMPLES:
        raise ConfigError(f"no example data {name!r}; available: {sorted(EXAMPLES)}.{did_you_mean(name, EXAMPLES)}")
    if n_train < 1 or n_heldout < 1:
        raise ConfigError(f"need at least one training and one held-out trajectory, got {n_train} and {n_heldout}.")
    return EXAMPLES[name](n_train, n_heldout, noise, seed, duration)
