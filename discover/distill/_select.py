"""Choose among candidates by re-simulation, then refit coefficients through the ODE solver."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import sympy as sp
import torch

from ..data import Trajectories
from ..equations import EquationSystem, evaluate_expression
from ..integrate import Windows, resolve_device, state_scale
from ..ude import UDE, HybridODE
from ._base import Candidate, n_constants
from ._batch import Batch, candidate_errors, fit_numbers, open_terms


def resimulation_errors(
    ude: UDE, state: str, candidates: list[Candidate], data: Trajectories, *, n_windows: int = 512,
    length: int | None = None, seed: int = 0, refit_on: Trajectories | None = None, refit_iterations: int = 30,
    refit_top: int = 6,
) -> tuple[list[float], list[sp.Expr]]:
    """Window re-simulation error of the hybrid model with `state`'s residual replaced by each candidate.

    Other residuals stay neural, so each state's choice is judged on its own. Windows are twice
    as long as training windows: fitting the residual's values is not enough, a candidate has
    to reproduce trajectories. See `score_candidates` for the refit. Returns (errors, candidates as scored).
    """
    others = [s for s in ude.system.residuals if s != state]
    # copies: converting to float64 must not change the fitted UDE
    nets = [copy.deepcopy(ude.model_.residuals[list(ude.system.residuals).index(s)]) for s in others]
    for net in nets:
        net.double().requires_grad_(False)
    return score_candidates(
        ude.system, nets, state, candidates, data, length=length or 2 * ude.window, substeps=ude.substeps,
        n_windows=n_windows, seed=seed, refit_on=refit_on, refit_iterations=refit_iterations, refit_top=refit_top,
    )


def score_candidates(
    system: EquationSystem, nets: list, state: str, candidates: list[Candidate], data: Trajectories, *, length: int,
    substeps: int = 1, n_windows: int = 512, seed: int = 0, refit_on: Trajectories | None = None,
    refit_iterations: int = 30, refit_top: int = 6, whole: Trajectories | None = None,
) -> tuple[list[float], list[sp.Expr]]:
    """Window re-simulation error of `system` with `state`'s residual replaced by each candidate;
    `nets` (float64) stand in for the system's other residuals, in order. With `whole`, the
    score is the mean of that and the error of re-simulating each of its trajectories whole from
    its first sample (see `checks`).

    With `refit_on`, the `refit_top` candidates that re-simulate best as distilled have their
    numbers refit through the solver on those data (L-BFGS) and are scored again, so a structure
    is not judged by the bias the network (or the derivative estimate) left in its coefficients.
    (Refitting every member of a 30-candidate front made Hodgkin-Huxley runs take 20 minutes; a
    structure far worse than the best before its refit rarely becomes the best after it.)
    A candidate that blows up scores inf. Returns (errors, candidates as scored).

    The candidates are integrated as one batch, and the refits run in lockstep (`_batch`): the
    same errors and refits as one candidate at a time, a fraction of the per-step overhead.
    """
    tests = checks(data, length, n_windows, seed, whole)
    scored = [c.expression for c in candidates]
    batch = Batch(system, [{state: e} for e in scored], nets)
    errors = candidate_errors(batch, tests, substeps)
    if refit_on is None or refit_top <= 0:
        return errors, scored
    fit_windows = Windows(refit_on, min(length, refit_on.t.size - 1), torch.float64)
    fit_idx = fit_windows.sample(np.random.default_rng(seed + 1), 256)
    chosen = _to_refit(scored, errors, refit_top)
    fitted = fit_numbers(batch, chosen, fit_windows, fit_idx, substeps, refit_iterations)
    refit = {k: scored[k].xreplace(n) for k, (n, _, _) in zip(chosen, fitted, strict=True) if n is not None}
    added = [batch.add({state: expr}) for expr in refit.values()]
    for (k, expr), err in zip(refit.items(), candidate_errors(batch, tests, substeps, added), strict=True):
        if err < errors[k]:  # a refit on the fitting data that re-simulates worse here is not kept
            errors[k], scored[k] = err, expr
    return errors, scored


def _to_refit(scored: list[sp.Expr], errors: list[float], top: int) -> list[int]:
    """Indices of the candidates to refit: the `top` best as distilled, and the best of each
    smaller number of constants than the best's. The choice prefers fewer constants, so the
    simple ones must be judged at their best too: Lotka-Volterra's -0.93*x*y scored 7x the best
    as distilled (from a network's biased residual), 7th of the front, and lost unrefit to a
    3-constant look-alike."""
    order = [k for k in sorted(range(len(errors)), key=lambda k: errors[k])[:top] if np.isfinite(errors[k])]
    if not order:
        return []
    counts = [n_constants(e) for e in scored]
    simplest: dict[int, int] = {}
    for k in sorted(range(len(errors)), key=lambda k: errors[k]):
        if np.isfinite(errors[k]) and counts[k] < counts[order[0]]:
            simplest.setdefault(counts[k], k)
    return order + [k for k in simplest.values() if k not in order]


def checks(data: Trajectories, length: int, n_windows: int, seed: int, whole: Trajectories | None = None) -> list:
    """(windows, sampled indices) to score a model on: `length`-step windows of `data`, and with
    `whole` each of its trajectories as one long window (or a few). Short windows at the held-out end of a
    trajectory that sits near a fixed point cannot tell a model that has the right fixed point
    from the right model; the whole run from the first sample can. Both are scaled by each
    state's s.d. over `whole`, so that such a stretch's noise is not blown up into error."""
    scale = None if whole is None else state_scale(whole)
    windows = Windows(data, length, torch.float64, scale)
    out = [(windows, windows.sample(np.random.default_rng(seed), n_windows))]
    if whole is not None:
        # long trajectories in back-to-back pieces of up to 5 window lengths, integrated as one
        # batch: as long a horizon for drift to show, a fraction of the sequential steps
        long = min(whole.t.size - 1, 5 * length)
        pieces = Windows(whole, long, torch.float64, scale)
        out.append((pieces, np.flatnonzero(pieces.starts % long == 0)))
    return out


def checked_error(model, tests: list, substeps: int) -> float:
    """Mean over `tests` (from `checks`) of the scaled re-simulation error; inf on a blow-up."""
    with torch.no_grad():
        errors = [windows.loss(model, idx, "rk4", substeps).item() for windows, idx in tests]
    error = float(np.mean(errors))
    return error if np.isfinite(error) else float("inf")


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
