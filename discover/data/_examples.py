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


def _morris_lecar(n_train: int, n_heldout: int, noise: float, seed: int,
                  duration: float) -> tuple[Trajectories, Trajectories]:
    """Current-clamp sweeps of Morris-Lecar from rest, sampled every 0.5 ms: a step from a tenth to
    85 % of the sweep, amplitudes 60-120 uA/cm^2 spread over the sweeps (subthreshold to tonic
    firing), the held-out ones between training ones. `noise` as for every example; `seed` seeds it."""
    from ..models import morris_lecar

    system, n = morris_lecar(), n_train + n_heldout
    t = np.arange(0.0, duration + 1e-9, 0.5)
    held = set(np.linspace(1, n - 2, n_heldout).round().astype(int)) if n > 2 else {n - 1}
    order = [*(k for k in range(n) if k not in held), *sorted(held)]  # held out: interior amplitudes
    amplitudes = np.linspace(60.0, 120.0, n)[order]
    current = amplitudes[:, None] * ((t >= 0.1 * duration) & (t < 0.85 * duration))
    rest = simulate(system, np.array([[-60.0, 0.0]]), np.linspace(0.0, 500.0, 501), {"I": 0.0}).y[0, -1]
    data = simulate(system, np.repeat(rest[None], n, 0), t, {"I": current}, noise=noise, seed=seed)
    return data.select(slice(0, n_train)), data.select(slice(n_train, None))


EXAMPLES = {"fitzhugh_nagumo": _fitzhugh_nagumo, "morris_lecar": _morris_lecar}
DURATIONS = {"fitzhugh_nagumo": 100.0, "morris_lecar": 1000.0}  # each example's default, in its time unit


def example_data(
    name: str = "fitzhugh_nagumo", *, n_train: int = 5, n_heldout: int = 2, noise: float = 0.01,
    seed: int = 0, duration: float | None = None,
) -> tuple[Trajectories, Trajectories]:
    """Simulated example data: `(training, held_out)` trajectories.

    `fitzhugh_nagumo`: the FitzHugh–Nagumo model with I = 0.5, initial conditions drawn
    uniformly from v in [-2, 2], w in [-1, 2], sampled every 0.1 on [0, `duration`] (default 100),
    Gaussian noise of `noise` x each state's standard deviation.

    `morris_lecar`: current-clamp sweeps of Morris–Lecar (V in mV, w; I in uA/cm^2) from rest,
    sampled every 0.5 ms for `duration` ms (default 1000): a step of 60-120 uA/cm^2 from a tenth
    to 85 % of each sweep, the held-out amplitudes between the training ones; noise as above.
    The data for learning a gate's kinetics (`GateKinetics`, with w dropped).
    """
    if name not in EXAMPLES:
        raise ConfigError(f"no example data {name!r}; available: {sorted(EXAMPLES)}.{did_you_mean(name, EXAMPLES)}")
    for arg, value in (("n_train", n_train), ("n_heldout", n_heldout)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ConfigError(f"`{arg}` must be a whole number of trajectories >= 1, got {value!r}.")
    duration = DURATIONS[name] if duration is None else duration
    if isinstance(duration, bool) or not isinstance(duration, (int, float)) or not 1.0 <= duration < np.inf:
        raise ConfigError(f"`duration` must be a finite time >= 1 (the example's time unit), got {duration!r}.")
    return EXAMPLES[name](n_train, n_heldout, noise, seed, duration)
