"""Short trajectory windows starting at observed samples: the unit of multiple shooting."""

from __future__ import annotations

import numpy as np
import torch

from ..data import Trajectories
from ._solvers import RHS, integrate_windows


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

    def __init__(self, data: Trajectories, length: int, dtype: torch.dtype, scale: np.ndarray | None = None) -> None:
        self.dt, self.length = data.dt, length
        self.y = torch.as_tensor(data.y, dtype=dtype)
        self.u = torch.as_tensor(data.u, dtype=dtype)
        if scale is None:
            scale = state_scale(data)
        self.scale = torch.as_tensor(scale, dtype=dtype)
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

    def loss(self, f: RHS, idx: np.ndarray, solver: str = "rk4", substeps: int = 1) -> torch.Tensor:
        idx = torch.as_tensor(idx)
        traj, steps = self._traj[idx], self._start[idx] + self._span
        obs, inp = self.y[traj, steps], self.u[traj, steps]
        pred = integrate_windows(f, obs[:, 0], inp, self.dt, solver, substeps)
        return (((pred[:, 1:] - obs[:, 1:]) / self.scale) ** 2).mean()
