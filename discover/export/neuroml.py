"""NeuroML2 / LEMS: a ComponentType for the model and a LEMS simulation file (jLEMS or PyLEMS).

Quantities are written as numbers in the model's units (dimension "none") with one time
constant MSEC = 1 ms, as NeuroML's own FitzHugh-Nagumo cell does, so any discovered term,
whatever its hidden units, means exactly what it meant in discover. Expressions are fully
parenthesised: PyLEMS mis-parses chained `a - b - c + d`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from xml.sax.saxutils import quoteattr

from ..equations import EquationSystem
from ._common import (
    InfixPrinter,
    check_closed,
    expand_exprel,
    initial_names,
    ms_per_time_unit,
    print_final_state,
    renamed,
    target_names,
    time_label,
    unit_label,
    units_text,
)

RESERVED = ("t", "MSEC", "t_spike", "spike", "exp", "ln", "log", "sqrt", "tanh", "sinh", "cosh", "sin", "cos", "abs",
            "H", "random")


class _LemsPrinter(InfixPrinter):
    functions = {"Abs": "abs", "log": "ln"}


def component_type(system: EquationSystem) -> tuple[str, str]:
    """(ComponentType XML, its name)."""
    check_closed(system)
    names = target_names(system, RESERVED)
    ctype = "".join(ch if ch.isalnum() else "_" for ch in system.name)
    printer, per_ms = _LemsPrinter(), 1.0 / ms_per_time_unit(system)
    lines = [f'    <ComponentType name="{ctype}" description={quoteattr(f"{system.name}, exported by discover")}>']
    for p in system.parameters:
        lines.append(f'        <Parameter name="{names[p.name]}" dimension="none" description={quoteattr(p.unit)}/>')
    for u in system.inputs:
        lines.append(f'        <Parameter name="{names[u]}" dimension="none" description="input"/>')
    start = initial_names(names, system.states)
    for s in system.states:
        lines.append(f'        <Parameter name="{start[s]}" dimension="none" description="initial {s}"/>')
    lines.append('        <Constant name="MSEC" dimension="time" value="1ms"/>')
    if system.spike is not None:
        lines.append('        <EventPort name="spike" direction="out"/>')
    lines += [f'        <Exposure name="{names[s]}" dimension="none"/>' for s in system.states]
    lines.append("        <Dynamics>")
    lines += [f'            <StateVariable name="{names[s]}" dimension="none" exposure="{names[s]}"/>'
              for s in system.states]
    derivatives = {s: printer.doprint(renamed(expand_exprel(rhs), system, names))
                   for s, rhs in zip(system.states, system.rhs, strict=True)}

    def time_derivatives(indent: str, held: str | None = None) -> list[str]:
        return [f'{indent}<TimeDerivative variable="{names[s]}" value={quoteattr(f"({body}) * {per_ms!r} / MSEC")}/>'
                for s, body in derivatives.items() if s != held]

    if system.spike is None:
        lines += time_derivatives("            ")
    else:
        lines += _spiking_dynamics(system, names, per_ms, time_derivatives)
    lines.append("            <OnStart>")
    lines += [f'                <StateAssignment variable="{names[s]}" value="{start[s]}"/>' for s in system.states]
    lines += ["            </OnStart>", "        </Dynamics>", "    </ComponentType>"]
    return "\n".join(lines), ctype


def _spiking_dynamics(system: EquationSystem, names: Mapping[str, str], per_ms: float, time_derivatives) -> list[str]:
    """Threshold, reset and refractoriness the way NeuroML's own iafRefCell writes them: at the
    threshold an event goes out, the other states jump, and (with a refractory period) a second
    regime holds the spiking state at its reset value until the period has passed."""
    rule = system.spike
    assert rule is not None  # rendered for spiking systems only
    v = names[rule.state]
    jumps = [f'<StateAssignment variable="{v}" value="{float(rule.reset)!r}"/>',
             *(f'<StateAssignment variable="{names[n]}" value="{float(x)!r}"/>' for n, x in rule.also),
             *(f'<StateAssignment variable="{names[n]}" value="{names[n]} + ({float(x)!r})"/>' for n, x in rule.add)]
    level = f"({float(rule.threshold)!r})"
    for n, c in rule.moving:  # a moving threshold, one bracket per sum (PyLEMS mis-parses chains)
        level = f"({level} + (({c!r}) * {names[n]}))"
    fire = [f'<OnCondition test="{names[rule.watched]} .geq. {level}">', '    <EventOut port="spike"/>',
            *(f"    {j}" for j in jumps)]
    if rule.refractory <= 0:
        return [*time_derivatives("            "), *(f"            {x}" for x in fire), "            </OnCondition>"]
    refractory_ms = float(rule.refractory) / per_ms  # the model's time unit -> ms
    return [
        '            <StateVariable name="t_spike" dimension="time"/>',
        '            <Regime name="refractory">',
        "                <OnEntry>",
        '                    <StateAssignment variable="t_spike" value="t"/>',
        f'                    <StateAssignment variable="{v}" value="{float(rule.reset)!r}"/>',
        "                </OnEntry>",
        *time_derivatives("                ", held=rule.state),
        f'                <OnCondition test="t .gt. (t_spike + ({refractory_ms!r} * MSEC))">',
        '                    <Transition regime="integrating"/>',
        "                </OnCondition>",
        "            </Regime>",
        '            <Regime name="integrating" initial="true">',
        *time_derivatives("                "),
        *(f"                {x}" for x in fire),
        '                    <Transition regime="refractory"/>',
        "                </OnCondition>",
        "            </Regime>",
    ]


def render(system: EquationSystem, y0: Sequence[float], inputs: Mapping[str, float], duration: float,
           dt: float = 0.001) -> str:
    """A LEMS file that defines, instantiates and simulates the model (jLEMS writes `raw_output(system)`)."""
    xml, ctype = component_type(system)
    names = target_names(system, RESERVED)
    values = {**{names[p.name]: p.value for p in system.parameters}, **{names[u]: inputs[u] for u in system.inputs},
              **{initial_names(names, system.states)[s]: y for s, y in zip(system.states, y0, strict=True)}}
    attrs = " ".join(f'{k}="{float(v)!r}"' for k, v in values.items())
    scale = ms_per_time_unit(system)
    columns = "\n".join(f'            <OutputColumn id="{names[s]}" quantity="{names[s]}"/>'
                        for s in system.states)
    runner = (f"python {runner_name(system)} runs this file and writes {system.name}.dat with a header line, "
              f"t in {time_label(system)}.")
    return f"""<Lems>
    <!-- {system.name}: exported by discover. Numbers in model units: {units_text(system)}.
         jLEMS writes {raw_output(system)} without a header: t in seconds, then {", ".join(system.states)}.
         {runner} -->
    <Target component="sim"/>
    <Include file="Simulation.xml"/>

{xml}

    <Component id="cell" type="{ctype}" {attrs}/>
    <Simulation id="sim" length="{duration * scale!r}ms" step="{dt * scale!r}ms" target="cell">
        <OutputFile id="out" fileName="{raw_output(system)}">
{columns}
        </OutputFile>
    </Simulation>
</Lems>
"""


def raw_output(system: EquationSystem) -> str:
    """The file jLEMS writes: no header, time in seconds (jLEMS has no option for either)."""
    return f"{system.name}_jlems.dat"


def runner_name(system: EquationSystem) -> str:
    return f"run_{system.name}_neuroml.py"


def render_runner(system: EquationSystem) -> str:
    """A script that runs the LEMS file in jLEMS (through pyNeuroML) and rewrites jLEMS's output as
    `<name>.dat`: a header line naming each column with its unit, time in the model's unit."""
    columns = [f"t ({time_label(system)})", *(f"{s} ({unit_label(system.units.get(s))})" for s in system.states)]
    per_second = 1000.0 / ms_per_time_unit(system)
    shape = f"(len(t), {len(system.states)})"
    return f'''"""Run LEMS_{system.name}.xml in jLEMS (through pyNeuroML) and write {system.name}.dat.

jLEMS writes {raw_output(system)} with no header and time in seconds; this runner rewrites it as
{system.name}.dat: one header line naming each column with its unit, time in {time_label(system)}.

    python {runner_name(system)}
"""

from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
LEMS = "LEMS_{system.name}.xml"
RAW, OUT = {raw_output(system)!r}, "{system.name}.dat"
COLUMNS = {columns!r}
PER_SECOND = {per_second!r}  # model time units ({time_label(system)}) per second


def run_model():
    """Run jLEMS; returns (t in {time_label(system)}, states in model units shaped {shape}) and writes OUT."""
    from pyneuroml.pynml import run_lems_with_jneuroml

    if not run_lems_with_jneuroml(LEMS, nogui=True, exec_in_dir=str(HERE), exit_on_fail=False):
        raise RuntimeError(f"jLEMS failed on {{LEMS}}; run `pynml {{LEMS}} -nogui` to see why")
    table = np.loadtxt(HERE / RAW, ndmin=2)
    table[:, 0] *= PER_SECOND
    np.savetxt(HERE / OUT, table, delimiter="\\t", header="\\t".join(COLUMNS), fmt="%.10g")
    return table[:, 0], table[:, 1:]


if __name__ == "__main__":
    times, states = run_model()
    {print_final_state(repr(list(system.states)), "states[-1]")}
    print(f"wrote {{OUT}}: columns {{', '.join(COLUMNS)}}")
'''
