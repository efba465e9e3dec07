"""Score candidates by re-simulation: which of them are scored, their window re-simulation errors
(the best few refit through the ODE solver first), and the windows they are scored on."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import sympy as sp
import torch

from .._candidate import Candidate, n_constants, pareto_front
from ..data import Trajectories
from ..equations import EquationSystem
from ..integrate import Windows, state_scale
from ..ude import UDE
from ._batch import Batch, candidate_errors, fit_numbers
from ._rule import weighted_complexity


def to_score(candidates: list[Candidate]) -> list[Candidate]:
    """The Pareto front and every sparse candidate off it, by complexity. Error against a noisy
    derivative, or a network's residual, is a weak guide: a true damping term (-0.2*y in Duffing
    at 5 % noise) sat on the sparse path but off the front, beaten there by tanh look-alikes that
    re-simulated far worse; an EIF's exponential, whose network residual is smoothed near
    threshold, was off the front behind -0.0078*V and re-simulated 100x better. Re-simulation
    judges them all."""
    front = pareto_front(candidates)
    extra = [c for c in candidates if c.source.startswith("sparse") and c not in front]
    return sorted([*front, *extra], key=lambda c: (weighted_complexity(c.expression), c.error))


def as_refit(front: list[Candidate], refit: list) -> list[Candidate]:
    """`front` with each candidate's expression replaced by its refit one, where the refit changed it."""
    return [dataclasses.replace(c, expression=e) if e is not c.expression else c
            for c, e in zip(front, refit, strict=True)]


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
