"""NESTML: a neuron model file for NEST (parsed and checked by the nestml toolchain).

Quantities keep their physical units (mV, pA, nS, pF, ms); right-hand sides are written in the
model's units and scaled back, as for Brian2: V' = (f(V/mV, ...)) * mV/ms. Inputs are
parameters (set them per neuron in NEST); `exprel` is written out as (exp(x) - 1)/x.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import sympy as sp
from sympy.printing.str import StrPrinter

from ..equations import EquationSystem
from ._common import check_closed, expand_exprel, in_model_units, target_names

RESERVED = ("t", "e", "exp", "ln", "log10", "tanh", "sinh", "cosh", "abs", "resolution", "steps", "emit_spike",
            "integrate_odes", "mV", "pA", "nA", "nS", "pF", "ms", "s", "V", "A", "S", "F", "real", "integer",
            "model", "state", "parameters", "equations", "update", "input", "output", "inline", "function",
            "refr_t", "spike", "onCondition")


class _NestmlPrinter(StrPrinter):
    def _print_Function(self, expr):
        name = {"log": "ln", "Abs": "abs"}.get(type(expr).__name__, type(expr).__name__)
        return f"{name}({', '.join(self._print(a) for a in expr.args)})"

    _print_Abs = _print_Function

    def _print_Min(self, expr):  # NESTML's min takes two arguments
        first, *rest = expr.args
        return f"min({self._print(first)}, {self._print(sp.Min(*rest)) if len(rest) > 1 else self._print(rest[0])})"

    def _print_Float(self, expr):
        return repr(float(expr))


def _unit(text: str) -> str:
    return "" if text in ("", "1") else text


def render(system: EquationSystem, y0: Sequence[float], inputs: Mapping[str, float], duration: float) -> str:
    check_closed(system)
    names = target_names(system, RESERVED)
    units = {**{p.name: p.unit for p in system.parameters}, **system.units}
    time_unit = "ms" if system.time_unit in ("", "1") else system.time_unit

    def quantity(name: str, value: float) -> str:
        unit = _unit(units.get(name, "1"))
        return f"{float(value)!r}" + (f" {unit}" if unit else "")

    def decl(name: str, value: float) -> str:
        return f"{names[name]} {_unit(units.get(name, '1')) or 'real'} = {quantity(name, value)}"

    printer = _NestmlPrinter()
    odes = []
    for state, rhs in zip(system.states, _bounded(system), strict=True):
        # NESTML allows no free-standing unit: divide by a literal `1 mV` instead
        body = printer.doprint(in_model_units(expand_exprel(rhs), system, names, lambda unit: f"1 {_unit(unit)}"))
        unit = _unit(system.units.get(state, "1"))
        odes.append(f"        {names[state]}' = ({body}) * (1 {unit or ''}) / (1 {time_unit})".replace("(1 )", "1"))
    model = model_name(system)
    states = ["        " + decl(s, y) for s, y in zip(system.states, y0, strict=True)]
    update: list[str] = ["        integrate_odes()"]
    spiking: list[str] = []
    if system.spike is not None:
        update, spiking = _spiking(system, names, quantity, time_unit)
        if system.spike.refractory > 0:
            states.append("        refr_t ms = 0 ms    # time left in the refractory period")
            odes.append("        refr_t' = -1")
    return f"""# {system.name}: exported by discover. States {list(system.states)}; parameters editable in NEST.
# Provenance: {"; ".join(system.provenance) or "-"}
model {model}:
    state:
{chr(10).join(states)}

    parameters:
{chr(10).join("        " + decl(p.name, p.value) for p in system.parameters)}
{chr(10).join("        " + decl(u, inputs[u]) for u in system.inputs)}

    equations:
{chr(10).join(odes)}
{"".join(chr(10) + line for line in spiking[:3])}
    update:
{chr(10).join(update)}
{"".join(chr(10) + line for line in spiking[3:])}"""


def model_name(system: EquationSystem) -> str:
    """The NESTML model's name for `system` (what `nest.Create` takes once the module is built)."""
    return "".join(ch if ch.isalnum() else "_" for ch in system.name) + "_neuron"


def _bounded(system: EquationSystem) -> tuple[sp.Expr, ...]:
    """The right-hand sides, reading the spiking state as min(V, threshold) where there is a spike
    rule: NEST's integrator (GSL's adaptive RK45) steps past the threshold before `onCondition` is
    checked, and an exponential upstroke then overflows within the step (V becomes NaN; NEST's own
    aeif models bound V the same way). Below the threshold, the only place the model integrates V,
    nothing changes."""
    rule = system.spike
    if rule is None:
        return system.rhs
    if rule.watch is not None:  # V is not compared (a GIF's escape rate is): nothing to bound it by
        return system.rhs
    v = system.symbol(rule.state)
    level = sp.Float(rule.threshold) + sum(sp.Float(c) * system.symbol(n) for n, c in rule.moving)
    return tuple(rhs.xreplace({v: sp.Min(v, level)}) for rhs in system.rhs)


def _spiking(system: EquationSystem, names, quantity, time_unit: str) -> tuple[list[str], list[str]]:
    """(update block, output block + onCondition block) for a spike rule, the way NESTML's own
    iaf/aeif models write it: a refractory timer, the spiking state left out of the integration
    while it runs, and at the threshold the reset, the jumps and `emit_spike()`."""
    rule = system.spike
    assert rule is not None  # rendered for spiking systems only
    v = names[rule.state]
    others = [names[s] for s in system.states if s != rule.state]
    fire = [f"        {v} = {quantity(rule.state, rule.reset)}",
            *(f"        {names[n]} = {quantity(n, x)}" for n, x in rule.also),
            *(f"        {names[n]} += {quantity(n, x)}" for n, x in rule.add), "        emit_spike()"]
    watched = names[rule.watched]  # V, or the state compared in its place (a GIF's integrated escape rate)
    condition = f"{watched} >= {quantity(rule.watched, rule.threshold)}"
    if rule.moving:  # in the model's units, scaled back as the ODEs are: V >= ((-45.0) + (12.0)*theta) * (1 mV)
        level = " + ".join([f"({float(rule.threshold)!r})", *(f"({c!r})*{_number(system, names, n)}"
                                                               for n, c in rule.moving)])
        condition = f"{watched} >= ({level}) * (1 {_unit(system.units.get(rule.watched, '1'))})".replace(" * (1 )", "")
    if rule.refractory <= 0:
        return ["        integrate_odes()"], ["    output:", "        spike", "",
                                               f"    onCondition({condition}):", *fire]
    update = ["        if refr_t > 0 ms:", f"            integrate_odes({', '.join([*others, 'refr_t'])})",
              "        else:", f"            integrate_odes({', '.join([*others, v])})"]
    return update, ["    output:", "        spike", "", f"    onCondition(refr_t <= 0 ms and {condition}):",
                    f"        refr_t = {float(rule.refractory)!r} {time_unit}", *fire]


def _number(system: EquationSystem, names, name: str) -> str:
    """A state as the number it is in discover: divided by a literal `1 <unit>` where it has a unit."""
    unit = _unit(system.units.get(name, "1"))
    return f"({names[name]} / (1 {unit}))" if unit else names[name]
