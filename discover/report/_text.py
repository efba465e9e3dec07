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
            known_part = "" if base.rhs[i] == 0 else f"{sp.sstr(base.rhs[i])} + "  # a residual alone: no "0 + "
            rhs = f"{known_part}[{sp.sstr(system.discovered[state])}]"
        else:
            rhs = sp.sstr(system.rhs[i])
        lines.append(f"d{state}/dt = {rhs}")
    if system.spike is not None:
        r = system.spike
        lines.append(f"spike when {r.watched} >= {r.threshold_text()}: {r.state} -> {r.reset:.4g}{r.effects()}, "
                     f"held for {r.refractory:.3g} {system.time_unit}")
    return "\n".join(lines)


# optional metrics: (key, header, format), shown when any model has them
OPTIONAL = (("period_error", "period err", ".1%"), ("amplitude_error", "ampl. err", ".1%"),
            ("gamma", "Gamma", ".3f"), ("silent_sweeps", "silent", ".0f"), ("spike_count_error", "count err", ".1%"),
            ("gamma_ratio", "Gamma/intr.", ".3f"), ("md_star", "Md*", ".3f"), ("r2_forced", "R2 forced", ".3f"))
"""Gamma is over the sweeps where the data or the model spike; `silent` counts the others. Gamma/intr.:
Gamma against each recorded repeat of one frozen stimulus over the repeats' own; Md* (Naud et al. 2011)
at ±8 ms; R2 forced: a cell's subthreshold variance explained with its spikes forced at the recorded times."""


def metrics_table(metrics: Mapping[str, Mapping[str, Mapping[str, float]]]) -> str:
    """A fixed-width table: model x state with RMSE, NRMSE, R², forecast horizon, and rhythm and
    spike metrics where the data have them."""
    extra = [o for o in OPTIONAL if any(o[0] in m for per in metrics.values() for m in per.values())]
    w = max([12, *(len(m) for m in metrics)])  # "UDE route, not chosen" is wider than "known only"
    head = f"{'model':<{w}} {'state':<6} {'RMSE':>10} {'NRMSE':>8} {'R2':>8} {'horizon':>8}"
    rows = [head + "".join(f" {h:>10}" for _, h, _ in extra)]
    for model, per_state in metrics.items():
        for state, m in per_state.items():
            nan = float("nan")  # a stochastic model's spike trains have no trace to score
            row = (f"{model:<{w}} {state:<6} {m.get('rmse', nan):>10.4g} {m.get('nrmse', nan):>8.3f} "
                   f"{m.get('r2', nan):>8.4f} {m.get('horizon', nan):>8.4g}")
            rows.append(row + "".join(f" {format(m[k], f) if k in m else '-':>10}" for k, _, f in extra))
    return "\n".join(rows)
