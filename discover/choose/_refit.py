"""Refit the discovered system's numbers through the ODE solver, then drop its negligible terms and
round its numbers, each only where the window re-simulation error allows."""

from __future__ import annotations

import dataclasses

import numpy as np
import sympy as sp
import torch

from ..data import Trajectories
from ..equations import EquationSystem, evaluate_expression
from ..integrate import Windows, resolve_device
from ..ude import HybridODE
from ._batch import Batch, fit_numbers, open_terms


def refit_coefficients(
    system: EquationSystem, data: Trajectories, *, window: int, substeps: int = 1, iterations: int = 50, seed: int = 0,
    device: str = "cpu",
) -> tuple[EquationSystem, float, float]:
    """Refit the numbers in the discovered terms by gradient through the ODE solver (L-BFGS on windows).

    The distillers fit the network's residual; this fits the data themselves, which removes the
    bias the network's approximation error leaves in the coefficients. Kept only if it lowers
    the window error. Returns (system, error before, error after). `device`: "cpu", "cuda" or
    "auto" (the GPU when torch sees one); a refit's batches are small, so the CPU is usually faster.
    """
    return refit_systems([system], data, window=window, substeps=substeps, iterations=iterations, seed=seed,
                         device=device)[0]


def refit_systems(
    systems: list[EquationSystem], data: Trajectories, *, window: int, substeps: int = 1, iterations: int = 50,
    seed: int = 0, device: str = "cpu",
) -> list[tuple[EquationSystem, float, float]]:
    """`refit_coefficients` of each of `systems`, which differ in their discovered terms only (a
    system and its pruning trials), fitted as one batch: each by its own L-BFGS, in lockstep."""
    on = resolve_device(device, "refit")
    if not systems:
        return []
    opened = open_terms(systems[0])[0]
    for other in systems[1:]:
        if any(sp.expand(a - b) != 0 for a, b in zip(open_terms(other)[0].rhs, opened.rhs, strict=True)):
            raise ValueError("refit_systems: the systems differ in more than their discovered terms")
    todo = [k for k, s in enumerate(systems) if any(e.atoms(sp.Float) for e in s.discovered.values())]
    out = [(s, float("nan"), float("nan")) for s in systems]  # nothing to refit: as it is
    if not todo:
        return out
    batch = Batch(opened, [dict(systems[k].discovered) for k in todo], device=on)
    windows = Windows(data, 2 * window, torch.float64, device=on)
    idx = windows.sample(np.random.default_rng(seed), 512)
    note = "discovered coefficients refit through the ODE solver (L-BFGS on trajectory windows)"
    for k, (numbers, before, after) in zip(todo, fit_numbers(batch, range(len(todo)), windows, idx, substeps,
                                                             iterations), strict=True):
        s = systems[k]
        out[k] = (s, before, before) if numbers is None else (
            _swap_terms(s, {st: e.xreplace(numbers) for st, e in s.discovered.items()}).with_note(note), before, after)
    return out


def round_coefficients(
    system: EquationSystem, data: Trajectories, *, window: int, substeps: int = 1, tolerance: float = 0.01,
    seed: int = 0,
) -> tuple[EquationSystem, int | None]:
    """Drop negligible terms, then round the numbers in the discovered terms to the fewest
    significant digits (1 to 5) whose window re-simulation error stays within (1 + `tolerance`)
    x the unrounded error + 1e-6.

    0.333953 v^3 reads as a 1/3 only when it can be shown as 0.33 without hurting the fit;
    rounding that hurts is never done. Returns (system, digits kept or None if unrounded).
    """
    floats = {f for e in system.discovered.values() for f in e.atoms(sp.Float)}
    if not floats:
        return system, None
    windows = Windows(data, 2 * window, torch.float64)
    idx = windows.sample(np.random.default_rng(seed), 512)

    def error(candidate: EquationSystem) -> float:
        model = HybridODE(candidate, []).double()
        with torch.no_grad():
            value = windows.loss(model, idx, "rk4", substeps).item()
        return value if np.isfinite(value) else float("inf")

    # relative to the error, plus 1e-6 (0.1 % RMS of each state's spread) for noise-free data,
    # where the reference error is ~0 and any change at all would count as hurting
    limit = (1 + tolerance) * error(system) + 1e-6
    system = _drop_negligible_terms(system, data, error, limit)
    floats = {f for e in system.discovered.values() for f in e.atoms(sp.Float)}
    for digits in range(1, 6):
        # full precision for the rounded text: Float("0.3333", 4) would store 0.33330154...
        rounded = {f: sp.Float(f"{float(f):.{digits}g}", 15) for f in floats}
        candidate = _swap_terms(system, {s: e.xreplace(rounded) for s, e in system.discovered.items()})
        if error(candidate) <= limit:
            note = (f"discovered coefficients rounded to {digits} significant digits "
                    f"(window error within {tolerance:.0%})")
            return candidate.with_note(note), digits
    return system, None


def _drop_negligible_terms(system: EquationSystem, data: Trajectories, error, limit: float) -> EquationSystem:
    """Drop terms contributing < 1 % of their state's discovered residual (RMS over the data) when
    the window error stays under `limit`: a refit can shrink a spurious constant to 1e-5 without
    removing it, and a term that does nothing is not part of the structure."""
    z = np.concatenate([data.y, data.u], axis=-1).reshape(-1, len(data.states) + len(data.inputs))
    names = (*data.states, *data.inputs)
    for state, expr in system.discovered.items():
        terms = list(sp.Add.make_args(expr))
        if len(terms) < 2:
            continue
        with np.errstate(all="ignore"):
            rms = [float(np.sqrt(np.mean(np.square(evaluate_expression(t, z, names))))) for t in terms]
        total = float(np.sqrt(np.mean(np.square(evaluate_expression(expr, z, names))))) or 1.0
        for term, size in sorted(zip(terms, rms, strict=True), key=lambda x: x[1]):
            if not size < 0.01 * total:
                break
            trial = _swap_terms(system, {state: system.discovered[state] - term})
            if error(trial) <= limit:
                note = f"negligible term {sp.sstr(term)} dropped from d{state}/dt (window error unchanged)"
                system = trial.with_note(note)
    return system


def _swap_terms(system: EquationSystem, terms: dict[str, sp.Expr]) -> EquationSystem:
    """Replace discovered terms by others (same states), keeping the known part."""
    rhs = list(system.rhs)
    for s, e in terms.items():
        i = system.state_index(s)
        rhs[i] = rhs[i] - system.discovered[s] + e
    return dataclasses.replace(system, rhs=tuple(rhs), discovered={**system.discovered, **terms})
