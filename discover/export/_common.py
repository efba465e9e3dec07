"""What every exporter shares: names safe for the target, expression printers, time scaling.

Exporters read only an `EquationSystem`. Right-hand sides are written in the model's own
units (a state in mV, time in ms: dV/dt in mV/ms), and each target gets the conversion it
needs at its boundary: Brian2 divides quantities by their units, NEURON's clock is in ms.
A system declared in dimensionless time (time unit "1") is run with one time unit = 1 ms.
"""

from __future__ import annotations

import dataclasses
import keyword
import re
from collections.abc import Iterable, Mapping, Sequence

import sympy as sp
from sympy.printing.str import StrPrinter

from .._errors import ConfigError
from ..equations import EquationSystem

MS_PER_TIME_UNIT = {"1": 1.0, "": 1.0, "ms": 1.0, "s": 1000.0, "us": 1e-3}


def ms_per_time_unit(system: EquationSystem) -> float:
    try:
        return MS_PER_TIME_UNIT[system.time_unit]
    except KeyError:
        raise ConfigError(
            f"time unit {system.time_unit!r} of {system.name!r} cannot be exported; use 'ms', 's' or '1'."
        ) from None


def unit_label(unit: str | None) -> str:
    """A unit as a reader sees it: "mV", or "dimensionless" for none ("1" or "")."""
    return "dimensionless" if unit in (None, "", "1") else str(unit)


def time_label(system: EquationSystem) -> str:
    """The unit of time the exported runners report: the model's own, or ms for a model in
    dimensionless time (run with one time unit = 1 ms)."""
    return "ms" if system.time_unit in ("", "1") else system.time_unit


def units_text(system: EquationSystem) -> str:
    """States and inputs with their units, one readable line: "states V (mV), w (dimensionless); inputs I (pA)"."""
    def listed(names):
        return ", ".join(f"{n} ({unit_label(system.units.get(n))})" for n in names)

    inputs = f"; inputs {listed(system.inputs)}" if system.inputs else ""
    return f"states {listed(system.states)}{inputs}"


def print_final_state(states: str, values: str) -> str:
    """The line an exported runner ends with: the final state as plain numbers. Printing the
    array's elements would show numpy 2's `np.float64(...)` reprs."""
    return f'print("final state:", ", ".join(f"{{name}} = {{value:.6g}}" for name, value in zip({states}, {values})))'


def check_closed(system: EquationSystem) -> None:
    if system.residuals:
        raise ConfigError(
            f"{system.name!r} still has neural residuals ({', '.join(system.residuals)}); export the discovered "
            "system (results' equations.json 'discovered'), whose residuals are closed-form terms."
        )


def plain(text: str) -> str:
    """Free text (descriptions, provenance) made inert for any generated file: one line, no
    quotes, backslashes or comment terminators, so a results file from elsewhere cannot smuggle
    code into a Python docstring, an NMODL comment or an XML comment."""
    text = re.sub(r"[^\w .,;:()+\-*/=<>%|&\[\]]", " ", str(text))
    text = re.sub(r"-{2,}", "-", text)
    return re.sub(r"\s+", " ", text).strip()


def identifier(name: str) -> str:
    """A file and model name: letters, digits and underscores, not starting with a digit."""
    out = re.sub(r"\W", "_", str(name), flags=re.ASCII).strip("_") or "model"
    return f"m_{out}" if out[0].isdigit() else out


def inert(system: EquationSystem) -> EquationSystem:
    """The system with its name made an identifier and its free text made `plain`."""
    return dataclasses.replace(
        system, name=identifier(system.name), provenance=tuple(plain(p) for p in system.provenance),
        parameters=tuple(dataclasses.replace(p, description=plain(p.description)) for p in system.parameters),
    )


def safe_names(names: Iterable[str], reserved: Iterable[str]) -> dict[str, str]:
    """name -> a name the target accepts: reserved words get a trailing underscore."""
    taken = set(reserved) | set(keyword.kwlist)
    return {name: unused(name, taken) for name in names}


def unused(name: str, taken: set[str]) -> str:
    """`name` with trailing underscores until it is not in `taken`; the result is added to `taken`."""
    while name in taken:
        name = f"{name}_"
    taken.add(name)
    return name


def target_names(system: EquationSystem, reserved: Iterable[str]) -> dict[str, str]:
    """Every state, input and parameter name -> a name the target accepts (see `safe_names`)."""
    return safe_names([*system.states, *system.inputs, *(p.name for p in system.parameters)], reserved)


def in_model_units(expr: sp.Expr, system: EquationSystem, names: Mapping[str, str], one_unit) -> sp.Expr:
    """`expr` renamed for a target with units, each quantity that has a unit divided by
    `one_unit(unit)` (the target's text for one such unit: `mV` in Brian2, `1 mV` in NESTML),
    so every symbol stands for the same number it was in discover."""
    units = {**{p.name: p.unit for p in system.parameters}, **system.units}
    return expr.xreplace({
        system.symbol(old): sp.Symbol(new if units.get(old, "1") in ("", "1") else f"({new}/({one_unit(units[old])}))",
                                      real=True)
        for old, new in names.items()
    })


def renamed(expr: sp.Expr, system: EquationSystem, names: Mapping[str, str]) -> sp.Expr:
    return expr.xreplace({system.symbol(old): sp.Symbol(new, real=True) for old, new in names.items() if old != new})


class InfixPrinter(StrPrinter):
    """Fully parenthesised infix with `^` for powers (NMODL, LEMS, NESTML).

    PyLEMS mis-parses chained `a - b - c + d`; every binary operation is bracketed so no
    target's precedence rules are ever relied upon.
    """

    functions: Mapping[str, str] = {}
    power = "^"

    def _print_Add(self, expr, order=None):
        return "(" + " + ".join(self._print(a) for a in expr.args) + ")"

    def _print_Mul(self, expr):
        coeff, rest = expr.as_coeff_Mul()
        if coeff == -1:
            return f"(-{self._print(rest)})"
        return "(" + " * ".join(self._print(a) for a in expr.args) + ")"

    def _print_Pow(self, expr):
        base, exp = expr.args
        if exp == -1:
            return f"(1.0 / {self._print(base)})"
        if exp == sp.Rational(1, 2):
            return f"{self.functions.get('sqrt', 'sqrt')}({self._print(base)})"
        return f"({self._print(base)}{self.power}{self._print(exp)})"

    def _print_Rational(self, expr):  # a float literal: never C's integer division
        return repr(float(expr)) if expr >= 0 else f"({float(expr)!r})"

    def _print_Float(self, expr):
        return repr(float(expr)) if float(expr) >= 0 else f"({float(expr)!r})"

    def _print_Integer(self, expr):  # integer division cannot arise: p/q is a Rational, 1/x prints 1.0/x
        return str(int(expr)) if int(expr) >= 0 else f"({int(expr)})"

    def _print_Function(self, expr):
        name = type(expr).__name__
        args = ", ".join(self._print(a) for a in expr.args)
        return f"{self.functions.get(name, name)}({args})"

    def _print_Abs(self, expr):
        return f"{self.functions.get('Abs', 'abs')}({self._print(expr.args[0])})"

    def _print_Exp1(self, expr):
        return f"{self.functions.get('exp', 'exp')}(1)"

    def _print_Pi(self, expr):
        return "3.141592653589793"


def expand_exprel(expr: sp.Expr) -> sp.Expr:
    """exprel(x) -> (exp(x) - 1)/x for targets without it (finite except exactly at x = 0)."""
    return expr.replace(lambda e: type(e).__name__ == "exprel", lambda e: (sp.exp(e.args[0]) - 1) / e.args[0])


def initial_names(names: Mapping[str, str], states: Sequence[str]) -> dict[str, str]:
    """Each state's initial-value parameter: `<state>0`, made unique against every target name (a
    GIF's states w_3 and w_30 would otherwise share `w_30`, and the state would read the parameter)."""
    taken = set(names.values())
    return {s: unused(f"{names[s]}0", taken) for s in states}
