"""Input waveforms for simulation: steps, ramps, chirps and coloured noise, as functions of time."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._errors import DataError


@dataclass(frozen=True)
class Step:
    """`baseline` outside [start, stop), `baseline + amplitude` inside."""

    amplitude: float
    start: float
    stop: float = np.inf
    baseline: float = 0.0

    def __call__(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=float)
        return self.baseline + self.amplitude * ((t >= self.start) & (t < self.stop))


@dataclass(frozen=True)
class Ramp:
    """Linear from `start_value` at `start` to `end_value` at `stop`, constant outside."""

    start_value: float
    end_value: float
    start: float
    stop: float

    def __call__(self, t: np.ndarray) -> np.ndarray:
        if self.stop <= self.start:
            raise DataError(f"Ramp needs stop > start, got start={self.start}, stop={self.stop}.")
        return np.interp(np.asarray(t, dtype=float), [self.start, self.stop], [self.start_value, self.end_value])


@dataclass(frozen=True)
class Chirp:
    """ZAP current: `offset + amplitude * sin(phase)`, frequency sweeping linearly f0 -> f1 over `duration`.

    Frequencies are in cycles per unit of t (1/ms gives kHz: use 0.001 for 1 Hz when t is in ms).
    """

    amplitude: float
    f0: float
    f1: float
    duration: float
    offset: float = 0.0

    def __call__(self, t: np.ndarray) -> np.ndarray:
        t = np.clip(np.asarray(t, dtype=float), 0, self.duration)
        k = (self.f1 - self.f0) / self.duration
        return self.offset + self.amplitude * np.sin(2 * np.pi * (self.f0 * t + k * t**2 / 2))


@dataclass(frozen=True)
class Noise:
    """Ornstein–Uhlenbeck (coloured) noise: mean `mean`, stationary s.d. `std`, correlation time `tau`.

    Deterministic for a given `seed` and time grid, so simulations are reproducible.
    """

    mean: float
    std: float
    tau: float
    seed: int = 0

    def __call__(self, t: np.ndarray) -> np.ndarray:
        t = np.atleast_1d(np.asarray(t, dtype=float))
        if self.tau <= 0 or self.std < 0:
            raise DataError(f"Noise needs tau > 0 and std >= 0, got tau={self.tau}, std={self.std}.")
        rng = np.random.default_rng(self.seed)
        x = np.empty_like(t)
        x[0] = rng.normal() * self.std
        for i in range(1, t.size):  # exact OU update for any step size
            decay = np.exp(-(t[i] - t[i - 1]) / self.tau)
            x[i] = x[i - 1] * decay + self.std * np.sqrt(1 - decay**2) * rng.normal()
        return self.mean + x
