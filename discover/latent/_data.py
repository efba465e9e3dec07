"""Population recordings: spike counts of many neurons in time bins, and synthetic ones with a known latent truth."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import DataError
from .._npz import open_npz
from ..data import simulate
from ..equations import EquationSystem
from ..models import fitzhugh_nagumo


@dataclass(frozen=True, eq=False)
class Population:
    """Binned spike counts of a neural population, trial by trial.

    **Arguments:**
    - `counts`: spike counts, shape `(n_trials, n_bins, n_neurons)`, whole numbers >= 0.
    - `dt`: the bin width, in the latent dynamics' time unit.
    - `latents`, `rates`: the truth, for synthetic data only: latent states `(n_trials, n_bins,
      n_latents)` and expected counts per bin `(n_trials, n_bins, n_neurons)`.
    - `latent_names`: the names of the true latent states (e.g. `("x", "y", "z")`).
    """

    counts: np.ndarray
    dt: float
    latents: np.ndarray | None = None
    rates: np.ndarray | None = None
    latent_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        counts = np.asarray(self.counts)
        if counts.ndim != 3 or min(counts.shape) < 1:
            raise DataError(f"`counts` must have shape (n_trials, n_bins, n_neurons), got {counts.shape}; "
                            "bin each trial's spike times into a (bins, neurons) array and stack the trials.")
        if not np.all(np.isfinite(counts)) or np.any(counts < 0) or np.any(counts != np.round(counts)):
            raise DataError("`counts` must be whole numbers >= 0 (spikes per bin); found negative, fractional, "
                            "NaN or infinite values. Pass spike counts, not rates or smoothed traces.")
        if counts.shape[1] < 3:
            raise DataError(f"each trial needs at least 3 bins to follow dynamics, got {counts.shape[1]}.")
        if isinstance(self.dt, bool) or not isinstance(self.dt, (int, float)) or not 0 < self.dt < np.inf:
            raise DataError(f"`dt` (the bin width) must be a positive number, got {self.dt!r}.")
        object.__setattr__(self, "counts", counts.astype(np.float64))
        for name in ("latents", "rates"):
            value = getattr(self, name)
            if value is not None and np.shape(value)[:2] != counts.shape[:2]:
                raise DataError(f"`{name}` must have one row per trial and bin {counts.shape[:2]}, "
                                f"got shape {np.shape(value)}.")

    @property
    def n_trials(self) -> int:
        return self.counts.shape[0]

    @property
    def n_neurons(self) -> int:
        return self.counts.shape[2]

    def select(self, trials: slice | np.ndarray) -> Population:
        def pick(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a[trials]

        return Population(self.counts[trials], self.dt, pick(self.latents), pick(self.rates), self.latent_names)

    def save_npz(self, path: str | Path) -> Path:
        """Write `counts`, `dt` and, where present, `latents`, `rates` and `latent_names` (read back by `load_npz`)."""
        arrays = {"counts": self.counts, "dt": np.float64(self.dt)}
        arrays.update({k: getattr(self, k) for k in ("latents", "rates") if getattr(self, k) is not None})
        if self.latent_names:
            arrays["latent_names"] = np.array(self.latent_names)
        np.savez(path, **arrays)
        return Path(path)

    @classmethod
    def load_npz(cls, path: str | Path) -> Population:
        """Read spike counts from an .npz: `counts` `(n_trials, n_bins, n_neurons)` and `dt` (the bin
        width) are required; `latents`, `rates` and `latent_names` (a known truth) are optional. Never unpickles."""
        with open_npz(path) as f:  # a missing, foreign or damaged file: one DataError naming it
            keys = set(f.files)
            if not {"counts", "dt"} <= keys:
                raise DataError(f"{str(path)!r} has arrays {sorted(keys)}; a population file needs `counts` "
                                "(n_trials, n_bins, n_neurons) and `dt` (the bin width), e.g. "
                                "numpy.savez(path, counts=counts, dt=0.01).")
            if f["dt"].size != 1:
                raise DataError(f"{str(path)!r}: `dt` must be one number (the bin width), got shape {f['dt'].shape}.")
            names = tuple(str(s) for s in f["latent_names"]) if "latent_names" in keys else ()
            return cls(f["counts"], float(f["dt"]), f["latents"] if "latents" in keys else None,
                       f["rates"] if "rates" in keys else None, names)


def lorenz() -> EquationSystem:
    """The Lorenz (1963) system with its classic chaotic parameters."""
    return EquationSystem.from_text(
        ["dx/dt = sigma*(y - x)", "dy/dt = x*(rho - z) - y", "dz/dt = x*y - beta*z"],
        parameters={"sigma": 10.0, "rho": 28.0, "beta": 8.0 / 3.0}, name="lorenz",
    )


def population_from_system(
    system: EquationSystem, y0: np.ndarray | Sequence[float], *, inputs: Mapping[str, float] | None = None,
    n_neurons: int = 50, n_trials: int = 200, n_bins: int = 100,
    dt: float = 0.01, mean_count: float = 1.0, gain: float = 0.6, burn_in: float = 5.0, seed: int = 0,
) -> Population:
    """Latent trajectories of `system` observed through Poisson neurons with a random readout.

    `y0` one state: one long run from it (its first `burn_in` time units dropped, so trials start on
    the attractor) is cut into `n_trials` windows of `n_bins` bins at random starts. `y0` one state
    per trial `(n_trials, n_states)`: each trial starts there (for systems that settle, such as a
    damped oscillator). Each neuron's log rate is a random linear map of the standardised latents:
    log E[count] = log(mean_count * b_k) + gain * C_k·x, with b_k ~ U(0.5, 2) and C ~ N(0, 1).
    """
    rng = np.random.default_rng(seed)
    y0 = np.atleast_2d(np.asarray(y0, dtype=float))
    if len(y0) == n_trials and n_trials > 1:
        latents = simulate(system, y0, np.arange(n_bins) * dt, inputs or {}, seed=seed).y
    else:
        length = max(20 * n_bins, n_trials * n_bins // 4)
        t = np.arange(0.0, burn_in + length * dt, dt)
        run = simulate(system, y0[:1], t, inputs or {}, seed=seed).y[0][int(round(burn_in / dt)):]
        starts = rng.integers(0, len(run) - n_bins, n_trials)
        latents = np.stack([run[s:s + n_bins] for s in starts])
    flat = latents.reshape(-1, latents.shape[-1])
    standard = (latents - flat.mean(0)) / flat.std(0)
    readout = rng.normal(0.0, 1.0, size=(len(system.states), n_neurons)) * gain
    baseline = np.log(mean_count * rng.uniform(0.5, 2.0, n_neurons))
    rates = np.exp(standard @ readout + baseline)
    counts = rng.poisson(rates)
    return Population(counts, dt, latents, rates, tuple(system.states))


def lorenz_population(**kwargs: Any) -> Population:
    """The Lorenz benchmark: a 3-D chaotic latent system seen through Poisson neurons (default 50;
    keywords of `population_from_system`)."""
    return population_from_system(lorenz(), [1.0, 1.0, 25.0], **kwargs)


def fitzhugh_nagumo_population(**kwargs: Any) -> Population:
    """A 2-D limit cycle (FitzHugh-Nagumo, I = 0.5) seen through Poisson neurons."""
    kwargs = {"dt": 0.5, "burn_in": 100.0, **kwargs}
    return population_from_system(fitzhugh_nagumo(), [-1.0, 1.0], inputs={"I": 0.5}, **kwargs)
