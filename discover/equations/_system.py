"""The one hand-off type between pipeline stages: a sympy equation system."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from .._errors import EquationError, did_you_mean
from ._functions import exprel
from ._parse import parse_equation, parse_expression
from ._spike import SpikeRule
from ._units import check_units

RESIDUAL_PREFIX = "U_"
"""Residual placeholders are undefined functions named `U_<state>` of the residual's features."""


@dataclass(frozen=True)
class Parameter:
    """A named constant of a model, with its value and unit (a Brian-style unit string)."""

    name: str
    value: float
    unit: str = "1"
    description: str = ""

    def __post_init__(self) -> None:
        # an infinite or NaN value would only surface later as a "training divergence"
        try:
            finite = math.isfinite(float(self.value))
        except (TypeError, ValueError):
            raise EquationError(
                f"parameter {self.name!r} has value {self.value!r}; give a number, e.g. {self.name} = 0.5."
            ) from None
        if not finite:
            raise EquationError(f"parameter {self.name!r} has value {self.value!r}; give a finite number.")


@dataclass(frozen=True)
class EquationSystem:
    """dx/dt = f(x, u; p): states, inputs, parameters with units, right-hand sides, provenance.

    Right-hand sides may contain residual placeholders `U_x(features...)`: undefined sympy
    functions standing for a neural network during UDE training; distillation replaces them
    with closed-form terms. Every stage reads and writes this type.

    **Arguments:**
    - `states`: state names, in the order of `rhs`.
    - `rhs`: one sympy expression per state.
    - `inputs`: names of external inputs (e.g. injected current `I`).
    - `parameters`: `Parameter`s; their values are substituted when the system is compiled.
    - `units`: unit string of each state and input (missing ones are dimensionless).
    - `time_unit`: unit of t.
    - `discovered`: state -> closed-form terms that distillation put there (for reports).
    - `provenance`: free-text notes of where each part came from, oldest first.
    - `spike`: a `SpikeRule` (threshold, reset, refractory) for hybrid spiking models, or None.
    """

    states: tuple[str, ...]
    rhs: tuple[sp.Expr, ...]
    inputs: tuple[str, ...] = ()
    parameters: tuple[Parameter, ...] = ()
    units: Mapping[str, str] = field(default_factory=dict)
    time_unit: str = "1"
    name: str = "model"
    discovered: Mapping[str, sp.Expr] = field(default_factory=dict)
    provenance: tuple[str, ...] = ()
    spike: SpikeRule | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "states", tuple(self.states))
        object.__setattr__(self, "inputs", tuple(self.inputs))
        object.__setattr__(self, "parameters", tuple(self.parameters))
        object.__setattr__(self, "rhs", tuple(sp.sympify(r) if isinstance(r, (int, float)) else r for r in self.rhs))
        self._check()

    # Error checking
    def _check(self) -> None:
        if len(self.rhs) != len(self.states):
            raise EquationError(
                f"{len(self.states)} states {list(self.states)} but {len(self.rhs)} right-hand sides; give one per "
                "state."
            )
        names = [*self.states, *self.inputs, *self.parameter_names]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise EquationError(f"names {duplicates} are declared more than once among states, inputs and parameters.")
        for n in names:
            if not n.isidentifier() or n.startswith(RESIDUAL_PREFIX):
                raise EquationError(
                    f"name {n!r} is not allowed: use a Python identifier that does not start with {RESIDUAL_PREFIX!r}."
                )
        if self.spike is not None:
            self.spike.check_names(self.states)
        for name in self.units:
            if name not in (*self.states, *self.inputs):
                raise EquationError(
                    f"`units` names {name!r}, which is not a state or input; give parameter units on the Parameter."
                    + did_you_mean(name, (*self.states, *self.inputs))
                )
        known = set(names)
        for state, expr in zip(self.states, self.rhs, strict=True):
            if not isinstance(expr, sp.Expr):
                raise EquationError(f"right-hand side of d{state}/dt must be a sympy expression, got {expr!r}.")
            for sym in expr.free_symbols:
                if str(sym) not in known:
                    raise EquationError(
                        f"d{state}/dt uses undeclared name `{sym}`; declare it as a state, input or parameter."
                        + did_you_mean(str(sym), known)
                    )
        check_units(self)

    # Names and symbols
    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    @property
    def parameter_values(self) -> dict[str, float]:
        return {p.name: float(p.value) for p in self.parameters}

    def symbol(self, name: str) -> sp.Symbol:
        return sp.Symbol(name, real=True)

    def equation(self, state: str) -> sp.Expr:
        """The right-hand side of d`state`/dt."""
        return self.rhs[self.state_index(state)]

    def state_index(self, state: str) -> int:
        if state not in self.states:
            raise EquationError(f"unknown state {state!r}; states are {list(self.states)}."
                                f"{did_you_mean(state, self.states)}")
        return self.states.index(state)

    # Residual placeholders
    @property
    def residuals(self) -> dict[str, sp.Expr]:
        """State -> its residual placeholder application `U_x(features...)`."""
        out = {}
        for state, expr in zip(self.states, self.rhs, strict=True):
            for f in expr.atoms(sp.Function):
                if type(f).__name__.startswith(RESIDUAL_PREFIX):
                    out[state] = f
        return out

    def residual_features(self, state: str) -> tuple[str, ...]:
        return tuple(str(a) for a in self.residuals[state].args)

    def with_residual(self, state: str, features: Sequence[str] | None = None) -> EquationSystem:
        """Add a residual placeholder `U_state(features)` to d`state`/dt (default features: states + inputs)."""
        i = self.state_index(state)
        features = tuple(features) if features is not None else (*self.states, *self.inputs)
        allowed = (*self.states, *self.inputs)
        for f in features:
            if f not in allowed:
                raise EquationError(
                    f"residual feature {f!r} for d{state}/dt is not a state or input {list(allowed)}."
                    f"{did_you_mean(f, allowed)}"
                )
        if not features:
            raise EquationError(f"the residual on d{state}/dt needs at least one feature (a state or input).")
        if state in self.residuals:
            raise EquationError(f"d{state}/dt already has a residual {self.residuals[state]}.")
        term = sp.Function(RESIDUAL_PREFIX + state)(*[self.symbol(f) for f in features])
        rhs = list(self.rhs)
        rhs[i] = rhs[i] + term
        note = f"d{state}/dt: neural-network residual of ({', '.join(features)}) added"
        return dataclasses.replace(self, rhs=tuple(rhs), provenance=(*self.provenance, note))

    def replace_residuals(self, terms: Mapping[str, sp.Expr], how: str) -> EquationSystem:
        """Replace each state's residual placeholder by a closed-form expression."""
        residuals = self.residuals
        rhs = list(self.rhs)
        for state, expr in terms.items():
            if state not in residuals:
                raise EquationError(f"d{state}/dt has no residual to replace; residuals are on {sorted(residuals)}.")
            i = self.state_index(state)
            rhs[i] = rhs[i].subs(residuals[state], expr)
        notes = tuple(f"d{s}/dt: residual replaced by {sp.sstr(e)} ({how})" for s, e in terms.items())
        return dataclasses.replace(
            self,
            rhs=tuple(rhs),
            discovered={**self.discovered, **terms},
            provenance=(*self.provenance, *notes),
        )

    def with_note(self, note: str) -> EquationSystem:
        """A copy whose provenance ends with `note` and the discovered terms it left. A change of
        the numbers (refit, rounding, pruning) names the terms it produced, so the last term a
        reader meets in the provenance is the one the equations, reports and exports carry."""
        terms = "; ".join(f"d{s}/dt term {sp.sstr(e)}" for s, e in self.discovered.items())
        return dataclasses.replace(self, provenance=(*self.provenance, f"{note}: {terms}" if terms else note))

    def with_parameters(self, values: Mapping[str, float]) -> EquationSystem:
        """A copy with some parameter values changed (units and descriptions kept)."""
        for name in values:
            if name not in self.parameter_names:
                raise EquationError(
                    f"{self.name} has no parameter {name!r}; its parameters are {list(self.parameter_names)}."
                    + did_you_mean(name, self.parameter_names)
                )
        params = tuple(dataclasses.replace(p, value=float(values[p.name])) if p.name in values else p
                       for p in self.parameters)
        return dataclasses.replace(self, parameters=params)

    def without_terms(self, state: str, terms: Sequence[str | sp.Expr]) -> EquationSystem:
        """Remove named additive terms from d`state`/dt (text is parsed with the whitelist).

        A term matches when every monomial of its expansion appears, with the same coefficient,
        in the expanded right-hand side; its sign may be given either way (`v**3/3` removes
        `-v**3/3`). Use this to declare which part of a library model is unknown, then put a
        residual there with `with_residual`.
        """
        i = self.state_index(state)
        names = [*self.states, *self.inputs, *self.parameter_names]
        rhs = self.rhs[i]
        for term in terms:
            expr = parse_expression(term, names) if isinstance(term, str) else term
            present = sp.Add.make_args(sp.expand(rhs))
            for signed in (expr, -expr):
                if all(piece in present for piece in sp.Add.make_args(sp.expand(signed))):
                    rhs = sp.expand(rhs - signed)
                    break
            else:
                shown = ", ".join(sp.sstr(p) for p in present)
                raise EquationError(f"term `{term}` is not in d{state}/dt; its terms are: {shown}.")
        new = list(self.rhs)
        new[i] = rhs
        note = f"d{state}/dt: removed {', '.join(str(t) for t in terms)}"
        return dataclasses.replace(self, rhs=tuple(new), provenance=(*self.provenance, note))

    def without_residuals(self) -> EquationSystem:
        """The known part alone: every residual placeholder set to zero."""
        return self.replace_residuals({s: sp.Integer(0) for s in self.residuals}, how="known part only")

    def substituted(self) -> tuple[sp.Expr, ...]:
        """Right-hand sides with parameter values substituted."""
        values = {self.symbol(p.name): p.value for p in self.parameters}
        return tuple(r.subs(values) for r in self.rhs)

    # Construction from text and (de)serialisation
    @classmethod
    def from_text(
        cls,
        equations: Sequence[str],
        *,
        inputs: Iterable[str] = (),
        parameters: Mapping[str, float] | Iterable[Parameter] = (),
        **kwargs: Any,
    ) -> EquationSystem:
        """Build a system from `"dx/dt = ..."` strings, parsed with a whitelist (never `eval`)."""
        if isinstance(equations, str):
            equations = [equations]
        params = _as_parameters(parameters)
        lhs = [_lhs_name(e) for e in equations]
        names = [*lhs, *inputs, *(p.name for p in params)]
        parsed = [parse_equation(e, names) for e in equations]
        return cls(
            states=tuple(s for s, _ in parsed),
            rhs=tuple(r for _, r in parsed),
            inputs=tuple(inputs),
            parameters=params,
            **kwargs,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "states": list(self.states),
            "inputs": list(self.inputs),
            "parameters": [dataclasses.asdict(p) for p in self.parameters],
            "units": dict(self.units),
            "time_unit": self.time_unit,
            "equations": [f"d{s}/dt = {sp.sstr(r)}" for s, r in zip(self.states, self.rhs, strict=True)],
            "discovered": {s: sp.sstr(e) for s, e in self.discovered.items()},
            "provenance": list(self.provenance),
            **({"spike": dataclasses.asdict(self.spike)} if self.spike is not None else {}),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EquationSystem:
        """Inverse of `to_dict`; expressions are re-parsed with the whitelist parser. A file
        edited by hand gets an `EquationError` naming the entry that is wrong."""
        if not isinstance(data, Mapping):
            raise EquationError(f"a saved equation system is a JSON object (to_dict()), got {type(data).__name__}.")
        equations = _saved(data, "equations", list, None)
        inputs, provenance = _saved(data, "inputs", list, []), _saved(data, "provenance", list, [])
        if not all(isinstance(i, str) for i in inputs):
            raise EquationError(f"`inputs` of a saved equation system must be names (strings), got {inputs!r:.80}.")
        units, found = _saved(data, "units", Mapping, {}), _saved(data, "discovered", Mapping, {})
        try:
            states = [_lhs_name(e) for e in equations]
            params = tuple(Parameter(**p) for p in _saved(data, "parameters", list, []))
            spike = SpikeRule(**data["spike"]) if data.get("spike") is not None else None
        except (TypeError, ValueError) as exc:
            raise EquationError(f"not a saved equation system: {exc}; compare with EquationSystem.to_dict().") from None
        names = [*states, *inputs, *(p.name for p in params)]
        placeholders = {RESIDUAL_PREFIX + s: sp.Function(RESIDUAL_PREFIX + s) for s in states}
        functions = {"Abs": sp.Abs, "exprel": exprel, **placeholders}
        rhs = tuple(parse_equation(e, names, functions)[1] for e in equations)
        discovered = {s: parse_expression(e, names, functions) for s, e in found.items()}
        return cls(
            states=tuple(states), rhs=rhs, inputs=tuple(inputs), parameters=params, units=dict(units),
            time_unit=_saved(data, "time_unit", str, "1"), name=_saved(data, "name", str, "model"),
            discovered=discovered, provenance=tuple(str(p) for p in provenance), spike=spike,
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def __str__(self) -> str:
        lines = [f"d{s}/dt = {sp.sstr(r)}" for s, r in zip(self.states, self.rhs, strict=True)]
        if self.parameters:
            lines.append("with " + ", ".join(f"{p.name}={p.value:g}" for p in self.parameters))
        if self.spike is not None:
            r = self.spike
            lines.append(f"spike when {r.watched} >= {r.threshold_text()}: {r.state} -> {r.reset:g}{r.effects()}, "
                         f"held for {r.refractory:g} {self.time_unit}")
        return "\n".join(lines)


def _saved(data: Mapping[str, Any], key: str, kind: type, default: Any) -> Any:
    """One entry of a saved system, checked for its JSON type (`default` None: required)."""
    if key not in data or (data[key] is None and default is not None):
        if default is None:
            raise EquationError(f"a saved equation system needs `{key}`; compare with EquationSystem.to_dict().")
        return default
    value = data[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        names: dict[object, str] = {list: "a list", Mapping: "an object", str: "a string"}
        wanted = names[kind]
        raise EquationError(f"`{key}` of a saved equation system must be {wanted}, got {value!r:.80}.")
    return value


def _lhs_name(equation: str) -> str:
    if not isinstance(equation, str) or "=" not in equation:
        raise EquationError(f"expected 'dx/dt = expression', got {equation!r}.")
    return parse_equation(equation.split("=")[0] + "= 0", [])[0]


def _as_parameters(parameters: Mapping[str, float] | Iterable[Parameter]) -> tuple[Parameter, ...]:
    if isinstance(parameters, Mapping):
        out = []
        for k, v in parameters.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise EquationError(f"parameter {k!r} must be a number, got {v!r}.")
            out.append(Parameter(str(k), float(v)))
        return tuple(out)
    return tuple(parameters)
