"""Standalone Python module: numpy right-hand side + scipy runner, no dependency on discover."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sympy.printing.str import StrPrinter

from ..equations import EquationSystem
from ._common import check_closed, print_final_state, renamed, target_names, units_text

_NUMPY = {"exp": "np.exp", "log": "np.log", "sqrt": "np.sqrt", "tanh": "np.tanh", "sinh": "np.sinh",
          "cosh": "np.cosh", "sin": "np.sin", "cos": "np.cos", "Abs": "np.abs", "exprel": "exprel"}


class _NumpyPrinter(StrPrinter):
    def _print_Function(self, expr):
        name = type(expr).__name__
        return f"{_NUMPY.get(name, name)}({', '.join(self._print(a) for a in expr.args)})"

    _print_Abs = _print_Function

    def _print_Exp1(self, expr):
        return "np.e"

    def _print_Pi(self, expr):
        return "np.pi"


def render(system: EquationSystem, y0: Sequence[float], inputs: Mapping[str, float], duration: float) -> str:
    check_closed(system)
    names = target_names(system, ("np", "t", "y", "p", "u", "exprel", "solve_ivp"))
    printer = _NumpyPrinter()
    params = "\n".join(f"    {p.name!r}: {float(p.value)!r},  # {p.unit}"
                       + (f" - {p.description}" if p.description else "") for p in system.parameters)
    unpack = [f"    {names[s]} = y[{i}]" for i, s in enumerate(system.states)]
    unpack += [f"    {names[u]} = u[{u!r}]" for u in system.inputs]
    unpack += [f"    {names[p.name]} = p[{p.name!r}]" for p in system.parameters]
    derivs = ",\n".join(f"        {printer.doprint(renamed(r, system, names))}" for r in system.rhs)
    simulate = _SMOOTH if system.spike is None else _spiking(system)
    return f'''"""{system.name}: exported by discover. Runs with numpy and scipy only.

Units: {units_text(system)}; time in {system.time_unit if system.time_unit not in ("", "1") else "model time units"}.
Provenance: {"; ".join(system.provenance) or "-"}

    python {system.name}.py            # integrates from Y0 for DURATION and prints the final state
"""

import numpy as np
from scipy.integrate import solve_ivp

STATES = {tuple(system.states)!r}
INPUTS = {dict(inputs)!r}  # constant values; pass a function t -> dict to `simulate` for time-varying ones
PARAMETERS = {{
{params}
}}
Y0 = {list(map(float, y0))!r}
DURATION = {float(duration)!r}


def exprel(x):
    """(exp(x) - 1) / x, equal to 1 at x = 0."""
    x = np.asarray(x, dtype=float)
    small = np.abs(x) < 1e-6
    safe = np.where(small, 1.0, x)
    return np.where(small, 1.0 + x / 2 + x * x / 6, np.expm1(safe) / safe)


def rhs(t, y, inputs=None, **parameters):
    """d(states)/dt at time t; `inputs` is a dict or a function t -> dict; parameters override PARAMETERS."""
    p = {{**PARAMETERS, **parameters}}
    u = {{**INPUTS, **((inputs(t) if callable(inputs) else inputs) or {{}})}}
{chr(10).join(unpack)}
    return np.array([
{derivs},
    ], dtype=float)


{simulate}

if __name__ == "__main__":
    times, ys = simulate()
    {print_final_state("STATES", "ys[-1]")}
'''


_SMOOTH = '''def simulate(y0=Y0, t=None, inputs=None, **parameters):
    """Integrate with scipy's LSODA; returns (t, y) with y shaped (len(t), len(STATES))."""
    t = np.linspace(0.0, DURATION, 1001) if t is None else np.asarray(t, dtype=float)
    sol = solve_ivp(lambda s, y: rhs(s, y, inputs, **parameters), (t[0], t[-1]), y0, t_eval=t,
                    method="LSODA", rtol=1e-8, atol=1e-10)
    if not sol.success:
        raise RuntimeError(f"integration failed: {sol.message}")
    return sol.t, sol.y.T
'''


def _spiking(system: EquationSystem) -> str:
    """`simulate` for a hybrid model: LSODA between spikes, each threshold crossing found as an
    event (to the solver's precision, not a step), then the reset, the jumps of the other states,
    and the refractory period with the spiking state held at its reset."""
    rule = system.spike
    assert rule is not None  # rendered for spiking systems only
    index = system.states.index(rule.state)
    also = {system.states.index(n): v for n, v in rule.also}
    add = {system.states.index(n): v for n, v in rule.add}
    moving = {system.states.index(n): c for n, c in rule.moving}
    watch = system.states.index(rule.watched)
    when = f"{rule.watched} >= {rule.threshold_text()}"
    return f'''# a spike when y[watch] >= threshold + sum(c * y[j] for j, c in moving.items()): {when};
# y[state] is then reset and held
SPIKE = {{"state": {index}, "watch": {watch}, "threshold": {float(rule.threshold)!r},
         "reset": {float(rule.reset)!r},
         "refractory": {float(rule.refractory)!r}, "set": {also!r}, "add": {add!r}, "moving": {moving!r}}}


def simulate(y0=Y0, t=None, inputs=None, **parameters):
    """Integrate the hybrid (spiking) model; returns (t, y) with y shaped (len(t), len(STATES))."""
    t, y, _ = simulate_spikes(y0, t, inputs, **parameters)
    return t, y


def simulate_spikes(y0=Y0, t=None, inputs=None, **parameters):
    """(t, y, spike times): LSODA between spikes; at each threshold crossing (an event) the
    spiking state is reset and held for the refractory period, other states set or incremented."""
    t = np.linspace(0.0, DURATION, 1001) if t is None else np.asarray(t, dtype=float)
    i, threshold, reset = SPIKE["state"], SPIKE["threshold"], SPIKE["reset"]
    def free(s, y):
        return rhs(s, y, inputs, **parameters)
    def held(s, y):
        d = free(s, y)
        d[i] = 0.0
        return d
    def crossing(s, y):  # the threshold moves with the states in SPIKE["moving"]
        return y[SPIKE["watch"]] - threshold - sum(c * y[j] for j, c in SPIKE["moving"].items())
    crossing.terminal, crossing.direction = True, 1
    out, spikes = np.empty((len(t), len(y0))), []
    start, y, refractory = t[0], np.array(y0, dtype=float), False
    while start < t[-1]:
        stop = min(start + SPIKE["refractory"], t[-1]) if refractory else t[-1]
        sol = solve_ivp(held if refractory else free, (start, stop), y, method="LSODA", rtol=1e-8, atol=1e-10,
                        dense_output=True, events=None if refractory else crossing)
        if not sol.success:
            raise RuntimeError(f"integration failed: {{sol.message}}")
        end, fired = sol.t[-1], sol.status == 1
        inside = (t >= start) & ((t < end) if fired or refractory else (t <= end))
        out[inside] = sol.sol(t[inside]).T
        y, start, refractory = sol.y[:, -1].copy(), end, False
        if fired:
            spikes.append(end)
            y[i] = reset
            for j, value in SPIKE["set"].items():
                y[j] = value
            for j, amount in SPIKE["add"].items():
                y[j] += amount
            refractory = SPIKE["refractory"] > 0
    out[t >= start] = y  # a last sample at the final spike or the end of a refractory period
    return t, out, np.array(spikes)
'''
