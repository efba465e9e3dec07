"""Short trajectory windows starting at observed samples: the unit of multiple shooting."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
import torch
from scipy.signal import savgol_filter

from ..data import Trajectories
from ._solvers import RHS, integrate_windows


@runtime_checkable
class Fusable(Protocol):
    """A right-hand side that can fold itself into a faster one for one integration (`ude.HybridODE`)."""

    def fused(self) -> RHS: ...


def state_scale(data: Trajectories) -> np.ndarray:
    """Each state's standard deviation over every trajectory and time of `data` (never 0): the scale
    every re-simulation error divides by."""
    return data.y.reshape(-1, data.y.shape[-1]).std(0) + 1e-12


class Windows:
    """Every window of `length` steps in `data`, batched on demand.

    The loss of a batch integrates `f` from each window's first observation and compares the
    rest with the observations, each state scaled by its standard deviation over the data (or
    by `scale`: a short stretch near a fixed point has almost none, and would weigh noise as error).
    """

    def __init__(self, data: Trajectories, length: int, dtype: torch.dtype, scale: np.ndarray | None = None,
                 device: torch.device | str = "cpu") -> None:
        self.dt, self.length = data.dt, length
        self.y = torch.as_tensor(data.y, dtype=dtype, device=device)
        self.u = torch.as_tensor(data.u, dtype=dtype, device=device)
        if scale is None:
            scale = state_scale(data)
        self.scale = torch.as_tensor(scale, dtype=dtype, device=device)
        n_traj, n_t = data.y.shape[:2]
        traj, start = np.meshgrid(np.arange(n_traj), np.arange(n_t - length), indexing="ij")
        self._traj = torch.as_tensor(traj.ravel())[:, None]
        self._start = torch.as_tensor(start.ravel())[:, None]
        self._span = torch.arange(length + 1)

    @property
    def starts(self) -> np.ndarray:
        """Each window's first sample in its trajectory, in window order."""
        return self._start.numpy().ravel()

    def __len__(self) -> int:
        return len(self._traj)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.choice(len(self), size=min(size, len(self)), replace=False)

    def batch(self, idx: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """Observed states and inputs of windows `idx`: `(len(idx), length + 1, n)` each."""
        rows = torch.as_tensor(idx)
        traj, steps = self._traj[rows], self._start[rows] + self._span
        return self.y[traj, steps], self.u[traj, steps]

    def loss(self, f: RHS, idx: np.ndarray, solver: str = "rk4", substeps: int = 1, stride: int = 1) -> torch.Tensor:
        obs, inp = self.batch(idx)
        # fold the networks once for this whole integration; not for the adjoint, which finds the
        # parameters to differentiate through the module it integrates
        if isinstance(f, Fusable) and solver != "adjoint-dopri5":
            f = f.fused()
        pred = integrate_windows(f, obs[:, 0], inp, self.dt, solver, substeps, stride)
        return (((pred[:, 1:] - obs[:, 1:]) / self.scale) ** 2).mean()


def noise_level(data: Trajectories) -> np.ndarray:
    """Each state's observation-noise s.d., estimated from what a Savitzky–Golay smoother (7 samples,
    cubic) leaves: the median absolute residual, scaled to an s.d. (1.4826) and for the part of the
    noise the smoother keeps (its centre weight 1/3: residual variance = (1 - 1/3) sigma^2)."""
    if data.t.size < 7:
        return np.zeros(data.y.shape[-1])
    smooth = savgol_filter(data.y, window_length=7, polyorder=3, axis=1)
    residual = (data.y - smooth).reshape(-1, data.y.shape[-1])
    return 1.4826 * np.median(np.abs(residual), axis=0) / np.sqrt(2 / 3)


STRIDES = (1, 2, 4, 5, 8, 10)
STRIDE_TOLERANCE = 0.5  # largest integration error allowed, in units of the noise s.d.


def choose_stride(f: RHS, windows: Windows, noise: np.ndarray, rng: np.random.Generator,
                  strides: tuple[int, ...] = STRIDES, n_windows: int = 256) -> tuple[int, float]:
    """The longest RK4 step among `strides` (in samples; those that divide the window) whose error
    on `n_windows` windows stays within `STRIDE_TOLERANCE` x the noise s.d. of every state, and that
    error in noise s.d.s. Pass one stride to measure its error alone (it is then chosen whatever it is;
    its error is NaN where no state has measurable noise).

    The error is measured against one step per sample, with the model as it is (the pre-fitted one,
    in training). Noise-free data leave no room, so they keep one step per sample. A noise-free state
    among noisy ones (a trace computed from spike times, say) is judged by the others alone: its
    tolerance would be zero, whatever the step.
    """
    noisy = noise > 1e-6 * windows.scale.double().cpu().numpy()
    if not noisy.any():  # nothing to measure the error against
        return (1, 0.0) if len(strides) > 1 else (strides[0], float("nan"))
    obs, inp = windows.batch(windows.sample(rng, n_windows))
    chosen, worst = 1, 0.0
    with torch.no_grad():
        fine = integrate_windows(f, obs[:, 0], inp, windows.dt)[..., noisy]
        sd = torch.as_tensor(noise[noisy], dtype=fine.dtype, device=fine.device)
        for stride in (s for s in strides if s > 1 and windows.length % s == 0):
            coarse = integrate_windows(f, obs[:, 0], inp, windows.dt, stride=stride)[..., noisy]
            error = ((coarse - fine).abs() / sd).max().item()
            if len(strides) > 1 and not error <= STRIDE_TOLERANCE:  # NaN included
                break
            chosen, worst = stride, error
    return chosen, worst
