"""The tree-walking torch right-hand side that `discover.equations._codegen` replaced, kept as the oracle
its generated functions are checked against (same semantics: constants, powers, exprel, spike cap)."""

from __future__ import annotations

import sympy as sp
import torch

from discover.equations import EquationSystem
from discover.equations._functions import exprel, exprel_torch

_FUNCS = {
    sp.exp: torch.exp, sp.log: torch.log, sp.sqrt: torch.sqrt, sp.tanh: torch.tanh, sp.sinh: torch.sinh,
    sp.cosh: torch.cosh, sp.sin: torch.sin, sp.cos: torch.cos, sp.Abs: torch.abs, exprel: exprel_torch,
}


def tree_walk_rhs(system: EquationSystem, free: tuple[str, ...] = ()):
    """`f(y, u, r=None, free=None)` evaluated by walking each right-hand side's tree at every call."""
    residual_states = tuple(system.residuals)
    placeholders = {system.residuals[s]: sp.Symbol(f"__r{i}") for i, s in enumerate(residual_states)}
    names = (*system.states, *system.inputs)
    index = {system.symbol(n): i for i, n in enumerate(names)}
    index.update({sym: len(names) + i for i, sym in enumerate(placeholders.values())})
    index.update({system.symbol(n): len(index) + i for i, n in enumerate(free)})
    values = {system.symbol(p.name): p.value for p in system.parameters if p.name not in free}
    terms = [_walk(r.subs(values).subs(placeholders), index) for r in system.rhs]
    spike = system.spike
    cap = (system.state_index(spike.state), spike.threshold) if spike is not None else None
    moving = [(system.state_index(n), k) for n, k in spike.moving] if spike is not None else []

    def rhs(y, u, r=None, p=None):
        cols = list(y.unbind(-1)) + list(u.unbind(-1))
        if cap is not None:
            level = cap[1] + sum(k * y[..., j] for j, k in moving)  # a moving threshold: a tensor
            cols[cap[0]] = (torch.where(cols[cap[0]] > level, level, cols[cap[0]]) if moving
                            else cols[cap[0]].clamp(max=cap[1]))
        cols += list(r.unbind(-1)) if r is not None else []
        cols += list(p.unbind(-1)) if p is not None else []
        zero = torch.zeros_like(cols[0])
        out = [f(cols) + zero for f in terms]
        if cap is not None:
            out[cap[0]] = torch.where(y[..., cap[0]] >= level, zero, out[cap[0]])
        return torch.stack(out, dim=-1)

    return rhs


def _walk(expr, index):
    if expr.is_Symbol:
        i = index[expr]
        return lambda env: env[i]
    if expr.is_Number or expr in (sp.pi, sp.E):
        c = float(expr)
        return lambda env: c
    if isinstance(expr, (sp.Add, sp.Mul)):
        parts = [_walk(a, index) for a in expr.args]
        add = isinstance(expr, sp.Add)

        def fold(env):
            total = 0.0 if add else 1.0
            for p in parts:
                total = total + p(env) if add else total * p(env)
            return total

        return fold
    if isinstance(expr, sp.Pow):
        base, expo = _walk(expr.base, index), _walk(expr.exp, index)
        k = int(expr.exp) if expr.exp.is_Integer else None
        return (lambda env: base(env) ** k) if k is not None else (lambda env: base(env) ** expo(env))
    func, arg = _FUNCS[type(expr)], _walk(expr.args[0], index)
    return lambda env: func(_tensor(arg(env)))


def _tensor(x):
    return x if isinstance(x, torch.Tensor) else torch.tensor(x, dtype=torch.float64)
