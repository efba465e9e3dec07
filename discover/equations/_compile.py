"""Compile an `EquationSystem` to fast numerical functions (numpy for simulation, torch for training).

Each system is printed once into one Python function computing all its right-hand sides (see
`_codegen`): a call costs one torch/numpy operation per operator, nothing per tree node. Where
gradients are wanted, torch gets a second generated pair: a forward that also computes the
nonzero Jacobian entries (common subexpressions shared with the right-hand sides) and a
backward that contracts them with the incoming gradient, so autograd records one node per call
instead of one per operation.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
import sympy as sp
import torch

from .._errors import EquationError
from ._codegen import (
    FUNCTIONS,
    Cap,
    Columns,
    Printer,
    check_supported,
    define,
    generate,
    prepare,
    torch_outputs,
    tuple_of,
    unpack,
    words,
)
from ._functions import exprel
from ._system import EquationSystem


def compile_numpy(system: EquationSystem) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """Return `f(y, u) -> dy/dt` for arrays shaped `(..., n_states)` and `(..., n_inputs)`.

    Parameter values are substituted; residual placeholders must already be replaced.
    """
    _require_closed(system)
    columns = (Columns("y", tuple(system.symbol(n) for n in system.states)),
               Columns("u", tuple(system.symbol(n) for n in system.inputs)))
    values = _values(system)
    return generate(tuple(r.xreplace(values) for r in _declared(system)), columns, "numpy").function


def evaluate_expression(expr: sp.Expr, X: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """Evaluate `expr` at the rows of `X` (columns named by `names`), broadcasting constants."""
    system = EquationSystem(states=tuple(names), rhs=(expr,) + (sp.Integer(0),) * (len(names) - 1))
    return compile_numpy(system)(X, np.zeros((len(X), 0)))[:, 0]


class TorchRHS:
    """Torch version of an `EquationSystem`'s right-hand sides, residuals passed in by the caller.

    Call as `rhs(y, u, r)` with `y` `(batch, n_states)`, `u` `(batch, n_inputs)` and `r`
    `(batch, n_residuals)` holding the residual values in the order of `residual_states`.
    Parameters named in `free` are not substituted: their values are passed as `free`.

    For a spiking system (`system.spike`), the threshold absorbs: at or above it the spiking
    state's derivative is 0 (the model has spiked; its ODE no longer applies), and the other
    terms are evaluated with that state capped at the threshold. A model that spikes early in a
    training window then sits at the threshold, a bounded error, instead of an exponential
    spike-initiation term overflowing. A moving threshold (`SpikeRule.moving`) is computed from
    the states at each call; where the cap holds, the gradient reaches the moving states through it.

    Gradients come from generated derivative code (first order: differentiating a gradient
    again raises an error).
    """

    def __init__(self, system: EquationSystem, free: tuple[str, ...] = ()) -> None:
        """Compiles once; `source` holds the generated function's text (for reading, never run again)."""
        spike = system.spike
        self.residual_states = tuple(system.residuals)
        self.free = tuple(free)
        # residual placeholders become symbols whose names are no identifier: they cannot meet a user's name
        placeholders = {system.residuals[s]: sp.Symbol(f"residual {i}", real=True)
                        for i, s in enumerate(self.residual_states)}
        values = _values(system, self.free)
        self._columns = (
            Columns("y", tuple(system.symbol(n) for n in system.states)),
            Columns("u", tuple(system.symbol(n) for n in system.inputs)),
            Columns("r", tuple(placeholders.values())),
            Columns("p", tuple(system.symbol(n) for n in self.free)),
        )
        self._exprs = tuple(r.xreplace(values).xreplace(placeholders) for r in _declared(system))
        # a rule that watches another state (a GIF's integrated escape rate) puts no bound on V's own terms
        self._cap = (system.state_index(spike.state), float(spike.threshold),
                     tuple((system.state_index(n), float(k)) for n, k in spike.moving)) \
            if spike is not None and spike.watch is None else None
        generated = generate(self._exprs, self._columns, "torch", self._cap)
        self._function, self.source = generated.function, generated.source
        self._gradients: dict[tuple[bool, ...], _Gradient | None] = {}  # by which arguments want gradients

    def __call__(
        self, y: torch.Tensor, u: torch.Tensor, r: torch.Tensor | None = None, free: torch.Tensor | None = None
    ) -> torch.Tensor:
        """`free` holds the values of the `free` parameters (kept symbolic so they can be trained)."""
        if torch.is_grad_enabled():
            wanted = (y.requires_grad, u.requires_grad, r is not None and r.requires_grad,
                      free is not None and free.requires_grad)
            if any(wanted):
                gradient = self._gradients.get(wanted, False)
                if gradient is False:  # generated at the first call that wants these gradients
                    gradient = self._gradients[wanted] = _gradient(self._exprs, self._columns, self._cap, wanted)
                if gradient is not None:
                    return _Fused.apply(gradient, y, u, r, free)
        return self._function(y, u, r, free)

    def numpy(self) -> Callable[..., np.ndarray]:
        """The same right-hand sides in float64 numpy, `f(y, u, r=None)` (no `free` parameters, no
        gradients), the spike cap applied as the torch version applies it: for integrating sample
        by sample, where a torch call on a few rows costs ten times its arithmetic."""
        if self.free:
            raise EquationError(f"numpy() takes the parameters' values; {list(self.free)} are free here.")
        function = generate(self._exprs, self._columns, "numpy").function
        if self._cap is None:
            return lambda y, u, r=None: function(y, u, r, None)
        state, threshold, moving = self._cap

        def capped(y: np.ndarray, u: np.ndarray, r: np.ndarray | None = None) -> np.ndarray:
            level = threshold + sum(k * y[..., j] for j, k in moving)  # from the states before the clamp
            at = y[..., state] >= level
            clamped = y.copy()
            clamped[..., state] = np.where(y[..., state] > level, level, y[..., state])  # NaN stays NaN
            out = function(clamped, u, r, None)
            out[..., state] = np.where(at, 0.0, out[..., state])
            return out

        return capped


def _values(system: EquationSystem, free: tuple[str, ...] = ()) -> dict[sp.Symbol, sp.Number]:
    """Parameter symbol -> value, for `xreplace`: what `subs` gives for plain symbols, 30x faster on
    Hodgkin-Huxley (subs tries every pattern against every subtree)."""
    return {system.symbol(p.name): sp.Integer(p.value) if isinstance(p.value, int) else sp.Float(float(p.value))
            for p in system.parameters if p.name not in free}


def _declared(system: EquationSystem) -> tuple[sp.Expr, ...]:
    """The right-hand sides with every symbol as `system.symbol` makes it. A system is checked by
    names, so a term built elsewhere may carry `V` without the real=True assumption beside the
    system's own `V`; sympy holds them as two symbols, both meaning the state V."""
    out = []
    for expr in system.rhs:
        other = {s: system.symbol(s.name) for s in expr.free_symbols if s != system.symbol(s.name)}
        out.append(expr.xreplace(other) if other else expr)
    return tuple(out)


def _require_closed(system: EquationSystem) -> None:
    if system.residuals:
        raise EquationError(
            f"the system still has residual placeholders on {sorted(system.residuals)}; "
            "distill them first or use `system.without_residuals()` for the known part alone."
        )


class _Exprel(sp.Function):
    """exprel while differentiating: its derivative is `_ExprelPrime`, not sympy's quotient (0/0 at 0)."""

    is_real = True

    def fdiff(self, argindex=1):
        return _ExprelPrime(self.args[0])


class _ExprelPrime(sp.Function):
    is_real = True


def exprel_prime_torch(x: torch.Tensor) -> torch.Tensor:
    """d exprel/dx as autograd differentiates `exprel_torch` (same branches: series below |x| = 1e-4)."""
    small = x.abs() < 1e-4
    safe = torch.where(small, torch.ones_like(x), x)
    e = torch.expm1(safe)
    return torch.where(small, 0.5 + x / 3, (e + 1) / safe - e / (safe * safe))


_GRADIENT_FUNCTIONS = {**FUNCTIONS, _Exprel: "exprel", _ExprelPrime: "exprel_prime", sp.sign: "sign"}
_GRADIENT_NAMESPACE: dict[str, Callable[..., torch.Tensor]] = {"exprel_prime": exprel_prime_torch, "sign": torch.sign}


class _Gradient(NamedTuple):
    forward: Callable  # (y, u, r, p) -> (right-hand sides, tensors the backward needs)
    backward: Callable  # (g, *saved) -> one gradient (or None) per argument


class _Fused(torch.autograd.Function):
    """One autograd node per right-hand-side call, its backward generated from the symbolic Jacobian."""

    @staticmethod
    def forward(ctx, gradient: _Gradient, y, u, r, p):
        out, saved = gradient.forward(y, u, r, p)
        ctx.save_for_backward(*saved)
        ctx.backward_function = gradient.backward
        ctx.shapes = tuple(None if a is None else a.shape for a in (y, u, r, p))
        return out

    @staticmethod
    def backward(ctx, g):
        if torch.is_grad_enabled():  # create_graph: the saved Jacobian is not itself differentiable
            raise RuntimeError("TorchRHS gives first derivatives only; differentiating them again (create_graph=True) "
                               "is not supported.")
        grads = ctx.backward_function(g, *ctx.saved_tensors)
        # an argument broadcast against the batch (one row of parameters for all) gets its summed gradient
        return (None, *(d if d is None or d.shape == shape else d.sum_to_size(shape)
                        for d, shape in zip(grads, ctx.shapes, strict=True)))


@functools.lru_cache(maxsize=256)
def _gradient(exprs: tuple, columns: tuple, cap: Cap | None, wanted: tuple[bool, ...]) -> _Gradient | None:
    """Generated forward-with-Jacobian and backward for the arguments in `wanted`; None where the
    symbolic derivative would differ from autograd's (a power with a variable exponent, whose
    derivative sympy writes as e*x**e/x, 0/0 at x = 0), or needs a node we do not print: then
    autograd differentiates the plain generated function."""
    prepared = prepare(exprs, columns, "torch")
    targets = [(k, j, sym) for k, c in enumerate(columns) if wanted[k] for j, sym in enumerate(c.symbols)]
    diffable = [e.replace(exprel, _Exprel) for e in prepared.exprs]
    if any(isinstance(n, sp.Pow) and not n.exp.is_Number for e in diffable for n in sp.preorder_traversal(e)):
        return None
    jacobian, constant = {}, {}
    for i, expr in enumerate(diffable):
        present = expr.free_symbols
        for k, j, sym in targets:
            if sym in present and (d := sp.diff(expr, sym)) != 0:
                try:
                    check_supported(d, "torch", _GRADIENT_FUNCTIONS)
                except EquationError:
                    return None
                if d.free_symbols <= prepared.constants.keys():  # printed into the backward as a number
                    constant[(i, k, j)] = _number(d, prepared.constants)
                    if constant[(i, k, j)] is None:
                        return None
                else:
                    jacobian[(i, k, j)] = d
    forward = _forward_source(diffable, jacobian, prepared, columns, cap)
    backward = _backward_source(len(exprs), list(jacobian), constant, columns, cap, wanted)
    args = [c.argument for c in columns]
    return _Gradient(define("rhs_with_jacobian", args, forward, "torch", _GRADIENT_NAMESPACE),
                     define("rhs_backward", ["g", *_saved(jacobian, cap)], backward, "torch"))


def _number(expr: sp.Expr, constants: dict) -> str | None:
    """A constant Jacobian entry as a literal, or None when it is not a finite real number."""
    if not all(np.isfinite(v) for v in constants.values()):
        return None
    try:
        value = complex(expr.xreplace({s: sp.Float(v) for s, v in constants.items()}))
    except TypeError:
        return None
    return repr(value.real) if value.imag == 0 and np.isfinite(value.real) else None


def _saved(jacobian: dict, cap) -> list[str]:
    return [f"J{n}" for n in range(len(jacobian))] + (["_at_threshold", "_passes"] if cap is not None else [])


def _forward_source(diffable, jacobian: dict, prepared, columns, cap) -> list[str]:
    printer = Printer(prepared.names, _GRADIENT_FUNCTIONS)
    codes = printer.common([*diffable, *jacobian.values()])
    outputs, entries = codes[: len(diffable)], codes[len(diffable):]
    states = set(columns[0].symbols)
    broadcast = [not (e.free_symbols & states) for e in prepared.exprs]
    used = words(*printer.lines, *codes) | ({f"{columns[0].argument}0"} if any(broadcast) else set())
    body = unpack(columns, used, "torch", cap) + printer.lines + torch_outputs(outputs, broadcast, columns, cap)
    body += [f"J{n} = {code}" for n, code in enumerate(entries)]
    saved = "".join(f"{s}, " for s in _saved(jacobian, cap))
    return body + [f"return stack(({tuple_of(outputs, 'o')}), -1), ({saved})"]


def _backward_source(n_outputs: int, keys: list, constant: dict, columns, cap, wanted) -> list[str]:
    """vector-Jacobian product: d<k>[j] = sum over outputs i of g_i * J[i, (k, j)]."""
    body = ["_g = g.unbind(-1)"] + [f"g{i} = _g[{i}]" for i in range(n_outputs)]
    if cap is not None:  # at or above the threshold the spiking state's derivative is 0, and so its gradient
        body.append(f"g{cap[0]} = where(_at_threshold, 0.0, g{cap[0]})")
    terms: dict[tuple[int, int], list[str]] = {}
    for n, (i, k, j) in enumerate(keys):
        terms.setdefault((k, j), []).append(f"g{i}*J{n}")
    for (i, k, j), value in constant.items():
        terms.setdefault((k, j), []).append(f"g{i}" if value == "1.0" else f"g{i}*({value})")
    results = []
    for k, c in enumerate(columns):
        if not wanted[k] or not c.symbols:
            results.append("None")
            continue
        if cap is not None and k == 0:  # what reaches the capped state, before the clamp decides where it goes
            body.append(f"_through = {' + '.join(terms.get((0, cap[0]), [])) or 'zeros_like(_g[0])'}")
        moving = dict(cap[2]) if cap is not None and k == 0 else {}
        for j in range(len(c.symbols)):
            total = " + ".join(terms.get((k, j), [])) or "zeros_like(_g[0])"
            if cap is not None and k == 0 and j == cap[0]:  # the clamp passes gradient below and at the threshold
                total = "where(_passes, _through, 0.0)"
            elif j in moving:  # above it, the capped state is the threshold: d/d(moving state) = its coefficient
                total = f"{total} + where(_passes, 0.0, ({moving[j]!r})*_through)"  # finite: SpikeRule checks
            body.append(f"d{k}_{j} = {total}")
        body.append(f"d{k} = stack(({''.join(f'd{k}_{j}, ' for j in range(len(c.symbols)))}), -1)")
        results.append(f"d{k}")
    return body + [f"return {', '.join(results)}"]
