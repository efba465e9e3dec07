"""NEURON: an NMODL mechanism (.mod, compiled with nrnivmodl) and a Python runner.

A membrane model (a state in mV) becomes the section's own `v`: the mechanism's
NONSPECIFIC_CURRENT is i = -cm * dV/dt (mA/cm2), so with the section's cm equal to the
mechanism's `cm_model` NEURON integrates exactly dV/dt = f. Any other system is a generic
DERIVATIVE block in a mechanism inserted into a one-compartment dummy section. NEURON's clock
is in ms; a model in seconds is rescaled.

A spike rule on the membrane voltage is run by the runner: a NetCon watches v for the threshold
(CVODE finds the crossing, interpolated within its step), and at the crossing an event resets v,
sets and increments the other states and, for a refractory period, sets the mechanism's `held`
so its current (hence dv/dt) is 0. A moving threshold VT + sum(b * theta) is watched as the
mechanism's `vspike` = v - sum(b * theta), computed with the currents, crossing VT; a rule that
compares another state (`SpikeRule.watch`, a GIF's integrated escape rate H) is watched as
`vspike` = H.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

from ..equations import EquationSystem
from ._common import (
    InfixPrinter,
    check_closed,
    ms_per_time_unit,
    print_final_state,
    renamed,
    target_names,
    units_text,
    unused,
)

RESERVED = ("v", "t", "dt", "i", "celsius", "area", "diam", "cm", "cm_model", "exprel", "exp", "log", "sqrt",
            "tanh", "sin", "cos", "fabs", "e", "PI", "FARADAY", "R", "states", "rates", "init", "breakpoint", "held",
            "vspike")


class _NmodlPrinter(InfixPrinter):
    functions = {"Abs": "fabs", "exprel": "exprel_"}

    def _print_Pow(self, expr):
        # nocmodl 9.0 aborts on `x^3` inside a DERIVATIVE block (diffeq parser); pow() is safe
        base, exp = expr.args
        if exp == -1:
            return f"(1.0 / {self._print(base)})"
        return f"pow({self._print(base)}, {self._print(exp)})"


def membrane_state(system: EquationSystem) -> str | None:
    """The state that is a membrane voltage in mV (NEURON's v): the one a spike rule resets, else
    the only state in mV (a GIF's threshold state theta_V is in mV too, and is no membrane)."""
    if system.spike is not None and system.units.get(system.spike.state) == "mV":
        return system.spike.state
    volts = [s for s in system.states if system.units.get(s) == "mV"]
    return volts[0] if len(volts) == 1 else None


def spikes_on_membrane(system: EquationSystem) -> bool:
    """Whether `system`'s spike rule (if any) resets the membrane voltage, the one state the runner
    can reset (NEURON's v); a spike on any other state is not exported to NEURON."""
    return system.spike is None or system.spike.state == membrane_state(system)


def _names(system: EquationSystem, voltage: str | None) -> dict[str, str]:
    """Target names, with the membrane voltage (if any) as NEURON's own `v`."""
    names = target_names(system, RESERVED)
    if voltage is not None:
        names[voltage] = "v"
    # NMODL gives every STATE x a parameter x0 for its initial value: states w_3 and w_30 would
    # both own w_30, so a name that is another state's name plus "0" gets a trailing "_"
    taken = set(names.values())
    for s in system.states:
        if s != voltage and any(names[s] == f"{names[o]}0" for o in system.states if o not in (s, voltage)):
            names[s] = unused(f"{names[s]}_", taken)
    return names


# Names the mechanism cannot take: hoc's own (stdrun.hoc's `model` variable made a mechanism called
# "model" abort NEURON's start-up) and NEURON's built-in mechanisms.
HOC_NAMES = frozenset({"model", "run", "init", "stdinit", "continuerun", "steprun", "stoprun", "tstop", "cvode",
                       "h", "soma", "section", "objref", "hh", "pas", "extracellular", "fastpas", "capacitance",
                       "morphology", "na_ion", "k_ion", "ca_ion", "xopen", "load_file", "print", "secname"})

# Suffixes whose current, i_<suffix>, NEURON already has: extracellular's i_membrane, fast_imem's
# i_membrane_, the capacitance's i_cap.
BUILTIN_CURRENTS = frozenset({"membrane", "membrane_", "cap"})


def mechanism_name(system: EquationSystem) -> str:
    """The SUFFIX: the system's name as an identifier, renamed where NEURON already uses it."""
    name = "".join(ch if ch.isalnum() else "_" for ch in system.name) or "model"
    if name[0].isdigit():
        name = f"m_{name}"
    if name in BUILTIN_CURRENTS:  # i_<name> is NEURON's own (i_membrane's clash segfaulted NEURON 9.0.2)
        return f"{name.rstrip('_')}_model"
    return f"{name}_" if name in HOC_NAMES else name


def render_mod(system: EquationSystem) -> str:
    check_closed(system)
    voltage = membrane_state(system)
    names = _names(system, voltage)
    printer, per_ms = _NmodlPrinter(), 1.0 / ms_per_time_unit(system)
    others = [s for s in system.states if s != voltage]
    rhs = {s: printer.doprint(renamed(r, system, names)) for s, r in zip(system.states, system.rhs, strict=True)}
    ranges = [names[p.name] for p in system.parameters] + [names[u] for u in system.inputs]
    ranges += [f"{names[s]}0" for s in others]
    params = [f"    {names[p.name]} = {float(p.value)!r}  : {p.unit} {p.description}" for p in system.parameters]
    params += [f"    {names[u]} = 0  : input, {system.units.get(u, '1')}" for u in system.inputs]
    params += [f"    {names[s]}0 = 0  : initial {s}" for s in others]
    derivs = "\n".join(f"    {names[s]}' = ({rhs[s]}) * {per_ms!r}" for s in others)
    held = "(1 - held) * " if system.spike is not None else ""
    current = (f"    i = {held}(-0.001) * cm_model * ({rhs[voltage]}) * {per_ms!r}\n" if voltage else "")
    neuron_block = f"    SUFFIX {mechanism_name(system)}\n"
    if voltage:
        neuron_block += "    NONSPECIFIC_CURRENT i\n"
        params.append("    cm_model = 1  : uF/cm2, must equal the section's cm")
        ranges.append("cm_model")
    if system.spike is not None:
        params.append("    held = 0  : 1 while refractory (set by the runner): no current, v stays at the reset")
        ranges.append("held")
    moving = _moving_part(system, names)
    rule = system.spike
    # the NetCon watches v minus the threshold's moving part, or the state the rule compares in v's
    # place (a GIF's integrated escape rate); NEURON keeps assigned values current
    watched = "v" if rule is None or rule.watch is None else names[rule.watch]
    signal = rule is not None and (bool(moving) or rule.watch is not None)
    if signal:
        assert rule is not None  # signal says so
        ranges.append("vspike")
        current += (f"    vspike = {watched}{' - ' + moving if moving else ''}  : crosses {float(rule.threshold)!r} "
                    "at the threshold\n")
    neuron_block += f"    RANGE {', '.join(ranges)}\n" if ranges else ""
    solve = "    SOLVE states METHOD derivimplicit\n" if others else ""
    states_block = f"STATE {{\n    {' '.join(names[s] for s in others)}\n}}\n\n" if others else ""
    derivative = f"DERIVATIVE states {{\n{derivs}\n}}\n\n" if others else ""
    return f"""{_header(system)}

NEURON {{
{neuron_block}}}

PARAMETER {{
{chr(10).join(params)}
}}

ASSIGNED {{
    v
    i{chr(10) + "    vspike" if signal else ""}
}}

{states_block}INITIAL {{
{chr(10).join(f"    {names[s]} = {names[s]}0" for s in others)}
}}

BREAKPOINT {{
{solve}{current}}}

{derivative}FUNCTION exprel_(x) {{
    if (fabs(x) < 1e-6) {{
        exprel_ = 1 + x / 2 + x * x / 6
    }} else {{
        exprel_ = (exp(x) - 1) / x
    }}
}}
"""


def _moving_part(system: EquationSystem, names: Mapping[str, str]) -> str:
    """The moving part of the spike threshold in NMODL, `((12.0 * theta) + ...)`, or "" when it is fixed."""
    rule = system.spike
    if rule is None or not rule.moving:
        return ""
    part = " + ".join(f"(({c!r}) * {names[n]})" for n, c in rule.moving)
    return f"({part})"


def _header(system: EquationSystem) -> str:
    """The file's description as `:` comment lines of at most 100 characters: nocmodl refuses a
    longer line ("Line too long"), and a results folder's provenance runs to many hundreds."""
    text = [f"{system.name}: exported by discover. Units: {units_text(system)}; {_time_text(system)}.",
            "Provenance:", *(f"- {note}" for note in system.provenance or ("-",))]
    return "\n".join(f": {line}" for paragraph in text for line in textwrap.wrap(paragraph, 98))


def _time_text(system: EquationSystem) -> str:
    """How the model's time maps onto NEURON's clock (ms)."""
    if system.time_unit in ("", "1"):
        return "time dimensionless, one model time unit = 1 ms in NEURON"
    scale = ms_per_time_unit(system)
    if scale == 1.0:
        return "time in ms"
    return f"time in {system.time_unit} (1 {system.time_unit} = {scale:g} ms in NEURON)"


def render_runner(system: EquationSystem, y0: Sequence[float], inputs: Mapping[str, float], duration: float) -> str:
    voltage, mech = membrane_state(system), mechanism_name(system)
    names = _names(system, voltage)
    setters = [f"    setattr(seg, '{names[u]}_{mech}', inputs[{u!r}])" for u in system.inputs]
    setters += [f"    setattr(seg, '{names[s]}0_{mech}', y0[{i}])" for i, s in enumerate(system.states) if s != voltage]
    reads = ", ".join("seg.v" if s == voltage else f"getattr(seg, '{names[s]}_{mech}')" for s in system.states)
    v0 = f"y0[{system.states.index(voltage)}]" if voltage else "0.0"
    scale = ms_per_time_unit(system)
    spiking, returns, doc = _spike_code(system, names, mech, scale), "times / SCALE, np.array(states)", ""
    if system.spike is not None:
        returns += ", np.array(spikes) / SCALE"
        doc = " and the spike times (threshold crossings)"
    return f'''"""Run {mech}.mod in NEURON: compile first with `nrnivmodl` in this folder.

States in model units; time returned in the model's time unit ({system.time_unit!r}).
"""

import numpy as np
from neuron import h

h.load_file("stdrun.hoc")
Y0 = {list(map(float, y0))!r}
INPUTS = {dict(inputs)!r}
DURATION = {float(duration)!r}
SCALE = {scale!r}  # ms per model time unit


def run_model(duration=DURATION, y0=Y0, inputs=INPUTS, rtol=1e-8, atol=1e-10, record_dt=None):
    """Simulate with CVODE; returns (t, states shaped (len(t), {len(system.states)})){doc}, every `record_dt`."""
    step = (record_dt or duration / 2000) * SCALE  # ms
    times = np.arange(0.0, duration * SCALE + step / 2, step)
    sec = h.Section(name="{mech}_cell")
    sec.L = sec.diam = 10.0
    sec.cm = 1.0  # equals cm_model, so NEURON's dv/dt is the model's
    sec.insert("{mech}")
    seg = sec(0.5)
{chr(10).join(setters)}
    cvode = h.CVode()
    cvode.active(1)
    cvode.rtol(rtol)
    cvode.atol(atol)
{spiking}    h.finitialize({v0})
    states = []
    for when in times:
        cvode.solve(when)  # CVODE stops exactly at each sample time
        states.append([{reads}])
    return {returns}


if __name__ == "__main__":
    times, states, *_ = run_model()
    {print_final_state(repr(list(system.states)), "states[-1]")}
'''


def _spike_code(system: EquationSystem, names: Mapping[str, str], mech: str, scale: float) -> str:
    """The runner's spike rule: a NetCon on v finds the crossing; an event at that time resets
    (states may change only between integration steps, and CVODE must then restart)."""
    rule = system.spike
    if rule is None:
        return ""
    also = [f"        setattr(seg, '{names[n]}_{mech}', {float(x)!r})" for n, x in rule.also]
    add = [f"        setattr(seg, '{names[n]}_{mech}', getattr(seg, '{names[n]}_{mech}') + {float(x)!r})"
           for n, x in rule.add]
    refractory = float(rule.refractory) * scale
    hold = (f"        seg.held_{mech} = 1\n        cvode.event(h.t + {refractory!r}, release)\n" if refractory > 0
            else "")
    signal = bool(rule.moving) or rule.watch is not None
    moving = f"  # vspike = {rule.watched} - the threshold's moving part" if signal else ""
    return f"""    spikes = []

    def release():  # the refractory period is over: v follows the model again
        seg.held_{mech} = 0
        cvode.re_init()

    def fire():
        spikes.append(h.t)
        seg.v = {float(rule.reset)!r}
{chr(10).join(also + add + [''])}{hold}        cvode.re_init()

    cvode.condition_order(2)  # the crossing interpolated within CVODE's step, not at its end
    detector = h.NetCon(seg._ref_{"vspike_" + mech if signal else "v"}, None, sec=sec)
    detector.threshold = {float(rule.threshold)!r}{moving}
    detector.record(lambda: cvode.event(h.t, fire))
"""
