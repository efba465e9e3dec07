"""Compile an `EquationSystem` to fast numerical functions (numpy for simulation, torch for training)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import sympy as sp
import torch

from .._errors import EquationError
from ._functions import exprel, exprel_numpy, exprel_torch
from ._system import EquationSystem

_TORCH_FUNCS: Mapping[type, Callable] = {
    sp.exp: torch.exp,
    sp.log: torch.log,
    sp.sqrt: torch.sqrt,
    sp.tanh: torch.tanh,
    sp.sinh: torch.sinh,
    sp.cosh: torch.cosh,
    sp.sin: torch.sin,
    sp.cos: torch.cos,
    sp.Abs: torch.abs,
    exprel: exprel_torch,
}


def compile_numpy(system: EquationSystem) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """Return `f(y, u) -> dy/dt` for arrays shaped `(..., n_states)` and `(..., n_inputs)`.

    Parameter values are substituted; residual placeholders must already be replaced.
    """
    _require_closed(system)
    args = [system.symbol(n) for n in (*system.states, *system.inputs)]
    funcs = [sp.lambdify(args, r, modules=[{"exprel": exprel_numpy}, "numpy"]) for r in system.substituted()]
    n_states = len(system.states)

    def rhs(y: np.ndarray, u: np.ndarray) -> np.ndarray:
        cols = [y[..., i] for i in range(n_states)] + [u[..., j] for j in range(u.shape[-1])]
        out = np.empty(y.shape, dtype=float)
        for i, f in enumerate(funcs):
            out[..., i] = f(*cols)  # broadcasting also covers constant right-hand sides
        return out

    return rhs


class TorchRHS:
    """Torch version of an `EquationSystem`'s right-hand sides, residuals passed in by the caller.

    Call as `rhs(y, u, r)` with `y` `(batch, n_states)`, `u` `(batch, n_inputs)` and `r`
    `(batch, n_residuals)` holding the residual values in the order of `residual_states`.
    Parameters named in `free` are not substituted: their values are passed as `free`.

    For a spiking system (`system.spike`), the threshold absorbs: at or above it the spiking
    state's derivative is 0 (the model has spiked; its ODE no longer applies), and the other
    terms are evaluated with that state capped at the threshold. A model that spikes early in a
    training window then sits at the threshold, a bounded error, instead of an exponential
    spike-initiation term overflowing.
    """

    def __init__(self, system: EquationSystem, free: tuple[str, ...] = ()) -> None:
        spike = system.spike
        self._cap = (system.state_index(spike.state), spike.threshold) if spike is not None else None
        self.residual_states = tuple(system.residuals)
        self.free = tuple(free)
        placeholders = {system.residuals[s]: sp.Symbol(f"__r{i}") for i, s in enumerate(self.residual_states)}
        names = (*system.states, *system.inputs)
        index = {system.symbol(n): i for i, n in enumerate(names)}
        index.update({sym: len(names) + i for i, sym in enumerate(placeholders.values())})
        index.update({system.symbol(n): len(index) + i for i, n in enumerate(self.free)})
        values = {system.symbol(p.name): p.value for p in system.parameters if p.name not in self.free}
        self._terms = [_to_torch(r.subs(values).subs(placeholders), index) for r in system.rhs]

    def __call__(
        self, y: torch.Tensor, u: torch.Tensor, r: torch.Tensor | None = None, free: torch.Tensor | None = None
    ) -> torch.Tensor:
        """`free` holds the values of the `free` parameters (kept symbolic so they can be trained)."""
        cols = list(y.unbind(-1)) + list(u.unbind(-1))
        if self._cap is not None:
            i, ceiling = self._cap
            cols[i] = cols[i].clamp(max=ceiling)
        if r is not None:
            cols += list(r.unbind(-1))
        if free is not None:
            cols += list(free.unbind(-1))
        zero = torch.zeros_like(cols[0])
        out = [f(cols) + zero for f in self._terms]
        if self._cap is not None:
            out[i] = torch.where(y[..., i] >= ceiling, zero, out[i])
        return torch.stack(out, dim=-1)


def _require_closed(system: EquationSystem) -> None:
    if system.residuals:
        raise EquationError(
            f"the system still has residual placeholders on {sorted(system.residuals)}; "
            "distill them first or use `system.without_residuals()` for the known part alone."
        )


def _to_torch(expr: sp.Expr, index: Mapping[sp.Symbol, int]) -> Callable[[Sequence[torch.Tensor]], torch.Tensor]:
    """Translate a sympy expression into a closure over a list of tensors (no code generation, no eval)."""
    if expr.is_Symbol:
        i = index[expr]
        return lambda env: env[i]
    if expr.is_Number or expr in (sp.pi, sp.E):
        c = float(expr)
        return lambda env: c
    if isinstance(expr, sp.Add):
        parts = [_to_torch(a, index) for a in expr.args]
        return lambda env: _sum(p(env) for p in parts)
    if isinstance(expr, sp.Mul):
        parts = [_to_torch(a, index) for a in expr.args]
        return lambda env: _prod(p(env) for p in parts)
    if isinstance(expr, sp.Pow):
        base = _to_torch(expr.base, index)
        if expr.exp.is_Integer:
            k = int(expr.exp)
            return lambda env: base(env) ** k
        expo = _to_torch(expr.exp, index)
        return lambda env: base(env) ** expo(env)
    func = _TORCH_FUNCS.get(type(expr))
    if func is not None and len(expr.args) == 1:
        arg = _to_torch(expr.args[0], index)
        return lambda env: func(_tensor(arg(env)))
    raise EquationError(f"cannot compile `{expr}` to torch: {type(expr).__name__} is not supported.")


def _tensor(x):
    return x if isinstance(x, torch.Tensor) else torch.tensor(x)


def _sum(items):
    total = 0.0
    for x in items:
        total = total + x
    return total


def _prod(items):
    total = 1.0
    for x in items:
        total = total * x
    return total

