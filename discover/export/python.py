"""Standalone Python module: numpy right-hand side + scipy runner, no dependency on discover."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sympy.printing.str import StrPrinter

from ..equations import EquationSystem
from ._common import check_closed, renamed, target_names

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
    params = "\n".join(f"    {p.name!r}: {p.value!r},  # {p.unit}{' - ' + p.description if p.description else ''}"
                       for p in system.parameters)
    unpack = [f"    {names[s]} = y[{i}]" for i, s in enumerate(system.states)]
    unpack += [f"    {names[u]} = u[{u!r}]" for u in system.inputs]
    unpack += [f"    {names[p.name]} = p[{p.name!r}]" for p in system.parameters]
    derivs = ",\n".join(f"        {printer.doprint(renamed(r, system, names))}" for r in system.rhs)
    units = {s: system.units.get(s, "1") for s in (*system.states, *system.inputs)}
    return f'''"""{system.name}: exported by discover. Runs with numpy and scipy only.

States {list(system.states)}, inputs {list(system.inputs)}; units {units}, time in {system.time_unit!r}.
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


def simulate(y0=Y0, t=None, inputs=None, **parameters):
    """Integrate with scipy's LSODA; returns (t, y) with y shaped (len(t), len(STATES))."""
    t = np.linspace(0.0, DURATION, 1001) if t is None else np.asarray(t, dtype=float)
    sol = solve_ivp(lambda s, y: rhs(s, y, inputs, **parameters), (t[0], t[-1]), y0, t_eval=t,
                    method="LSODA", rtol=1e-8, atol=1e-10)
    if not sol.success:
        raise RuntimeError(f"integration failed: {{sol.message}}")
    return sol.t, sol.y.T


if __name__ == "__main__":
    times, ys = simulate()
    print(dict(zip(STATES, ys[-1])))
'''
