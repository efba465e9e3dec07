"""Several closed systems of the same states as one numpy right-hand side over stacked rows.

Comparing candidate models by re-simulating whole recordings steps every model sample by sample;
called model by model, each RK4 stage pays one Python call per model (twenty candidates: twenty
calls, about 160 µs a stage on a few rows, where the arithmetic is a few µs). The candidates
differ only in a few terms: every right-hand side is a sum of terms, a number times a function
of the states and inputs. `compile_stacked` collects the distinct functions of all the models,
evaluates them once on every row (one generated call) and weighs each row's by its own model's
numbers: the FSI cell's 19 candidates cost about 40 µs a stage instead of 160.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import sympy as sp

from .._errors import EquationError
from ._codegen import Columns, generate
from ._compile import _declared, _require_closed, _values
from ._system import EquationSystem


def compile_stacked(systems: Sequence[EquationSystem], block: int) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """`f(y, u) -> dy/dt` for rows stacked model by model: rows `m * block` to `(m + 1) * block - 1`
    follow `systems[m]`. The systems must share their states and inputs (in order) and be closed
    (no residual placeholder). Each row's derivatives are its own model's, as `compile_numpy`
    would compute them, up to rounding (the numbers multiply after the functions are evaluated)."""
    if not systems:
        raise EquationError("compile_stacked needs at least one system.")
    first = systems[0]
    for s in systems:
        _require_closed(s)
        if (s.states, s.inputs) != (first.states, first.inputs):
            raise EquationError(f"compile_stacked: `{s.name}` has states {list(s.states)} and inputs "
                                f"{list(s.inputs)}, `{first.name}` {list(first.states)} and "
                                f"{list(first.inputs)}; stack models of the same variables only.")
    functions: dict[sp.Expr, int] = {}  # each distinct function of the states and inputs -> its column
    entries = []
    for m, s in enumerate(systems):
        values = _values(s)
        for i, rhs in enumerate(_declared(s)):
            for term in sp.Add.make_args(rhs.xreplace(values)):
                number, function = term.as_coeff_Mul()
                entries.append((m, i, functions.setdefault(function, len(functions)), float(number)))
    weights = np.zeros((len(systems), len(first.states), len(functions)))
    for m, i, j, number in entries:
        weights[m, i, j] += number
    columns = (Columns("y", tuple(first.symbol(n) for n in first.states)),
               Columns("u", tuple(first.symbol(n) for n in first.inputs)))
    evaluate = generate(tuple(functions), columns, "numpy").function
    per_state = []
    for i in range(len(first.states)):
        used = np.flatnonzero(np.any(weights[:, i] != 0, axis=0))
        rows = np.repeat(weights[:, i][:, used], block, axis=0)  # (rows, functions this state uses)
        per_state.append((used, rows, rows != 0))

    def f(y: np.ndarray, u: np.ndarray) -> np.ndarray:
        values = evaluate(y, u)
        out = np.empty(y.shape)
        for i, (used, rows, nonzero) in enumerate(per_state):
            # a function a row's model does not use may overflow there (an exp far from its range): 0, not 0 * inf
            out[:, i] = np.where(nonzero, rows * values[:, used], 0.0).sum(axis=1)
        return out

    return f
