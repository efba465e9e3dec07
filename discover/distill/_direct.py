"""The direct route: distil the data's own derivatives, with no network.

On clean, densely sampled, fully observed data a smoothed derivative is a good estimate of
each state's right-hand side, and regressing on it directly is faster and often better than
training a network first. The known part is subtracted, so it fills the same residual
placeholders the UDE route fills, and candidates are chosen the same way: by re-simulation.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import numpy as np
import sympy as sp
from scipy.signal import savgol_filter

from .._candidate import Candidate
from .._errors import DataError
from ..choose import (
    StateDistillation,
    as_refit,
    checked_error,
    checks,
    choice_rule,
    choose_candidate,
    score_candidates,
    to_score,
)
from ..data import Trajectories
from ..equations import EquationSystem, compile_numpy
from ..integrate import one_blas_thread
from ..ude import HybridODE
from ._options import DistillOptions
from ._propose import propose
from ._sample import ResidualSamples

# Savitzky-Golay windows (samples) tried; the one whose sparse model re-simulates best is used
SMOOTHING = (5, 9, 15, 25, 41)


def estimate_derivatives(data: Trajectories, smoothing: int) -> np.ndarray:
    """d`y`/dt of each trajectory by a cubic Savitzky-Golay filter over `smoothing` samples
    (odd, >= 5): the derivative of a local least-squares cubic, which averages noise away where
    plain finite differences amplify it."""
    if isinstance(smoothing, bool) or not isinstance(smoothing, int) or smoothing < 5 or smoothing % 2 == 0:
        raise DataError(f"`smoothing` must be an odd number of samples >= 5, got {smoothing!r}.")
    if smoothing > data.t.size:
        raise DataError(f"`smoothing` = {smoothing} samples is longer than the {data.t.size}-sample trajectories; "
                        "use a shorter window.")
    return savgol_filter(data.y, smoothing, polyorder=3, deriv=1, delta=data.dt, axis=1, mode="interp")


def derivative_samples(
    system: EquationSystem, data: Trajectories, smoothing: int, max_samples: int = 5000, seed: int = 0,
) -> list[ResidualSamples]:
    """Each residual's values implied by the data: estimated derivative minus the known part,
    at the observed states and inputs. Features that never varied are dropped (as for the UDE)."""
    target = estimate_derivatives(data, smoothing) - compile_numpy(system.without_residuals())(data.y, data.u)
    columns = (*data.states, *data.inputs)
    z = np.concatenate([data.y, data.u], axis=-1).reshape(-1, len(columns))
    target = target.reshape(-1, len(data.states))
    keep_rows = np.arange(len(z))
    if len(z) > max_samples:
        keep_rows = np.sort(np.random.default_rng(seed).choice(len(z), max_samples, replace=False))
    out = []
    for state in system.residuals:
        names = [f for f in system.residual_features(state) if np.ptp(z[:, columns.index(f)]) > 0]
        X = z[np.ix_(keep_rows, np.array([columns.index(f) for f in names], dtype=int))]
        out.append(ResidualSamples(state, tuple(names), X, target[keep_rows, system.state_index(state)]))
    return out


@one_blas_thread()  # called alone too: numpy's small solves beside torch (`one_blas_thread`)
def distill_direct(
    system: EquationSystem, data: Trajectories, options: Mapping[str, Any] | DistillOptions,
    selection: Trajectories | None = None, *, whole: Trajectories | None = None, window: int = 20, substeps: int = 1,
) -> tuple[dict[str, StateDistillation], int]:
    """Distil every residual of `system` from `data`'s smoothed derivatives (options as for
    `distill_residuals`). Returns (state -> `StateDistillation`, the smoothing window used).

    Candidates are chosen by re-simulating `window`-step windows of `selection` (`data` when
    None) twice as long as a UDE's training windows, and with `whole` (the training data before
    the selection was cut off) its trajectories whole, one state at a time with the others held
    at their current choice (there is no network to stand in for them).
    """
    options = DistillOptions.from_mapping(options)  # checked where it was made if already one
    seed = options.seed
    chosen_on = selection if selection is not None else data
    length = min(2 * window, chosen_on.t.size - 1)
    tests = checks(chosen_on, length, 512, seed, whole)
    smoothing, current = pick_smoothing(system, data, tests, substeps, {"seed": seed, **options.sparse},
                                        *choice_rule(options))
    fronts, pooled = {}, {}
    for samples in derivative_samples(system, data, smoothing, seed=seed):
        candidates = propose(samples, options)
        pooled[samples.state], fronts[samples.state] = candidates, to_score(candidates)
    out = {}
    # each state is chosen with the others held at their current choice, starting from the sparse
    # models that picked the smoothing; a second pass lets early choices see later ones, scoring
    # the candidates as the first pass refit them (the final refit is joint, in `discover`)
    for refit_top in [options.refit_candidates, 0][:2 if len(fronts) > 1 else 1]:
        for state in fronts:
            out[state] = _choose_state(system, state, fronts[state], pooled[state], current, data, chosen_on,
                                       options, length, substeps, smoothing, selection is not None, whole, refit_top)
            current[state], fronts[state] = out[state].chosen.expression, list(out[state].scored)
    return out, smoothing


def _choose_state(system, state, front, pooled, current, data, chosen_on, options: DistillOptions, length, substeps,
                  smoothing, held_out: bool, whole, refit_top: int) -> StateDistillation:
    """One state's choice among `front` (from `to_score`), by re-simulation with the other states' terms fixed."""
    tolerance, floor = choice_rule(options)
    fixed = system.replace_residuals({s: e for s, e in current.items() if s != state}, how="held fixed")
    scores, refit = score_candidates(
        fixed, [], state, front, chosen_on, length=length, substeps=substeps,
        seed=options.seed, refit_on=data if options.refit else None,
        refit_top=refit_top, whole=whole,
    )
    front = as_refit(front, refit)
    how = "held-out window re-simulation error" if held_out else "window re-simulation error"
    if whole is not None:
        how = f"mean of the {how} and the whole-trajectory re-simulation error"
    return choose_candidate(state, pooled, front, scores, how,
                            "the residual-error Pareto front and the sparse candidates off it", tolerance, floor,
                            note=f"distilled from the data's derivatives (the direct route), smoothed over "
                                 f"{smoothing} samples; ")


def pick_smoothing(system: EquationSystem, data: Trajectories, tests: list, substeps: int, sparse: Mapping[str, Any],
                   tolerance: float, floor: float, budget: int = 25) -> tuple[int, dict]:
    """The Savitzky-Golay window, and one sparse model per state, that re-simulate `tests` (from
    `checks`) best jointly: too little smoothing leaves noise in the target, too much flattens
    peaks, and which is which depends on the noise and the sampling, so it is measured, not
    guessed. At each window, combinations of the states' sparse threshold paths (about `budget`
    of them, the simplest members of each path) are re-simulated together: chosen one state at
    a time, a missing term in one state (Duffing's damping) is made up for by junk in another.
    The simplest combination within `tolerance` x the best (+ `floor`) wins. `sparse`: keyword
    arguments of `SparseDistiller`. Returns (the window, its sparse terms per state)."""
    from ._sparse import SparseDistiller

    levels = [w for w in SMOOTHING if w <= max(5, data.t.size // 4)]
    scored = []  # (error, total complexity, window, terms)
    for level in levels:
        paths = {}
        for s in derivative_samples(system, data, level, seed=sparse.get("seed", 0)):
            fitted = SparseDistiller(**sparse).fit(s.X, s.y, s.features)  # the user's library and degree
            paths[s.state] = _simplest(fitted.candidates_, fitted.expression_, budget, len(system.residuals))
        for combo in itertools.product(*paths.values()):
            terms = dict(zip(paths, (c.expression for c in combo), strict=True))
            model = HybridODE(system.replace_residuals(terms, how="candidate"), []).double()
            scored.append((checked_error(model, tests, substeps), sum(c.complexity for c in combo), level, terms))
    best = min(error for error, *_ in scored)
    _, _, level, terms = min((c for c in scored if c[0] <= tolerance * best + floor), key=lambda c: (c[1], c[0]))
    return level, terms


def _simplest(path: list[Candidate], knee: sp.Expr, budget: int, n_states: int) -> list[Candidate]:
    """The simplest members of a sparse path, as many as a `budget` of combinations over
    `n_states` states allows, and always the distiller's own pick (its knee)."""
    keep = max(2, int(round(budget ** (1 / n_states))))
    # the threshold (and greedy) path only: a dozen one-term best subsets would crowd it out
    ordered = sorted((c for c in path if "subset" not in c.source), key=lambda c: (c.complexity, c.error))
    out = ordered[:keep]
    return out + [c for c in ordered[keep:] if c.expression == knee][:1]


__all__ = ["SMOOTHING", "derivative_samples", "distill_direct", "estimate_derivatives", "pick_smoothing"]
