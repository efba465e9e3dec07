"""Brian2: an equation string with physical units and a runnable script."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sympy.printing.str import StrPrinter

from ..equations import EquationSystem, parse_unit
from ._common import check_closed, in_model_units, print_final_state, target_names, units_text

# Brian2's own names: its clock, noise, group size, units and functions must not be shadowed
RESERVED = ("t", "dt", "xi", "i", "N", "e", "pi", "inf", "exp", "log", "sqrt", "tanh", "exprel", "abs",
            "volt", "amp", "second", "siemens", "farad", "ohm", "metre", "meter", "mole", "molar", "hertz", "Hz",
            "mV", "uV", "V", "pA", "nA", "uA", "mA", "A", "ms", "us", "s", "nS", "uS", "mS", "S", "pF", "nF", "uF",
            "F", "cm", "um", "mm", "m", "mM", "uM", "Mohm", "kohm", "Gohm")


class _BrianPrinter(StrPrinter):
    def _print_Abs(self, expr):
        return f"abs({self._print(expr.args[0])})"

    def _print_Function(self, expr):
        return f"{type(expr).__name__}({', '.join(self._print(a) for a in expr.args)})"


def _unit(text: str) -> str:
    return "1" if text in ("", "1") else text.replace("^", "**")


def time_unit(system: EquationSystem) -> str:
    return "ms" if system.time_unit in ("", "1") else _unit(system.time_unit)


def equations(system: EquationSystem) -> tuple[str, dict[str, str]]:
    """Brian2 `Equations` text and the names used. Right-hand sides are written in the model's
    units, each quantity divided by its unit, then scaled back: `dV/dt = (f(V/mV, ...))*mV/ms : volt`.
    """
    check_closed(system)
    names = target_names(system, RESERVED)
    printer = _BrianPrinter()
    lines = []
    for state, rhs in zip(system.states, system.rhs, strict=True):
        body = printer.doprint(in_model_units(rhs, system, names, _unit))
        unit = _unit(system.units.get(state, "1"))
        scale = f"({unit})/{time_unit(system)}" if unit != "1" else f"1/{time_unit(system)}"
        # a spiking model holds its reset value during the refractory period, as the fit assumed
        hold = " (unless refractory)" if system.spike is not None and system.spike.state == state else ""
        lines.append(f"d{names[state]}/dt = ({body}) * {scale} : {_dimension(unit)}{hold}")
    for u in system.inputs:
        lines.append(f"{names[u]} : {_dimension(_unit(system.units.get(u, '1')))}  # input: set it, or drive it")
    return "\n".join(lines), names


def _dimension(unit: str) -> str:
    """A Brian2 variable's declared unit is in base units: mV -> volt, mS/cm**2 -> metre**-4*kilogram**-1*..."""
    if unit == "1":
        return "1"
    dims = parse_unit(unit).dims
    named = {(2, 1, -3, -1, 0): "volt", (0, 0, 0, 1, 0): "amp", (-2, -1, 3, 2, 0): "siemens",
             (-2, -1, 4, 2, 0): "farad", (0, 0, 1, 0, 0): "second"}
    key = tuple(int(d) if d.denominator == 1 else None for d in dims)
    if key in named:
        return named[key]
    base = ("metre", "kilogram", "second", "amp", "mole")

    def power(b, d):
        return b if d == 1 else f"{b}**{d}" if d.denominator == 1 else f"{b}**{float(d)}"

    top = " * ".join(power(b, d) for b, d in zip(base, dims, strict=True) if d > 0) or "1"
    bottom = " * ".join(power(b, -d) for b, d in zip(base, dims, strict=True) if d < 0)
    return f"{top}/({bottom})" if " * " in bottom else f"{top}/{bottom}" if bottom else top


def _threshold(system: EquationSystem, names: Mapping[str, str], quantity) -> str:
    """The threshold condition: `V >= -30.0 * (mV)`; a moving one in the model's units and scaled
    back, each moving state divided by its unit: `V >= ((-45.0) + (12.0)*theta) * (mV)`."""
    r = system.spike
    assert r is not None  # rendered for spiking systems only
    v = names[r.watched]  # the state compared (a GIF's integrated escape rate, or V itself)
    if not r.moving:
        return f"{v} >= {quantity(r.watched, r.threshold)}"

    def number(name: str) -> str:  # the state as the number it is in discover
        unit = _unit(system.units.get(name, "1"))
        return names[name] if unit == "1" else f"({names[name]}/({unit}))"

    level = " + ".join([f"({float(r.threshold)!r})", *(f"({c!r})*{number(n)}" for n, c in r.moving)])
    unit = _unit(system.units.get(r.watched, "1"))
    return f"{v} >= ({level})" + ("" if unit == "1" else f" * ({unit})")


def render(system: EquationSystem, y0: Sequence[float], inputs: Mapping[str, float], duration: float) -> str:
    eqs, names = equations(system)
    units = {**{p.name: p.unit for p in system.parameters}, **system.units}

    def quantity(name: str, value: float) -> str:
        unit = _unit(units.get(name, "1"))
        return f"{float(value)!r}" if unit == "1" else f"{float(value)!r} * ({unit})"

    params = "\n".join(f"{names[p.name]} = {quantity(p.name, p.value)}"
                       + (f"  # {p.description}" if p.description else "") for p in system.parameters)
    set_y0 = "\n".join(f"    group.{names[s]} = y0[{i}]" + ("" if _unit(system.units.get(s, "1")) == "1"
                       else f" * ({_unit(system.units[s])})") for i, s in enumerate(system.states))
    set_u = "\n".join(f"    group.{names[u]} = inputs[{u!r}]" + ("" if _unit(system.units.get(u, "1")) == "1"
                      else f" * ({_unit(system.units[u])})") for u in system.inputs)
    out = "\n".join(f"    out[:, {i}] = np.asarray(monitor.{names[s]}[0]"
                    + ("" if _unit(system.units.get(s, "1")) == "1" else f" / ({_unit(system.units[s])})") + ")"
                    for i, s in enumerate(system.states))
    tu = time_unit(system)
    spiking = ""
    if system.spike is not None:
        r, v = system.spike, names[system.spike.state]
        reset = "; ".join([f"{v} = {quantity(r.state, r.reset)}",
                           *(f"{names[n]} = {quantity(n, x)}" for n, x in r.also),
                           *(f"{names[n]} += {quantity(n, x)}" for n, x in r.add)])
        spiking = (f", threshold={_threshold(system, names, quantity)!r}, "
                   f"reset={reset!r}, refractory={float(r.refractory)!r} * {tu}")
    return f'''"""{system.name}: exported by discover for Brian2 (numpy code generation; no compiler needed).

Units: {units_text(system)}; time in {tu}.
Provenance: {"; ".join(system.provenance) or "-"}

    python {system.name}_brian2.py     # runs from Y0 for DURATION and prints the final state
"""

import numpy as np
from brian2 import *  # noqa: F401,F403 - units and the Brian2 API, as Brian2's own examples do

prefs.codegen.target = "numpy"

{params}

EQUATIONS = """
{eqs}
"""
Y0 = {list(map(float, y0))!r}  # model units
INPUTS = {dict(inputs)!r}  # model units
DURATION = {float(duration)!r}  # {tu}


def run_model(duration=DURATION, y0=Y0, inputs=INPUTS, dt=0.01):
    """Simulate one neuron; returns (t in {tu}, states in model units, shaped (len(t), {len(system.states)}))."""
    start_scope()
    defaultclock.dt = dt * {tu}
    group = NeuronGroup(1, EQUATIONS, method="rk4"{spiking})
{set_y0}
{set_u}
    monitor = StateMonitor(group, {[names[s] for s in system.states]!r}, record=0)
    run(duration * {tu})
    out = np.empty((len(monitor.t), {len(system.states)}))
{out}
    return np.asarray(monitor.t / {tu}), out


if __name__ == "__main__":
    times, states = run_model()
    {print_final_state(repr(list(system.states)), "states[-1]")}
'''
