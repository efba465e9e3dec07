"""Candidates re-simulated as one batch, and refit in lockstep.

Integrating candidates one by one pays PyTorch's per-operation overhead (a few microseconds,
most of an RK4 step on a few hundred windows) once per candidate and step. Here every
candidate's windows are stacked along the batch dimension and one RK4 loop integrates them all.
Candidates whose terms are numbers times monomials of the states and inputs (every sparse
candidate) also share their evaluation: each monomial any of them uses is computed once over
all rows, and each candidate's residual is its row of coefficients times them (one batched
matrix product). Any other candidate (a symbolic tanh) is evaluated by its own compiled
function on its own rows. `lbfgs_many` fits many candidates' numbers at once, each by its own
L-BFGS, evaluating all of them in one batch per round.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence

import sympy as sp
import torch

from ..equations import EquationSystem, Parameter, TorchRHS
from ..integrate import integrate_windows
from ._lockstep import lbfgs_many
from ._monomials import Monomials, integrate, linear

Terms = Mapping[str, sp.Expr]  # state -> the expression that replaces its residual placeholder
_Monomials = list[tuple[tuple[int, ...], int | float]]  # (exponents, number index or fixed coefficient) per term


@dataclasses.dataclass(frozen=True)
class _Candidate:
    terms: dict[str, sp.Expr]
    floats: tuple[sp.Float, ...]  # its numbers, sorted; equal floats are one number
    linear: dict[str, _Monomials] | None  # state -> (exponents, number index or fixed)
    rhs: TorchRHS | None  # compiled with its numbers free, when first evaluated on its own


class Batch:
    """Candidates for the residuals of `system`, integrated together: each (added by `add`) a
    mapping state -> terms, every candidate replacing the same states. The placeholders no
    candidate replaces are `nets` (float64 `MLPResidual`s, in the order of the system's
    placeholders). A candidate's numbers are the floats in its terms (`floats(k)`, sorted; equal
    floats are one number), passed to `integrate` as one tensor per candidate, so that they can
    be fitted. Every tensor it makes is on `device` (the windows' and numbers' too)."""

    def __init__(self, system: EquationSystem, candidates: Sequence[Terms] = (), nets: Sequence = (),
                 device: torch.device | str = "cpu") -> None:
        self.device = torch.device(device)
        self.system, self.nets = system, [net.to(self.device) for net in nets]
        self.replaced: tuple[str, ...] | None = None  # the states every candidate replaces: the first `add` sets it
        self.base = TorchRHS(system)
        self.known = _polynomial_known(system)
        self.candidates: list[_Candidate] = []
        self._layouts: dict[tuple[int, ...], _Layout] = {}
        for terms in candidates:
            self.add(terms)

    def add(self, terms: Terms) -> int:
        """Add a candidate; returns its index."""
        columns = (*self.system.states, *self.system.inputs)
        if self.replaced is None:
            self.replaced = tuple(terms)
            self.features = [[columns.index(f) for f in self.system.residual_features(s)]
                             for s in self.base.residual_states if s not in terms]
        elif set(terms) != set(self.replaced):
            raise ValueError(f"every candidate replaces {list(self.replaced)}; got {list(terms)}")
        self.candidates.append(self._prepare(terms, columns))
        return len(self.candidates) - 1

    def __len__(self) -> int:
        return len(self.candidates)

    def floats(self, k: int) -> tuple[sp.Float, ...]:
        return self.candidates[k].floats

    def exp_prefactors(self, k: int) -> list[bool]:
        """Which of candidate `k`'s numbers multiply an exponential (c in c exp(b V) or c V exp(b V),
        not a sigmoid's amplitude): such a c is a location in disguise, c exp(b V) = exp(b (V - V0)),
        and moves with b along a curved valley (log c = const - b V0) that only a fit in log c
        follows; it keeps its sign."""
        scaled = set()
        for expr in self.candidates[k].terms.values():
            for term in sp.Add.make_args(sp.expand(expr, power_exp=False)):
                coeff, rest = term.as_coeff_Mul()
                if isinstance(coeff, sp.Float) and any(isinstance(f, sp.exp) for f in sp.Mul.make_args(rest)):
                    scaled.add(coeff)
        return [f in scaled for f in self.candidates[k].floats]

    def start(self, k: int) -> torch.Tensor:
        """Candidate `k`'s numbers as they are in its terms."""
        return torch.tensor([_value(f) for f in self.candidates[k].floats], dtype=torch.float64, device=self.device)

    def compiled(self, k: int) -> TorchRHS:
        """Candidate `k`'s right-hand side compiled on its own, its numbers free (compiled once)."""
        candidate = self.candidates[k]
        rhs = candidate.rhs
        if rhs is None:
            floats, names = candidate.floats, tuple(f"_refit_{i}" for i in range(len(candidate.floats)))
            symbols = {f: sp.Symbol(n, real=True) for f, n in zip(floats, names, strict=True)}
            extra = tuple(Parameter(n, float(f)) for n, f in zip(names, floats, strict=True))
            base = dataclasses.replace(self.system, parameters=(*self.system.parameters, *extra))
            template = base.replace_residuals({s: e.xreplace(symbols) for s, e in candidate.terms.items()},
                                              how="candidate")
            rhs = TorchRHS(template, free=names)
            self.candidates[k] = dataclasses.replace(candidate, rhs=rhs)
        return rhs

    def _prepare(self, terms: Terms, columns: tuple[str, ...]) -> _Candidate:
        floats = tuple(sorted({f for e in terms.values() for f in e.atoms(sp.Float)}, key=float))
        index = {f: i for i, f in enumerate(floats)}
        monomials = {s: _monomial_terms(e, columns, index) for s, e in terms.items()}
        linear = {s: t for s, t in monomials.items() if t is not None}
        return _Candidate(dict(terms), floats, linear if len(linear) == len(monomials) else None, None)

    def integrate(self, subset: Sequence[int], y0: torch.Tensor, u: torch.Tensor, dt: float, substeps: int,
                  numbers: Sequence[torch.Tensor]) -> torch.Tensor:
        """Integrate candidates `subset` from `y0` `(len(subset), batch, n_states)` over inputs `u`
        `(batch, n_steps + 1, n_inputs)` (the same for each), with `numbers[i]` candidate
        `subset[i]`'s numbers. Returns `(len(subset), batch, n_steps + 1, n_states)`."""
        subset = tuple(subset)
        if subset not in self._layouts:
            self._layouts[subset] = _Layout(self, subset)
        layout = self._layouts[subset]
        k, b = y0.shape[:2]
        rows, numbers = y0[layout.order].reshape(k * b, -1), [numbers[i] for i in layout.order]
        if layout.n_linear == k and self.known is not None and not self.nets:  # all polynomial: one node
            pred = integrate(rows, u.repeat(k, 1, 1), dt, substeps, layout.coefficients(numbers), layout.plan)
        else:
            f = layout.rhs(numbers, b, [net.folded() for net in self.nets])
            pred = integrate_windows(f, rows, u.repeat(k, 1, 1), dt, "rk4", substeps)
        return pred.view(k, b, *pred.shape[1:])[layout.inverse]


def _polynomial_known(system: EquationSystem) -> dict[str, _Monomials] | None:
    """Each state's known part as monomial terms with fixed coefficients (`_monomial_terms`), when
    every right-hand side is a polynomial of the states and inputs plus, added, its own residual
    placeholder; otherwise (or for a spiking system: its threshold caps the states) None."""
    if system.spike is not None:
        return None
    columns = (*system.states, *system.inputs)
    values = {p.name: sp.Integer(p.value) if isinstance(p.value, int) else sp.Float(float(p.value))
              for p in system.parameters}
    placeholders = system.residuals
    out: dict[str, _Monomials] = {}
    for state, expr in zip(system.states, system.rhs, strict=True):
        known = sp.expand((expr - placeholders[state]) if state in placeholders else expr)
        if any(isinstance(f, sp.core.function.AppliedUndef) for f in known.atoms(sp.Function)):
            return None  # a placeholder inside a term: not added
        known = sp.expand(known.xreplace({s: values[str(s)] for s in known.free_symbols if str(s) in values}))
        terms = _monomial_terms(known, columns, None)
        if terms is None:
            return None
        out[state] = terms
    return out


def _value(number: sp.Float) -> float:
    """A float's value as the compiled equations read it: a number kept to fewer digits (refits
    store 6) means the decimal it shows, not its shorter binary value."""
    return float(str(number)) if number._prec < 53 else float(number)


def _monomial_terms(expr: sp.Expr, columns: tuple[str, ...],
                    index: Mapping[sp.Float, int] | None) -> _Monomials | None:
    """`expr` as (exponents over `columns`, number index or fixed coefficient) per term, or None
    when it is not a sum of numbers times monomials (every float a term's coefficient). Without
    `index` every coefficient is fixed."""
    out: _Monomials = []
    for term in sp.Add.make_args(expr):
        coeff, rest = term.as_coeff_Mul()
        exponents = [0] * len(columns)
        for factor in sp.Mul.make_args(rest):
            base, power = factor.as_base_exp()
            if factor == 1:
                continue
            if not (base.is_Symbol and str(base) in columns and power.is_Integer and power > 0):
                return None
            exponents[columns.index(str(base))] += int(power)
        if index is not None and isinstance(coeff, sp.Float):
            out.append((tuple(exponents), index[coeff]))
        else:
            out.append((tuple(exponents), float(coeff)))
    return out


class _Layout:
    """Rows of one subset of a `Batch`: the linear candidates' first (one shared evaluation), then
    each other candidate's. Where the known part is a polynomial too (`Batch.known`), the linear
    candidates' whole right-hand sides are one product of coefficients and monomials; otherwise
    their residuals are, and the known part is the system's compiled function."""

    def __init__(self, batch: Batch, subset: tuple[int, ...]) -> None:
        self.batch = batch
        linear = [i for i, k in enumerate(subset) if batch.candidates[k].linear is not None]
        if len(linear) == 1 and batch.known is None:  # alone, its own compiled function is faster
            linear = []
        other = [i for i in range(len(subset)) if i not in linear]
        self.order = linear + other
        self.inverse = [self.order.index(i) for i in range(len(subset))]
        self.n_linear, self.general = len(linear), [batch.compiled(subset[i]) for i in other]
        if linear:
            self._plan([batch.candidates[subset[i]] for i in linear])

    def _plan(self, candidates: list[_Candidate]) -> None:
        """The monomials and where each coefficient comes from: the candidates' numbers (in row
        order), then fixed coefficients (the known part's, integers); several terms on one
        monomial (a known -w and a candidate's 0.35*w) add up."""
        batch, states = self.batch, self.batch.system.states
        assert batch.replaced is not None  # set by the first `add`, and a plan has candidates
        self.replaced = batch.replaced
        # outputs: every state's derivative, or the replaced residuals in the placeholder order
        self.outputs = list(states) if batch.known is not None else [
            s for s in batch.base.residual_states if s in self.replaced]
        offset, entries = 0, []  # entries: (monomial, candidate, output, source)
        fixed: list[float] = []
        for n, candidate in enumerate(candidates):
            assert candidate.linear is not None  # `_plan` is given the linear candidates only
            for o, state in enumerate(self.outputs):
                for exponents, c in [*(batch.known or {}).get(state, []), *candidate.linear.get(state, [])]:
                    source = offset + c if isinstance(c, int) else -1 - len(fixed)
                    if not isinstance(c, int):
                        fixed.append(c)
                    entries.append((exponents, n, o, source))
            offset += len(candidate.floats)
        keys = sorted({e for e, *_ in entries})
        shape = (len(keys), len(candidates), len(self.outputs))
        on = batch.device
        self.shape, self.fixed = shape, torch.tensor(fixed, dtype=torch.float64, device=on)
        self.slots = torch.tensor([(keys.index(e) * shape[1] + n) * shape[2] + o for e, n, o, _ in entries],
                                  dtype=torch.long, device=on)
        self.sources = torch.tensor([src if src >= 0 else offset - 1 - src for *_, src in entries], dtype=torch.long,
                                    device=on)
        self.plan = Monomials(keys, len(states), on)
        self.net_columns = torch.tensor([states.index(s) for s in batch.base.residual_states
                                         if s not in self.replaced], dtype=torch.long, device=on)

    def coefficients(self, numbers: list[torch.Tensor]) -> torch.Tensor:
        """The linear candidates' coefficients `(n_monomials, n_linear, n_outputs)` (`numbers` in row order)."""
        flat = torch.cat([*numbers[:self.n_linear], self.fixed])
        size = self.shape[0] * self.shape[1] * self.shape[2]
        return torch.zeros(size, dtype=flat.dtype, device=flat.device).index_add(
            0, self.slots, flat[self.sources]).view(self.shape)

    def rhs(self, numbers: list[torch.Tensor], b: int, nets: list[Callable]) -> Callable:
        """The right-hand side of all rows, for one integration (`numbers` in row order)."""
        batch, n_linear, split = self.batch, self.n_linear, self.n_linear * b
        if n_linear:
            coefficients = self.coefficients(numbers)
        general = [(rhs, p if p.numel() else None) for rhs, p in zip(self.general, numbers[n_linear:], strict=True)]

        def networks(y: torch.Tensor, u: torch.Tensor) -> list[torch.Tensor]:
            if not nets:
                return []
            z = torch.cat([y, u], dim=-1) if u.shape[-1] else y
            return [net(z[:, idx]) for net, idx in zip(nets, batch.features, strict=True)]

        def linear_rhs(y: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
            out, learned = linear(y, u, coefficients, self.plan), networks(y, u)
            if batch.known is not None:  # every derivative, the networks' residuals still to add
                return out.index_add(1, self.net_columns, torch.stack(learned, dim=-1)) if learned else out
            replaced, r = iter(out.unbind(-1)), iter(learned)
            return batch.base(y, u, torch.stack([next(replaced) if s in self.replaced else next(r)
                                                 for s in batch.base.residual_states], dim=-1))

        def f(y: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
            parts = []
            if n_linear:
                parts.append(linear_rhs(y, u) if not general else linear_rhs(y[:split], u[:split]))
            for i, (rhs, p) in enumerate(general):
                y_i, u_i = y[split + i * b:split + (i + 1) * b], u[split + i * b:split + (i + 1) * b]
                learned = networks(y_i, u_i)
                parts.append(rhs(y_i, u_i, torch.stack(learned, dim=-1) if learned else None, p))
            return parts[0] if len(parts) == 1 else torch.cat(parts)
        return f


MAX_ROWS = 16384  # candidates x windows integrated at once; beyond this the arithmetic, not the overhead, is the cost


def open_terms(system: EquationSystem) -> tuple[EquationSystem, dict[str, sp.Expr]]:
    """A closed system as a `Batch` candidate: (`system` with its discovered terms turned back
    into residual placeholders of every state and input, the terms). Assumes, as `_swap_terms`
    does, that each discovered term was added to its state's right-hand side."""
    rhs = list(system.rhs)
    for state, expr in system.discovered.items():
        rhs[system.state_index(state)] -= expr
    opened = dataclasses.replace(system, rhs=tuple(rhs), discovered={})
    for state in system.discovered:
        opened = opened.with_residual(state)
    return opened, dict(system.discovered)


def window_losses(batch: Batch, subset: Sequence[int], obs: torch.Tensor, inp: torch.Tensor, dt: float,
                  scale: torch.Tensor, substeps: int, numbers: Sequence[torch.Tensor]) -> torch.Tensor:
    """Each candidate's `Windows.loss` on windows (`obs`, `inp`), integrated from their first samples."""
    pred = batch.integrate(subset, obs[:, 0].expand(len(subset), -1, -1), inp, dt, substeps, numbers)
    return (((pred[:, :, 1:] - obs[None, :, 1:]) / scale) ** 2).mean((1, 2, 3))


def candidate_errors(batch: Batch, tests: Sequence, substeps: int, subset: Sequence[int] | None = None) -> list[float]:
    """`_score.checked_error` of candidates `subset` (default all) of `batch`: the mean over
    `tests` ((windows, indices), from `_score.checks`) of the scaled window re-simulation error;
    inf where it blows up."""
    subset = list(range(len(batch))) if subset is None else list(subset)
    totals = torch.zeros(len(subset), dtype=torch.float64)
    with torch.no_grad():
        for windows, idx in tests:
            obs, inp = windows.batch(idx)
            size = max(1, MAX_ROWS // len(idx))
            for at in range(0, len(subset), size):
                part = subset[at:at + size]
                totals[at:at + size] += window_losses(batch, part, obs, inp, windows.dt, windows.scale, substeps,
                                                      [batch.start(k) for k in part]).cpu()
    return [e if math.isfinite(e) else float("inf") for e in (totals / len(tests)).tolist()]


def fit_numbers(batch: Batch, subset: Sequence[int], windows, idx, substeps: int,
                iterations: int) -> list[tuple[dict[sp.Float, sp.Float] | None, float, float]]:
    """Refit the numbers of candidates `subset` of `batch` through the solver, each by its own
    L-BFGS on windows `idx` of `windows` (`lbfgs_many`). Returns per candidate (its floats ->
    refit floats (6 digits), or None where the refit did not lower the window error or blew up;
    the window error before; after)."""
    todo = [k for k in subset if batch.floats(k)]
    if not todo:
        return [(None, math.nan, math.nan) for _ in subset]
    obs, inp = windows.batch(idx)
    # each number moves in units of its own size: a prefactor of 1e9 next to a slope of 0.4
    # (c exp(b V)) left raw gives gradients 1e10 apart, and L-BFGS moved only the slope (the AdEx
    # missing-term case: slope stuck at 0.436 for 0.5, prefactor unchanged)
    starts = [batch.start(k) for k in todo]
    units = [s.abs().clamp_min(1e-12) for s in starts]
    logs = [torch.tensor(batch.exp_prefactors(k), dtype=torch.bool, device=batch.device) for k in todo]
    steps = [torch.zeros_like(s, requires_grad=True) for s in starts]

    def numbers(i: int) -> torch.Tensor:
        return torch.where(logs[i], starts[i] * torch.exp(steps[i]), starts[i] + units[i] * steps[i])

    results = lbfgs_many(steps, lambda ks: window_losses(batch, [todo[i] for i in ks], obs, inp, windows.dt,
                                                         windows.scale, substeps, [numbers(i) for i in ks]),
                         iterations)
    out: dict[int, tuple[dict[sp.Float, sp.Float] | None, float, float]]
    out = {k: (None, math.nan, math.nan) for k in subset}
    for i, (k, (before, after)) in enumerate(zip(todo, results, strict=True)):
        if math.isfinite(after) and after < before:
            value = numbers(i).detach().tolist()
            numbers_k = {f: sp.Float(v, 6) for f, v in zip(batch.floats(k), value, strict=True)}
            out[k] = numbers_k, before, after
        else:
            out[k] = None, before, after
    return [out[k] for k in subset]


__all__ = ["Batch", "candidate_errors", "open_terms", "fit_numbers", "window_losses"]
