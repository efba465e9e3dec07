"""Closed forms for a learned gate, fitted on the data and chosen (see `_kinetics` for the forms).

Each candidate's parameters are refitted on the data through the teacher-forced loss the
networks were trained on; the choice is the smallest candidate whose loss is within `TOLERANCE`
of the best one's. Standard errors come from the Gauss-Newton approximation of that loss on
non-overlapping windows.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import sympy as sp
import torch
from scipy.optimize import least_squares

from .._errors import FitError
from ..equations import EquationSystem, Parameter
from ._kinetics import GRID, GateForm, _Candidate, candidate, candidates, curve_error, fit_to_curves

TOLERANCE = 0.02  # a larger candidate must lower the data loss by more than 2 % to be chosen
REFIT_ITERATIONS = 30  # least-squares evaluations per free parameter, in full
SCREEN_ITERATIONS = 6  # and when screening every candidate


def _free(candidate: _Candidate) -> np.ndarray:
    """Which parameters are refitted: an exponential's midpoint is not (its amplitude carries it)."""
    return np.array([not (piece.name == "exponential" and name == "mid")
                     for piece in (candidate.first, candidate.second) for name, _ in piece.params])


def refit_on_data(candidate: _Candidate, start: np.ndarray, windows, rows: np.ndarray,
                  iterations: int = REFIT_ITERATIONS) -> tuple[np.ndarray, float]:
    """The candidate's parameters refitted on `windows`' teacher-forced errors at `rows` from
    `start` by a trust-region least-squares solver (Jacobian by finite differences: a handful of
    parameters, and Gauss-Newton steps converge in tens of evaluations where L-BFGS took hundreds);
    returns them and the loss (inf where the refit left no finite model with tau > 0)."""
    free = _free(candidate)

    def full(q: np.ndarray) -> np.ndarray:
        p = start.copy()
        p[free] = q
        return p

    def residual(q: np.ndarray) -> np.ndarray:
        p = torch.as_tensor(full(q))
        with torch.no_grad():
            r = windows.errors(lambda v: candidate.curves(v, p, torch), rows).numpy().ravel()
        return r if np.all(np.isfinite(r)) else np.full(r.shape, 1e6)

    try:
        with np.errstate(all="ignore"):
            fit = least_squares(residual, start[free], method="trf", x_scale="jac", diff_step=1e-6,
                                max_nfev=iterations * (int(free.sum()) + 1))
    except (ValueError, np.linalg.LinAlgError):
        return start, math.inf
    p = full(fit.x)
    loss = float(np.mean(fit.fun ** 2))
    low, high = float(windows.v.min()), float(windows.v.max())
    good = np.isfinite(loss) and loss < 1e6 and tau_positive(candidate, p, (low, high))
    return (p, loss) if good else (start, math.inf)


def tau_positive(candidate: _Candidate, p: np.ndarray, visited: tuple[float, float]) -> bool:
    """Whether the form's tau is positive and finite over the visited voltages and half their span
    beyond each end (in the data's own unit: mV or V alike)."""
    low, high = visited
    margin = (high - low) / 2
    v = np.linspace(low - margin, high + margin, 81)
    with np.errstate(all="ignore"):
        tau = candidate.curves(v, np.asarray(p, dtype=float), np)[1]
    return bool(np.all(np.isfinite(tau) & (tau > 0)))


def standard_errors(candidate: _Candidate, p: np.ndarray, windows) -> np.ndarray:
    """Gauss-Newton standard errors of the refitted parameters: the Jacobian of the windows' errors
    (one window in every `window` starts, so no sample is counted twice) by central differences,
    sigma^2 (J^T J)^-1. Windows still share the recording's slow errors, so these are a lower
    bound. A parameter held fixed (an exponential rate's midpoint) gets NaN."""
    rows = np.arange(0, len(windows.starts), windows.window)
    free = np.flatnonzero(_free(candidate))

    def errors(q: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return windows.errors(lambda v: candidate.curves(v, torch.as_tensor(q), torch), rows).numpy().ravel()
    r = errors(p)
    columns = []
    for j in free:
        h = 1e-5 * max(abs(p[j]), 1e-3)
        up, down = p.copy(), p.copy()
        up[j] += h
        down[j] -= h
        columns.append((errors(up) - errors(down)) / (2 * h))
    jac = np.column_stack(columns)
    sigma2 = float(r @ r) / max(len(r) - len(free), 1)
    out = np.full_like(p, math.nan)
    try:
        out[free] = np.sqrt(np.abs(np.diag(np.linalg.pinv(jac.T @ jac)))) * math.sqrt(sigma2)
    except np.linalg.LinAlgError:
        out[free] = math.nan
    return out


@dataclasses.dataclass(frozen=True)
class GateDistillation:
    """The closed forms tried for a gate (`forms`, by size), the chosen one and the system carrying it."""

    gate: str
    forms: tuple[GateForm, ...]
    chosen: GateForm
    system: EquationSystem

    def curves(self, v: np.ndarray, form: GateForm | None = None) -> tuple[np.ndarray, np.ndarray]:
        """x_inf and tau of `form` (default the chosen one) at voltages `v`."""
        form = form or self.chosen
        return candidate(form.label).curves(np.asarray(v, dtype=float), np.array(list(form.values.values())), np)


def distill_gate(estimator, refit: int = 5, tolerance: float = TOLERANCE, screen_rows: int = 2000,
                 max_rows: int = 5000) -> GateDistillation:
    """Closed forms for the gate a fitted `GateKinetics` learned. Every candidate is fitted to the
    networks' curves over the visited voltages, then screened on the data (a short refit on
    `screen_rows` windows, from that fit and from a start whose time constant is centred on the
    steady state's midpoint); the `refit` best are refitted in full on `max_rows` windows; the
    smallest whose data loss is within `tolerance` of the best one's is chosen, and only its
    standard errors are computed (the others' are NaN).

    Every candidate is screened on the data, not only those that fit the curves best, because the
    networks are least sure where the gate matters least (HH's n_inf above 0 mV, where n never
    settles during a spike): there the generating rate form fits the curves worse than a
    Boltzmann does and still fits the data best (benchmarks/RESULTS_gates.md)."""
    low, high = estimator.fit_.voltage_range
    v = np.linspace(low, high, GRID)
    x_inf, tau = estimator.curves(v)
    tau = np.maximum(tau, 1e-12)
    windows = estimator.windows_
    rng = np.random.default_rng(0)
    n = len(windows.starts)
    screen = np.sort(rng.choice(n, min(screen_rows, n), replace=False))
    rows = np.sort(rng.choice(n, min(max_rows, n), replace=False))
    screened = []
    for c in candidates():
        for start in _starts(c, v, x_inf, tau):
            p, loss = refit_on_data(c, start, windows, screen, iterations=SCREEN_ITERATIONS)
            if np.isfinite(loss):
                screened.append((loss, c, p))
    screened.sort(key=lambda item: item[0])
    forms, seen = [], set()
    for _, c, p in screened:
        if c.label in seen:
            continue
        seen.add(c.label)
        q, loss = refit_on_data(c, p, windows, rows)
        if np.isfinite(loss):
            names = c.names
            values = dict(zip(names, map(float, q), strict=True))
            forms.append((c, GateForm(c.kind, (c.first.name, c.second.name), values, dict.fromkeys(names, math.nan),
                                      loss, curve_error(c, q, v, x_inf, tau))))
        if len(forms) == refit:
            break
    if not forms:
        raise FitError(f"no closed form of gate {estimator.gate!r} could be refitted on the data; check the "
                       "networks' curves (`GateKinetics.curves`) and the data's units.")
    best = min(f.loss for _, f in forms)
    forms.sort(key=lambda item: (item[1].size, item[1].loss))
    c, chosen = next((c, f) for c, f in forms if f.loss <= best * (1 + tolerance))
    se = standard_errors(c, np.array(list(chosen.values.values())), windows)
    chosen = dataclasses.replace(chosen, errors=dict(zip(chosen.values, map(float, se), strict=True)))
    forms = [(k, chosen if k is c else f) for k, f in forms]
    system = gate_system(estimator.system, estimator.gate, estimator.voltage, c, chosen)
    return GateDistillation(estimator.gate, tuple(f for _, f in forms), chosen, system)


def _starts(c: _Candidate, v, x_inf, tau) -> list[np.ndarray]:
    """Where a candidate's refit starts: its fit to the networks' curves and, for a time constant
    with a midpoint, the same with that midpoint at x_inf's and its width four times x_inf's slope
    (Morris-Lecar's w and many fitted gates: tau peaks where the gate is half open)."""
    p, _ = fit_to_curves(c, v, x_inf, tau)
    out = [p]
    if c.kind == "steady state" and any(name == "tau_V" for name, _ in c.second.params):
        q, names = p.copy(), c.names
        q[names.index("tau_V")] = p[0]
        for name in ("tau_s", "tau_s1", "tau_s2"):
            if name in names:
                q[names.index(name)] = 4 * abs(p[1])
        for name, value in (("tau_max", tau.max()), ("tau_min", tau.min() / 2), ("tau_step", tau.max() - tau.min())):
            if name in names:
                q[names.index(name)] = value
        out.append(q)
    return [s for s in out if np.all(np.isfinite(s))]


def gate_system(system: EquationSystem, gate: str, voltage: str, shape: _Candidate, form: GateForm) -> EquationSystem:
    """`system` with `gate`'s equation replaced by the closed form, its numbers as parameters
    named `<gate>_<name>` with units (the voltage's, the time's, or 1/time). Parameters that only
    the replaced equation used are dropped; a new name already taken gets a `_fit` suffix."""
    index = system.state_index(gate)
    others = set().union(*(r.free_symbols for i, r in enumerate(system.rhs) if i != index))
    kept = tuple(p for p in system.parameters
                 if system.symbol(p.name) in others or system.symbol(p.name) not in system.rhs[index].free_symbols)
    taken = {*system.states, *system.inputs, *(p.name for p in kept)}
    v_unit = system.units.get(voltage, "1")
    unit = {"V": v_unit, "T": system.time_unit, "R": f"1/({system.time_unit})", "1": "1"}
    names = [f"{gate}_{n}" + ("_fit" if f"{gate}_{n}" in taken else "") for n in form.values]
    parameters = tuple(Parameter(n, value, unit[u], f"gate {gate}: {label} ({form.label})")
                       for n, value, u, label in zip(names, form.values.values(), shape.units, form.values,
                                                     strict=True))
    expr = shape.rhs(system.symbol(gate), system.symbol(voltage), [sp.Symbol(n, real=True) for n in names])
    rhs = list(system.rhs)
    rhs[index] = expr
    note = f"d{gate}/dt: kinetics learned from {voltage} alone and distilled to {form.label} ({form.size} parameters)"
    return dataclasses.replace(system, rhs=tuple(rhs), parameters=(*kept, *parameters),
                               discovered={**system.discovered, gate: expr}, provenance=(*system.provenance, note))
