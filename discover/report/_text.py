"""Plain-text rendering of equation systems and metrics, for the terminal and summaries."""

from __future__ import annotations

from collections.abc import Mapping

import sympy as sp

from ..equations import EquationSystem


def equations_text(system: EquationSystem, known: EquationSystem | None = None) -> str:
    """One line per state; where `known` (the system with residual placeholders) is given,
    discovered terms are shown in brackets after the known part."""
    base = known.without_residuals() if known is not None else None
    lines = []
    for i, state in enumerate(system.states):
        if base is not None and state in system.discovered:
            rhs = f"{sp.sstr(base.rhs[i])} + [{sp.sstr(system.discovered[state])}]"
        else:
            rhs = sp.sstr(system.rhs[i])
        lines.append(f"d{state}/dt = {rhs}")
    return "\n".join(lines)


def metrics_table(metrics: Mapping[str, Mapping[str, Mapping[str, float]]]) -> str:
    """A fixed-width table: model x state with RMSE, NRMSE and R²."""
    rows = [f"{'model':<12} {'state':<6} {'RMSE':>10} {'NRMSE':>8} {'R2':>8}"]
    for model, per_state in metrics.items():
        for state, m in per_state.items():
            rows.append(f"{model:<12} {state:<6} {m['rmse']:>10.4g} {m['nrmse']:>8.3f} {m['r2']:>8.4f}")
    return "\n".join(rows)
