"""Unit strings (Brian-style: "mV", "uA/cm**2", "1/ms") and dimensional consistency of equations.

A unit is a scale and a vector of SI base exponents (m, kg, s, A, mol). Unit strings are parsed
with a whitelist, like equations. Checking rules: numbers are dimensionless factors, except that
a number added to dimensional terms takes their unit (`V + 65` with V in mV); arguments of exp,
tanh, exprel, ... must be dimensionless; residual placeholders and discovered terms (fitted
constants carry hidden units) are not checked.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

from .._errors import EquationError, did_you_mean

_DIMS = ("m", "kg", "s", "A", "mol")


@dataclass(frozen=True)
class Unit:
    scale: float
    dims: tuple[Fraction, ...]

    def __mul__(self, other: Unit) -> Unit:
        return Unit(self.scale * other.scale, tuple(a + b for a, b in zip(self.dims, other.dims, strict=True)))

    def __truediv__(self, other: Unit) -> Unit:
        return Unit(self.scale / other.scale, tuple(a - b for a, b in zip(self.dims, other.dims, strict=True)))

    def __pow__(self, k) -> Unit:
        k = Fraction(k)
        return Unit(self.scale ** float(k), tuple(a * k for a in self.dims))

    def same(self, other: Unit) -> bool:
        return self.dims == other.dims and abs(self.scale / other.scale - 1) < 1e-9

    @property
    def dimensionless(self) -> bool:
        return all(d == 0 for d in self.dims)


def _u(scale: float, m=0, kg=0, s=0, A=0, mol=0) -> Unit:
    return Unit(scale, tuple(Fraction(x) for x in (m, kg, s, A, mol)))


ONE = _u(1.0)
_BASE = {
    "V": _u(1, m=2, kg=1, s=-3, A=-1), "A": _u(1, A=1), "S": _u(1, m=-2, kg=-1, s=3, A=2),
    "F": _u(1, m=-2, kg=-1, s=4, A=2), "ohm": _u(1, m=2, kg=1, s=-3, A=-2), "s": _u(1, s=1),
    "Hz": _u(1, s=-1), "m": _u(1, m=1), "g": _u(1e-3, kg=1), "mol": _u(1, mol=1),
    "l": _u(1e-3, m=3), "L": _u(1e-3, m=3), "M": _u(1e3, m=-3, mol=1), "C": _u(1, s=1, A=1),
}
_PREFIX = {"G": 1e9, "M": 1e6, "k": 1e3, "c": 1e-2, "m": 1e-3, "u": 1e-6, "n": 1e-9, "p": 1e-12, "f": 1e-15}


def _unit_name(name: str) -> Unit:
    if name in _BASE:
        return _BASE[name]
    if len(name) > 1 and name[0] in _PREFIX and name[1:] in _BASE:
        base = _BASE[name[1:]]
        return Unit(base.scale * _PREFIX[name[0]], base.dims)
    examples = ["mV", "ms", "pA", "nA", "uA", "pF", "uF", "nS", "mS", "cm", "Hz", "Mohm", "mM"]
    raise EquationError(f"unknown unit `{name}`; use SI units with prefixes, e.g. {', '.join(examples)}."
                        f"{did_you_mean(name, examples)}")


def parse_unit(text: str) -> Unit:
    """Parse a unit string such as "mS/cm**2" or "1/ms" ("1" or "" is dimensionless)."""
    if not isinstance(text, str):
        raise EquationError(f"a unit must be text such as 'mV', got {text!r}.")
    if text.strip() in ("", "1"):
        return ONE
    try:
        tree = ast.parse(text.replace("^", "**").strip(), mode="eval").body
    except SyntaxError:
        raise EquationError(f"cannot parse unit {text!r}; write it like 'mS/cm**2'.") from None
    return _build_unit(tree, text)


def _build_unit(node: ast.AST, text: str) -> Unit:
    if isinstance(node, ast.Name):
        return _unit_name(node.id)
    if isinstance(node, ast.Constant) and node.value == 1:
        return ONE
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div)):
        left, right = _build_unit(node.left, text), _build_unit(node.right, text)
        return left * right if isinstance(node.op, ast.Mult) else left / right
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        exponent = node.right
        sign = 1
        if isinstance(exponent, ast.UnaryOp) and isinstance(exponent.op, ast.USub):
            exponent, sign = exponent.operand, -1
        if isinstance(exponent, ast.Constant) and type(exponent.value) is int:  # a bool is an int too: not a power
            return _build_unit(node.left, text) ** (sign * exponent.value)
    raise EquationError(f"unit {text!r} may hold only unit names, *, / and integer powers.")


_WILD = None  # a number or fitted term: takes whatever unit its context needs


class _Checker:
    def __init__(self, units: dict[str, Unit], state: str) -> None:
        self.units, self.state = units, state

    def fail(self, expr: sp.Expr, why: str) -> EquationError:
        return EquationError(f"units in d{self.state}/dt: {why} in `{sp.sstr(expr)}`.")

    def unit(self, expr: sp.Expr) -> Unit | None:
        if expr.is_Number or expr in (sp.pi, sp.E):
            return _WILD
        if expr.is_Symbol:
            return self.units.get(str(expr), ONE)
        if isinstance(expr, sp.Add):
            return self._add(expr)
        if isinstance(expr, sp.Mul):
            return self._mul(expr)
        if isinstance(expr, sp.Pow):
            return self._pow(expr)
        if isinstance(expr, sp.Function):
            if type(expr).__name__.startswith("U_"):
                return _WILD
            if isinstance(expr, sp.Abs):  # |x| carries x's unit: |V - V_knee| is in mV
                return self.unit(expr.args[0])
            for arg in expr.args:
                u = self.unit(arg)
                if u is not _WILD and not u.dimensionless:
                    raise self.fail(expr, f"the argument of {type(expr).__name__} must be dimensionless")
            return ONE
        raise self.fail(expr, f"cannot check units of {type(expr).__name__}")

    def _add(self, expr: sp.Add) -> Unit | None:
        known = [(a, u) for a, u in ((a, self.unit(a)) for a in expr.args) if u is not _WILD]
        for a, u in known[1:]:
            if not u.same(known[0][1]):
                raise self.fail(expr, f"`{sp.sstr(known[0][0])}` and `{sp.sstr(a)}` have different units")
        return known[0][1] if known else _WILD

    def _mul(self, expr: sp.Mul) -> Unit | None:
        units = [self.unit(a) for a in expr.args if not a.is_Number]
        known = [u for u in units if u is not _WILD]
        if len(known) < len(units):
            return _WILD
        out = ONE
        for u in known:
            out = out * u
        return out

    def _pow(self, expr: sp.Pow) -> Unit | None:
        base = self.unit(expr.base)
        if not expr.exp.is_Rational:
            if base is not _WILD and not base.dimensionless:
                raise self.fail(expr, "a dimensional base needs a constant exponent")
            return ONE if base is not _WILD else _WILD
        if base is _WILD:
            return _WILD
        return base ** Fraction(int(expr.exp.p), int(expr.exp.q))


def check_units(system) -> None:
    """Raise `EquationError` where a right-hand side's units differ from d(state)/dt's.

    Does nothing for a system that declares no units at all.
    """
    declared = [*system.units.values(), *(p.unit for p in system.parameters), system.time_unit]
    if all(u in ("", "1") for u in declared):
        return
    units = {name: parse_unit(u) for name, u in system.units.items()}
    units.update({p.name: parse_unit(p.unit) for p in system.parameters})
    time = parse_unit(system.time_unit)
    for state, rhs in zip(system.states, system.rhs, strict=True):
        known = rhs - system.discovered[state] if state in system.discovered else rhs
        got = _Checker(units, state).unit(sp.expand(known) if isinstance(known, sp.Add) else known)
        want = units.get(state, ONE) / time
        if got is not _WILD and got.dims == want.dims and not got.same(want):
            raise EquationError(
                f"units in d{state}/dt: the right-hand side is {got.scale / want.scale:g} x "
                f"{system.units.get(state, '1')}/{system.time_unit}, "
                f"not {system.units.get(state, '1')}/{system.time_unit}: "
                "a prefix mismatch (e.g. nF where pF was meant); check the parameters' units."
            )
        if got is not _WILD and not got.same(want):
            raise EquationError(
                f"units in d{state}/dt: the right-hand side has units {describe(got)} but d{state}/dt needs "
                f"{describe(want)} ({system.units.get(state, '1')} per {system.time_unit}); check the parameters' "
                "units."
            )


def describe(u: Unit) -> str:
    dims = " ".join(f"{n}^{d}" if d != 1 else n for n, d in zip(_DIMS, u.dims, strict=True) if d != 0)
    dims = dims or "dimensionless"
    return f"{u.scale:g} {dims}" if u.scale != 1 else dims
