"""Built-in example data sets, simulated on demand (nothing to download)."""

from __future__ import annotations

import numpy as np

from .._errors import ConfigError, did_you_mean
from ._simulate import simulate
from ._trajectories import Trajectories


def _fitzhugh_nagumo(n_train: int, n_heldout: int, noise: float, seed: int,
                     duration: float) -> tuple[Trajectories, Trajectories]:
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
    for arg, value in (("n_train", n_train), ("n_heldout", n_heldout)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ConfigError(f"`{arg}` must be a whole number of trajectories >= 1, got {value!r}.")
    if isinstance(duration, bool) or not isinstance(duration, (int, float)) or not 1.0 <= duration < np.inf:
        raise ConfigError(f"`duration` must be a finite time >= 1 (samples are 0.1 apart), got {duration!r}.")
    return EXAMPLES[name](n_train, n_heldout, noise, seed, duration)
