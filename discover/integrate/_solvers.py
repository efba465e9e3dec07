"""Integrate a batch of trajectory windows: fused fixed-step RK4 (default) or torchdiffeq."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numpy as np
import torch
from torch import nn

RHS = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
SOLVERS = ("rk4", "torchdiffeq-rk4", "dopri5", "adjoint-dopri5")
State = TypeVar("State", torch.Tensor, np.ndarray)  # the RK4 steps work on either
DOPRI5_TOLERANCES = {"rtol": 1e-6, "atol": 1e-8}  # torchdiffeq's adaptive solvers (its defaults: 1e-7, 1e-9)


def integrate_windows(f: RHS, y0: torch.Tensor, u: torch.Tensor, dt: float, solver: str = "rk4", substeps: int = 1,
                      stride: int = 1) -> torch.Tensor:
    """Integrate `dy/dt = f(y, u(t))` from `y0` `(batch, n_states)` over the sample grid of `u`.

    `u` has shape `(batch, n_steps + 1, n_inputs)` and is linearly interpolated between samples.
    Returns `(batch, n_steps + 1, n_states)`, the first row being `y0`. Our RK4 takes `substeps`
    steps per sample interval, or (`stride` > 1, which must divide `n_steps`) one step per `stride`
    intervals, the samples in between read off the step's cubic Hermite interpolant.
    """
    if solver == "rk4":
        if stride > 1:
            return _rk4_strided(f, y0, u, dt, stride)
        return _rk4(f, y0, u, dt, substeps)
    return _torchdiffeq(f, y0, u, dt, solver)


def _rk4(f: RHS, y0: torch.Tensor, u: torch.Tensor, dt: float, substeps: int) -> torch.Tensor:
    # One Python loop over steps with all windows batched: per-step overhead is paid once per
    # batch, not per window, which is what makes training fast on a CPU. What the loop pays per
    # step besides the right-hand side is kept to a few operations (`_step`): the inputs every
    # stage sees are interpolated for the whole window before it (as `rk4_substep` would, sample
    # by sample), which took ~10 of the ~20 operations a step recorded.
    h = dt / substeps
    start, du = u[:, :-1], u[:, 1:] - u[:, :-1]
    fractions = {s + d for s in range(substeps) for d in (0, 0.5, 1)}
    at = {x: (start + du * (x / substeps)).unbind(1) for x in fractions}
    y, out = y0, [y0]
    for k in range(u.shape[1] - 1):
        for s in range(substeps):
            y = _step(f, y, at[s][k], at[s + 0.5][k], at[s + 1][k], h)
        out.append(y)
    return torch.stack(out, dim=1)


def _step(f: RHS, y: torch.Tensor, ua, ub, uc, h: float, k1: torch.Tensor | None = None) -> torch.Tensor:
    """`rk4_step` for torch tensors, each stage's state one fused operation (`torch.add` with
    `alpha`) and the step's sum three: half the operations autograd records and replays."""
    k1 = f(y, ua) if k1 is None else k1
    k2 = f(torch.add(y, k1, alpha=h / 2), ub)
    k3 = f(torch.add(y, k2, alpha=h / 2), ub)
    k4 = f(torch.add(y, k3, alpha=h), uc)
    return torch.add(y, torch.add(k1 + k4, k2 + k3, alpha=2), alpha=h / 6)


def _rk4_strided(f: RHS, y0: torch.Tensor, u: torch.Tensor, dt: float, stride: int) -> torch.Tensor:
    # Oversampled data (many samples per time constant) need not cost one RK4 step per sample:
    # step over `stride` samples and fill the ones in between from the Hermite cubic through each
    # step's ends and slopes, which is as accurate as the step itself (O(h^4)).
    n = u.shape[1] - 1
    if n % stride:
        raise ValueError(f"stride {stride} does not divide the {n} steps of the window")
    h = stride * dt
    ys, slopes, y = [y0], [], y0
    for k in range(0, n, stride):
        mid = u[:, k + stride // 2] if stride % 2 == 0 else 0.5 * (u[:, k + stride // 2] + u[:, k + stride // 2 + 1])
        k1 = f(y, u[:, k])
        y = _step(f, y, u[:, k], mid, u[:, k + stride], h, k1)
        ys.append(y)
        slopes.append(k1)
    slopes.append(f(y, u[:, n]))
    ends, scaled = torch.stack(ys, 1), torch.stack(slopes, 1) * h  # (batch, steps + 1, n_states)
    theta = torch.arange(1, stride, dtype=y0.dtype, device=y0.device)[None, None, :, None] / stride
    inside = ((1 + 2 * theta) * (1 - theta) ** 2 * ends[:, :-1, None] + theta * (1 - theta) ** 2 * scaled[:, :-1, None]
              + theta**2 * (3 - 2 * theta) * ends[:, 1:, None] + theta**2 * (theta - 1) * scaled[:, 1:, None])
    grid = torch.cat([ends[:, :-1, None], inside], dim=2).flatten(1, 2)
    return torch.cat([grid, ends[:, -1:]], dim=1)


def rk4_step(f: Callable[[State, State], State], y: State, ua: State, ub: State, uc: State, h: float,
             k1: State | None = None) -> State:
    """One classical RK4 step of size `h`, inputs `ua`, `ub`, `uc` at its start, middle and end
    (`k1`, the slope at the start, if the caller has it). Torch tensors and numpy arrays alike."""
    k1 = f(y, ua) if k1 is None else k1
    k2 = f(y + (h / 2) * k1, ub)
    k3 = f(y + (h / 2) * k2, ub)
    k4 = f(y + h * k3, uc)
    return y + (h / 6) * (k1 + 2 * (k2 + k3) + k4)


def rk4_substep(f: Callable[[State, State], State], y: State, u0: State, du: State, s: int, substeps: int,
                h: float) -> State:
    """One RK4 step of size `h`, the `s`-th of `substeps` between two samples, inputs linearly
    interpolated from `u0` by `du` across the sample interval. Works on torch tensors and
    numpy arrays alike, so training and the spiking re-simulation integrate the same way."""
    ua, ub, uc = (u0 + du * (x / substeps) for x in (s, s + 0.5, s + 1))
    return rk4_step(f, y, ua, ub, uc, h)


class _Interpolated(nn.Module):
    """torchdiffeq's `func(t, y)` with the window's inputs interpolated at t (a Module, for the adjoint)."""

    def __init__(self, f: nn.Module, u: torch.Tensor, dt: float) -> None:
        super().__init__()
        self.f, self.u, self.dt = f, u, dt

    def forward(self, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        pos = (t / self.dt).clamp(0, self.u.shape[1] - 1)
        k = int(min(pos.floor().item(), self.u.shape[1] - 2))
        frac = pos - k
        return self.f(y, self.u[:, k] + frac * (self.u[:, k + 1] - self.u[:, k]))


def _torchdiffeq(f, y0: torch.Tensor, u: torch.Tensor, dt: float, solver: str) -> torch.Tensor:
    import torchdiffeq

    times = torch.arange(u.shape[1], dtype=y0.dtype, device=y0.device) * dt
    func = _Interpolated(f, u, dt)
    if solver == "torchdiffeq-rk4":
        ys = torchdiffeq.odeint(func, y0, times, method="rk4")
    elif solver == "dopri5":
        ys = torchdiffeq.odeint(func, y0, times, method="dopri5", **DOPRI5_TOLERANCES)
    else:  # adjoint-dopri5
        ys = torchdiffeq.odeint_adjoint(func, y0, times, method="dopri5", **DOPRI5_TOLERANCES)
    return ys.transpose(0, 1)
