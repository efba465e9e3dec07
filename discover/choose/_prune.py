"""Backward elimination through the solver: drop discovered terms the data do not need."""

from __future__ import annotations

import dataclasses

import sympy as sp

from ..data import Trajectories
from ..equations import EquationSystem
from ._joint import CONTENDER, SCREEN_ITERATIONS
from ._refit import _swap_terms, refit_systems

# systems with more discovered terms than this are not pruned: each round refits once per term
MAX_TERMS = 12


def prune_terms(
    system: EquationSystem, data: Trajectories, *, window: int, substeps: int = 1, tolerance: float = 1.5,
    floor: float = 1e-4, seed: int = 0,
) -> tuple[EquationSystem, list[str]]:
    """Remove discovered terms one at a time while the system, with the remaining coefficients
    refit jointly through the solver, re-simulates `data`'s windows within `tolerance` x the
    unpruned error + `floor` (the rule candidates are chosen by).

    Candidates are chosen one state at a time, with the other states' residuals still neural
    or held at an earlier choice, so a spurious term can win by making up for another state's
    error (Lotka-Volterra at 1 % noise: -0.026*x**2 - 0.916*x*y + 0.00686 for -0.9*x*y, whose
    extra terms fitted the y network's bias). Judged jointly, with every number refit, such a
    term no longer pays for itself. Each round drops the term whose removal hurts least; a
    state keeps its last term. Returns (the pruned system, one note per dropped term).

    A round's trials are fitted as one batch (`refit_systems`), first `SCREEN_ITERATIONS` L-BFGS
    steps each; only those then within `CONTENDER` x the limit are refit in full.
    """
    if sum(len(sp.Add.make_args(e)) for e in system.discovered.values()) > MAX_TERMS:
        return system, []

    def refit(candidates: list[EquationSystem], iterations: int = 50) -> list[tuple[EquationSystem, float]]:
        fitted = refit_systems(candidates, data, window=window, substeps=substeps, iterations=iterations, seed=seed)
        # the trial's history is the system's, not one more "refit" line per trial
        return [(dataclasses.replace(f, provenance=c.provenance), min(before, after))
                for c, (f, before, after) in zip(candidates, fitted, strict=True)]

    [(system, reference)] = refit([system])
    limit = tolerance * reference + floor
    notes = []
    while True:
        drops = [(state, part) for state, expr in system.discovered.items() if len(sp.Add.make_args(expr)) > 1
                 for part in sp.Add.make_args(expr)]
        if not drops:
            break
        candidates = [_swap_terms(system, {state: system.discovered[state] - part}) for state, part in drops]
        # every trial screened first (as the joint choice screens): a term that matters leaves an error
        # orders of magnitude over the limit; only trials near it are refit in full, from the start
        screened = refit(candidates, SCREEN_ITERATIONS)
        near = [k for k, (_, error) in enumerate(screened) if error <= CONTENDER * limit]
        trials = [(error, *drops[k], trial) for k, (trial, error) in zip(near, refit([candidates[k] for k in near]),
                                                                       strict=True)]
        if not trials:
            break
        error, state, part, trial = min(trials, key=lambda t: t[0])
        if not error <= limit:
            break
        note = (f"term {sp.sstr(part)} dropped from d{state}/dt: without it, refit through the solver, the window "
                f"error is {error:.3g}, within {tolerance:g}x the error with it ({reference:.3g}) + {floor:g}")
        system = trial.with_note(note)
        notes.append(note)
    return system, notes


__all__ = ["prune_terms"]
