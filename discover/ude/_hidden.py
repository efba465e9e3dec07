"""Hidden states: states of the model that the data do not record (an adaptation current, a
recovery variable). The known model supplies their dynamics; what is learned is where each one
starts, per window.

A hidden state's trajectory along the data is *driven*: its known equation is integrated with the
recorded states and inputs read off the samples, from a start learned per trajectory with the
networks (`HiddenWindows`), so a wrong guess of where the hidden state started does not bias them.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.optimize import root
from torch import nn

from .._errors import DataError, FitError
from ..data import Trajectories
from ..equations import EquationSystem, compile_numpy
from ..integrate import RHS, Windows, integrate_windows


def hidden_states(system: EquationSystem, data: Trajectories) -> tuple[str, ...]:
    """The states of `system` that `data` does not record, after checking that what it records
    is the rest of the system's states, in order, and that the hidden ones need no network."""
    hidden = tuple(s for s in system.states if s not in data.states)
    recorded = tuple(s for s in system.states if s in data.states)
    if tuple(data.states) != recorded or len(recorded) != len(data.states) or not recorded:
        extra = [s for s in data.states if s not in system.states]
        hint = f"; {extra} are not states of the system" if extra else ""
        raise DataError(
            f"data states {list(data.states)} must be the system's states {list(system.states)} in that order, "
            f"or some of them (the rest are then hidden, i.e. not recorded){hint}; rename or reorder the columns."
        )
    for state in hidden:
        if state in system.residuals:
            raise FitError(
                f"state {state!r} is not in the data (hidden) but has a residual network: a hidden state's "
                f"dynamics must be fully known. Record {state!r}, or put the residual on a recorded state "
                f"({list(recorded)}); the network may still take {state!r} as a feature."
            )
    return hidden


def _known_hidden_rhs(system: EquationSystem, hidden: tuple[str, ...]):
    f = compile_numpy(system.without_residuals())
    index = [system.state_index(s) for s in hidden]
    return lambda y, u: np.asarray(f(y, u))[..., index], index


def resting_hidden(system: EquationSystem, data: Trajectories, hidden: tuple[str, ...]) -> np.ndarray:
    """Each trajectory's hidden states where their known dynamics are at rest with the first
    sample's recorded states and inputs held: a start for the driven trace `(n_traj, n_hidden)`.
    Where no rest is found (unstable or no fixed point) the start is 0."""
    g, index = _known_hidden_rhs(system, hidden)
    recorded = [system.state_index(s) for s in data.states]
    y = np.zeros((data.n_trajectories, len(system.states)))
    y[:, recorded] = data.y[:, 0]

    def rate(h: np.ndarray) -> np.ndarray:
        y[:, index] = h.reshape(len(y), len(index))
        return g(y, data.u[:, 0]).ravel()

    with np.errstate(all="ignore"):
        solution = root(rate, np.zeros(y.shape[0] * len(index)), method="hybr")
    start = solution.x.reshape(len(y), len(index))
    return np.where(np.isfinite(start) & solution.success, start, 0.0)


def drive_hidden(system: EquationSystem, data: Trajectories, hidden: tuple[str, ...],
                 initial: np.ndarray | None = None) -> Trajectories:
    """`data` with the hidden states added: their known equations integrated (RK4, one step per
    sample interval) from `initial` (default `resting_hidden`), the recorded states and inputs
    interpolated linearly between samples. The result has every state of `system`, in its order."""
    g, index = _known_hidden_rhs(system, hidden)
    recorded = [system.state_index(s) for s in data.states]
    h = resting_hidden(system, data, hidden) if initial is None else np.asarray(initial, dtype=float)
    full = np.zeros((*data.y.shape[:2], len(system.states)))
    full[..., recorded] = data.y
    dt = data.dt

    def slope(hv: np.ndarray, k: int, frac: float) -> np.ndarray:
        y = full[:, k] + frac * (full[:, k + 1] - full[:, k])  # hidden columns overwritten next
        y[:, index] = hv
        return g(y, data.u[:, k] + frac * (data.u[:, k + 1] - data.u[:, k]))

    with np.errstate(all="ignore"):
        for k in range(data.t.size):
            full[:, k, index] = h
            if k + 1 < data.t.size:
                k1 = slope(h, k, 0.0)
                k2 = slope(h + dt / 2 * k1, k, 0.5)
                k3 = slope(h + dt / 2 * k2, k, 0.5)
                h = h + dt / 6 * (k1 + 2 * (k2 + k3) + slope(h + dt * k3, k, 1.0))
    if not np.all(np.isfinite(full)):
        raise FitError(f"the known equations of the hidden states {list(hidden)} diverged when driven by the "
                       "recorded states; check their equations and units, or record them.")
    return Trajectories(data.t, full, data.u, system.states, data.inputs)


class HiddenWindows(Windows):
    """Windows over data whose `hidden` states are not recorded. Each trajectory's hidden start is
    learned; the hidden values at every window's start follow from it through the known hidden
    equations driven by the recorded states (linearised around the last driven trace, re-driven by
    `redrive`). A window starts from those values, and the hidden values it integrates to are
    compared with the trace further on, weighed like a recorded state.

    (A free value at every sample, the textbook multiple-shooting unknown, let a hidden state drift
    where only the slow known dynamics pin it: FitzHugh-Nagumo's w drifted by a constant that a
    network of v absorbed. Driving from a learned start keeps the known dynamics exact.)
    """

    def __init__(self, data: Trajectories, length: int, dtype: torch.dtype, system: EquationSystem,
                 recorded: Trajectories, start: np.ndarray | None = None) -> None:
        super().__init__(data, length, dtype)
        self.system, self.recorded = system, recorded
        self.hidden = tuple(s for s in system.states if s not in recorded.states)
        self.index = torch.as_tensor([data.states.index(s) for s in self.hidden])
        self.base = self.scale[self.index].clone()
        self.start = nn.Parameter(torch.zeros(data.n_trajectories, len(self.hidden), dtype=dtype))
        self._reference = resting_hidden(system, recorded, self.hidden) if start is None else np.asarray(start)
        self.redrive()

    def redrive(self) -> None:
        """Drive the hidden equations from the current starts, and their sensitivity to the starts
        (finite differences), then count the starts from there."""
        with torch.no_grad():
            self._reference = self._reference + (self.start * self.base).double().numpy()
            self.start.zero_()
        index, dtype, data = self.index.numpy(), self.y.dtype, self.recorded
        steps = 1e-3 * self.base.double().numpy()
        # the trace and one nudged copy per hidden state, driven as one batch (one compile, one loop)
        starts = [self._reference] + [self._reference + step * np.eye(len(index))[j] for j, step in enumerate(steps)]
        copies = len(starts)
        many = Trajectories(data.t, np.tile(data.y, (copies, 1, 1)), np.tile(data.u, (copies, 1, 1)), data.states,
                            data.inputs)
        traces = drive_hidden(self.system, many, self.hidden, np.concatenate(starts)).y[..., index]
        trace, *nudged = np.split(traces, copies)
        # (traj, time, hidden, start)
        sensitivity = np.stack([(n - trace) / step for n, step in zip(nudged, steps, strict=True)], axis=-1)
        self._trace = torch.as_tensor(trace, dtype=dtype)
        self._sensitivity = torch.as_tensor(sensitivity, dtype=dtype)

    def hidden_values(self, traj: torch.Tensor, steps: torch.Tensor) -> torch.Tensor:
        """The hidden values at samples `steps` `(batch, n)` of trajectories `traj` `(batch, 1)`."""
        shift = (self.start * self.base)[traj]
        return self._trace[traj, steps] + (self._sensitivity[traj, steps] * shift[..., None, :]).sum(-1)

    def batch(self, idx: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        rows = torch.as_tensor(idx)
        traj, steps = self._traj[rows], self._start[rows] + self._span
        y = self.y[traj, steps].clone()
        y[..., self.index] = self.hidden_values(traj, steps)
        return y, self.u[traj, steps]

    @property
    def reference(self) -> np.ndarray:
        """The starts the current trace was driven from `(n_traj, n_hidden)`."""
        return self._reference

    def starts_learned(self) -> np.ndarray:
        """Each trajectory's learned hidden start `(n_traj, n_hidden)`."""
        return self._reference + (self.start * self.base).detach().double().numpy()


def fit_hidden_start(f: RHS, system: EquationSystem, data: Trajectories, hidden: tuple[str, ...],
                     samples: int, iterations: int = 50) -> np.ndarray:
    """The hidden states' values at each trajectory's first sample that let the model `f` best
    follow the recorded states over the first `samples` samples (L-BFGS from `resting_hidden`):
    how a trained model starts on data it has not seen, using only their beginning."""
    rest, dtype = resting_hidden(system, data, hidden), torch.get_default_dtype()
    index = [system.state_index(s) for s in hidden]
    recorded = [system.state_index(s) for s in data.states]
    n = min(samples, data.t.size - 1) + 1
    obs = torch.as_tensor(data.y[:, :n], dtype=dtype)
    u = torch.as_tensor(data.u[:, :n], dtype=dtype)
    scale = torch.as_tensor(data.y.reshape(-1, data.y.shape[-1]).std(0) + 1e-12, dtype=dtype)
    start = nn.Parameter(torch.as_tensor(rest, dtype=dtype))
    optimiser = torch.optim.LBFGS([start], max_iter=iterations, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimiser.zero_grad()
        y0 = torch.zeros(len(obs), len(system.states), dtype=dtype)
        y0[:, recorded] = obs[:, 0]
        y0[:, index] = start
        pred = integrate_windows(f, y0, u, data.dt)
        loss = (((pred[:, 1:, recorded] - obs[:, 1:]) / scale) ** 2).mean()
        loss.backward()
        return loss

    optimiser.step(closure)
    value = start.detach().double().numpy()
    return value if np.all(np.isfinite(value)) else rest
