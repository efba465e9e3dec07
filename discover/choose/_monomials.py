"""Polynomial right-hand sides as products of coefficients and monomials, with their derivatives
written out.

A batch of candidates whose terms (and known part) are numbers times monomials of the states and
inputs shares one evaluation: every monomial any of them uses is computed once over all rows,
one operation each, and each candidate's derivatives are its coefficients times them.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import torch

from ..integrate import integrate_windows


class Monomials:
    """Monomials `keys` (exponents over the states, then the inputs) and what their derivatives
    need: for each column, which monomials contain it, the monomials left when one factor of it
    is taken away (computed with the others, for the states), and the exponent that comes down."""

    def __init__(self, keys: list[tuple[int, ...]], n_states: int, device: torch.device | str = "cpu") -> None:
        self.keys = keys
        every = dict.fromkeys(keys)
        self.derivatives = []
        for i in range(len(keys[0])):
            rows = [j for j, key in enumerate(keys) if key[i]]
            reduced = [keys[j][:i] + (keys[j][i] - 1,) + keys[j][i + 1:] for j in rows]
            if i < n_states:
                every.update(dict.fromkeys(reduced))
            exponents = torch.tensor([float(keys[j][i]) for j in rows], dtype=torch.float64, device=device)
            self.derivatives.append((torch.tensor(rows, dtype=torch.long, device=device), reduced,
                                     exponents.view(-1, 1, 1)))
        self.every = list(every)
        self.program = _program(tuple(self.every))
        position = {key: n for n, key in enumerate(self.every)}
        # the states' derivatives all at once: every (monomial, state) pair with the state in it, where
        # its reduced monomial sits among those computed, its exponent, and which state it belongs to
        pairs = [(j, position[reduced[m]], float(exponents[m]), i) for i, (rows, reduced, exponents)
                 in enumerate(self.derivatives[:n_states]) for m, j in enumerate(rows.tolist())]
        self.rows = torch.tensor([j for j, *_ in pairs], dtype=torch.long, device=device)
        self.at = torch.tensor([at for _, at, *_ in pairs], dtype=torch.long, device=device)
        self.exponents = torch.tensor([e for *_, e, _ in pairs], dtype=torch.float64, device=device).view(-1, 1, 1)
        self.segments = torch.zeros(len(pairs), n_states, dtype=torch.float64)
        self.segments[torch.arange(len(pairs)), torch.tensor([i for *_, i in pairs], dtype=torch.long)] = 1.0
        self.segments = self.segments.to(device)
        self._derived: tuple = (None, None)

    def slopes(self, coefficients: torch.Tensor) -> torch.Tensor:
        """coefficient x exponent of every (monomial, state) pair, `(K, n_outputs, pairs)`: the same
        for every call of one integration, so computed once for it."""
        key = (coefficients, coefficients._version)
        if self._derived[0] is None or self._derived[0][0] is not key[0] or self._derived[0][1] != key[1]:
            self._derived = key, (coefficients[self.rows] * self.exponents).permute(1, 2, 0)
        return self._derived[1]


def linear(y: torch.Tensor, u: torch.Tensor, coefficients: torch.Tensor, plan: Monomials) -> torch.Tensor:
    """Each linear candidate's outputs on its rows, `(rows, n_outputs)`: the monomials of `plan`
    times `coefficients` `(n_monomials, n_candidates, n_outputs)`, summed. One autograd node."""
    if torch.is_grad_enabled() and (y.requires_grad or u.requires_grad or coefficients.requires_grad):
        return _Linear.apply(y, u, coefficients, plan)
    return _contract(_run(plan.program, (*y.unbind(-1), *u.unbind(-1))), coefficients)


def _contract(phi: torch.Tensor, coefficients: torch.Tensor) -> torch.Tensor:
    """sum_j phi[j, k, b] coefficients[j, k, o], as `(k * b, o)`."""
    n, k, o = coefficients.shape
    return torch.bmm(phi[:n].view(n, k, -1).permute(1, 2, 0), coefficients.transpose(0, 1)).view(-1, o)


class _Linear(torch.autograd.Function):
    """`linear` with its derivatives written out: d/dcoefficient is the monomial, d/dcolumn the
    sum of coefficient x exponent x the monomial with one factor of the column taken away.
    Autograd through the monomials recorded ~15 nodes per call and cost more than the rest."""

    @staticmethod
    def forward(ctx, y, u, coefficients, plan):
        phi = _run(plan.program, (*y.unbind(-1), *u.unbind(-1)))
        ctx.save_for_backward(phi, coefficients, y, u)
        ctx.plan = plan
        return _contract(phi, coefficients)

    @staticmethod
    def backward(ctx, g):
        phi, coefficients, y, u = ctx.saved_tensors
        plan, (n, k, o) = ctx.plan, coefficients.shape
        gk = g.reshape(k, -1, o)  # (candidates, rows each, outputs)
        grad_c = torch.bmm(phi[:n].view(n, k, -1).transpose(0, 1), gk).transpose(0, 1) \
            if ctx.needs_input_grad[2] else None
        grad_y = grad_u = None
        if ctx.needs_input_grad[0]:
            grad_y = _state_gradient(phi, coefficients, gk, plan)
        if ctx.needs_input_grad[1] and u.shape[-1]:  # inputs rarely want one: column by column
            columns, n_states = (*y.unbind(-1), *u.unbind(-1)), y.shape[-1]
            grad_u = torch.stack([
                (_contract(_evaluate(reduced, columns), coefficients[rows] * exponents) * g).sum(-1) if reduced
                else torch.zeros(g.shape[0], dtype=g.dtype, device=g.device)
                for rows, reduced, exponents in plan.derivatives[n_states:]
            ], dim=-1)
        return grad_y, grad_u, grad_c, None


def _state_gradient(phi: torch.Tensor, coefficients: torch.Tensor, gk: torch.Tensor, plan: Monomials) -> torch.Tensor:
    """g times d(outputs)/d(states), every state at once: each (monomial, state) pair's slope
    (coefficient x exponent x the monomial with one factor of the state taken away) times g,
    summed per state. `gk`: g as `(candidates, rows each, outputs)`; returns `(rows, n_states)`."""
    if not len(plan.at):  # no monomial has a state in it
        return torch.zeros(gk.shape[0] * gk.shape[1], plan.segments.shape[1], dtype=gk.dtype, device=gk.device)
    k = gk.shape[0]
    pairs = torch.bmm(gk, plan.slopes(coefficients)) * phi[plan.at].view(len(plan.at), k, -1).permute(1, 2, 0)
    return pairs.reshape(-1, len(plan.at)) @ plan.segments


KEEP_BYTES = 2**28  # monomials an integration keeps for its backward (recomputed beyond)


def integrate(y0: torch.Tensor, u: torch.Tensor, dt: float, substeps: int, coefficients: torch.Tensor,
              plan: Monomials) -> torch.Tensor:
    """`integrate_windows` (RK4, `substeps` steps per sample) of dy/dt = `linear(y, u, ...)` with
    every state's derivative a polynomial (`coefficients` `(n_monomials, n_candidates, n_states)`),
    as one autograd node: the forward records nothing, the backward runs the steps in reverse
    with the derivatives written out (the discrete adjoint of the same RK4). Per step that is a
    fraction of the operations autograd would record and replay, the cost on small batches."""
    if torch.is_grad_enabled() and (y0.requires_grad or coefficients.requires_grad) and not u.requires_grad:
        return _RK4.apply(y0, u, coefficients, plan, dt, substeps)
    with torch.no_grad():
        return _rk4(y0, u, dt, substeps, coefficients, plan)[0]


def _rk4(y0, u, dt: float, substeps: int, coefficients, plan: Monomials, keep: bool = False):
    """The steps of `integrate`: `integrate_windows`'s RK4 with the right-hand side written for
    monomials; with `keep`, also each stage's monomials (or state and inputs), in the order RK4
    calls them, for the backward."""
    # the backward needs each stage's monomials: kept where they fit in KEEP_BYTES, else recomputed
    save = keep and 4 * substeps * (u.shape[1] - 1) * len(plan.program) * y0.numel() / y0.shape[-1] * 8 < KEEP_BYTES
    stages: list = []

    n_monomials, n_candidates, n_outputs = coefficients.shape
    right = coefficients.transpose(0, 1).contiguous()  # (candidates, monomials, outputs), once per integration

    def f(y, v):
        phi = _run(plan.program, (*y.unbind(-1), *v.unbind(-1)))
        if keep:
            stages.append(phi if save else (y, v))
        left = phi[:n_monomials].view(n_monomials, n_candidates, -1).permute(1, 2, 0)
        return torch.bmm(left, right).view(-1, n_outputs)
    return integrate_windows(f, y0, u, dt, "rk4", substeps), stages


class _RK4(torch.autograd.Function):
    @staticmethod
    def forward(ctx, y0, u, coefficients, plan, dt, substeps):
        pred, ctx.stages = _rk4(y0, u, dt, substeps, coefficients, plan, keep=True)
        ctx.save_for_backward(coefficients)
        ctx.plan, ctx.h, ctx.substeps = plan, dt / substeps, substeps
        return pred

    @staticmethod
    def backward(ctx, g):
        (coefficients,) = ctx.saved_tensors
        plan, h, stages = ctx.plan, ctx.h, ctx.stages
        n, k, o = coefficients.shape
        grad_c = torch.zeros_like(coefficients)
        kept = isinstance(stages[0], torch.Tensor) if stages else False
        gks = []  # with the monomials kept, d/dcoefficients is one product over every stage, at the end

        def vjp(stage, gs):  # g . d(outputs)/dy (and g . d(outputs)/dcoefficients, added to grad_c)
            phi = stage if kept else _run(plan.program, (*stage[0].unbind(-1), *stage[1].unbind(-1)))
            gk = gs.reshape(k, -1, o)
            if kept:
                gks.append(gk)
            else:
                grad_c.add_(torch.bmm(phi[:n].view(n, k, -1).transpose(0, 1), gk).transpose(0, 1))
            return _state_gradient(phi, coefficients, gk, plan)
        gy = g[:, -1]
        for step in range(len(stages) // 4 - 1, -1, -1):  # the same RK4 step, differentiated in reverse
            s1, s2, s3, s4 = stages[4 * step:4 * step + 4]
            g4 = gy * (h / 6)
            d4 = vjp(s4, g4)
            d3 = vjp(s3, torch.add(gy * (h / 3), d4, alpha=h))
            d2 = vjp(s2, torch.add(gy * (h / 3), d3, alpha=h / 2))
            d1 = vjp(s1, torch.add(g4, d2, alpha=h / 2))
            gy = gy + (d1 + d2) + (d3 + d4)
            if step % ctx.substeps == 0:  # the start of a sample interval: that sample's own gradient
                gy = gy + g[:, step // ctx.substeps]
        if gks:  # stages s1..s4 of each step, backwards: the monomials in the same order
            order = [4 * step + i for step in range(len(stages) // 4 - 1, -1, -1) for i in (3, 2, 1, 0)]
            phi = torch.cat([stages[i][:n].view(n, k, -1) for i in order], dim=2)
            grad_c = torch.bmm(phi.transpose(0, 1), torch.cat(gks, dim=1)).transpose(0, 1)
        return gy if ctx.needs_input_grad[0] else None, None, grad_c if ctx.needs_input_grad[2] else None, \
            None, None, None


def _evaluate(keys: Sequence[tuple[int, ...]], columns: Sequence[torch.Tensor]) -> torch.Tensor:
    """Every monomial of `keys` (exponents over `columns`), `(len(keys), rows)`."""
    return _run(_program(tuple(keys)), columns)[:len(keys)]


@functools.lru_cache(maxsize=64)
def _program(keys: tuple[tuple[int, ...], ...]) -> tuple[tuple[int, int, int], ...]:
    """How to compute monomials `keys` one operation each, written into rows of one tensor (no
    stacking copy): (row, row of a monomial one degree lower or -1, column) per step, by degree;
    `keys` take the first rows, lower monomials they need and lack the rows after."""
    def lower(key: tuple[int, ...]) -> tuple[int, tuple[int, ...]]:
        """(the first column in `key`, `key` with one factor of it taken away); (-1, key) for 1."""
        i = next((i for i, a in enumerate(key) if a), -1)
        return (i, key[:i] + (key[i] - 1,) + key[i + 1:]) if i >= 0 else (i, key)

    rows = {key: j for j, key in enumerate(keys)}
    pending = list(keys)
    while pending:  # every monomial's factor one degree lower gets a row
        _, below = lower(pending.pop())
        if any(below) and below not in rows:
            rows[below] = len(rows)
            pending.append(below)
    steps = []
    for key, j in sorted(rows.items(), key=lambda item: sum(item[0])):
        i, below = lower(key)
        steps.append((j, rows[below] if i >= 0 and any(below) else -1, i))
    return tuple(steps)


def _run(steps: tuple[tuple[int, int, int], ...], columns: Sequence[torch.Tensor]) -> torch.Tensor:
    out = torch.empty(len(steps), *columns[0].shape, dtype=columns[0].dtype, device=columns[0].device)
    rows = out.unbind(0)  # one operation for every row's view, not one indexing each
    for row, lower, column in steps:
        if column < 0:  # the constant monomial
            rows[row].fill_(1.0)
        elif lower < 0:
            rows[row].copy_(columns[column])
        else:
            torch.mul(rows[lower], columns[column], out=rows[row])
    return out


__all__ = ["Monomials", "integrate", "linear"]
