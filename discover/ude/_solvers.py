"""Integrate a batch of trajectory windows: fused fixed-step RK4 (default) or torchdiffeq."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

RHS = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
SOLVERS = ("rk4", "torchdiffeq-rk4", "dopri5", "adjoint-dopri5")


def integrate_windows(f: RHS, y0: torch.Tensor, u: torch.Tensor, dt: float, solver: str = "rk4", substeps: int = 1) -> torch.Tensor:
    """Integrate `dy/dt = f(y, u(t))` from `y0` `(batch, n_states)` over the sample grid of `u`.

    `u` has shape `(batch, n_steps + 1, n_inputs)` and is linearly interpolated between samples.
    Returns `(batch, n_steps + 1, n_states)`, the first row being `y0`.
    """
    if solver == "rk4":
        return _rk4(f, y0, u, dt, substeps)
    return _torchdiffeq(f, y0, u, dt, solver)


def _rk4(f: RHS, y0: torch.Tensor, u: torch.Tensor, dt: float, substeps: int) -> torch.Tensor:
    # One Python loop over steps with all windows batched: per-step overhead is paid once per
    # batch, not per window, which is what makes training fast on a CPU.
    h = dt / substeps
    y, out = y0, [y0]
    for k in range(u.shape[1] - 1):
        u0, du = u[:, k], u[:, k + 1] - u[:, k]
        for s in range(substeps):
            y = rk4_substep(f, y, u0, du, s, substeps, h)
        out.append(y)
    return torch.stack(out, dim=1)


def rk4_substep(f, y, u0, du, s: int, substeps: int, h: float):
    """One RK4 step of size `h`, the `s`-th of `substeps` between two samples, inputs linearly
    interpolated from `u0` by `du` across the sample interval. Works on torch tensors and
    numpy arrays alike, so training and the spiking re-simulation integrate the same way."""
    ua, ub, uc = (u0 + du * (x / substeps) for x in (s, s + 0.5, s + 1))
    k1 = f(y, ua)
    k2 = f(y + (h / 2) * k1, ub)
    k3 = f(y + (h / 2) * k2, ub)
    k4 = f(y + h * k3, uc)
    return y + (h / 6) * (k1 + 2 * k2 + 2 * k3 + k4)


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

    times = torch.arange(u.shape[1], dtype=y0.dtype) * dt
    func = _Interpolated(f, u, dt)
    if solver == "torchdiffeq-rk4":
        ys = torchdiffeq.odeint(func, y0, times, method="rk4")
    elif solver == "dopri5":
        ys = torchdiffeq.odeint(func, y0, times, method="dopri5", rtol=1e-6, atol=1e-8)
    else:  # adjoint-dopri5
        ys = torchdiffeq.odeint_adjoint(func, y0, times, method="dopri5", rtol=1e-6, atol=1e-8)
    return ys.transpose(0, 1)
