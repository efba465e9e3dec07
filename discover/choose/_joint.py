"""Choose every state's terms together, each combination fitted to whole stretches of the data."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import sympy as sp
import torch

from .._candidate import Candidate, complexity, n_constants
from ..data import Trajectories
from ..equations import EquationSystem
from ..integrate import Windows, noise_level, state_scale
from ._batch import Batch, open_terms
from ._lockstep import lbfgs_many
from ._record import StateDistillation
from ._refit import _swap_terms
from ._rule import choice_threshold, chosen_index, weighted_complexity

MAX_COMBINATIONS = 48  # beyond this many, states are varied one at a time from the routes' choices
SCREEN_ITERATIONS = 5  # L-BFGS steps every combination gets
CONTENDER = 4.0  # screened error within this x the choice's threshold: fitted in full


@dataclass(frozen=True)
class JointChoice:
    """The result of `choose_jointly`: the chosen system (numbers fitted), every combination tried
    (state -> terms, fitted error, constants, L-BFGS steps it was fitted) and why the winner won."""

    system: EquationSystem
    tried: tuple[tuple[Mapping[str, str], float, int, int], ...]
    why: str


def candidate_pools(distillations: Iterable[Mapping[str, StateDistillation]], top: int = 3, fewest: int = 3,
                    up_to: int = 2) -> dict[str, list[sp.Expr]]:
    """Per state, from each route's distillation (state -> `StateDistillation`): the chosen
    candidate, the `top` best-scoring, and the `fewest` best-scoring of each number of constants
    up to `up_to`; one per structure (the same terms with other numbers are one structure: the
    joint fit finds their numbers). The simple ones are there however they scored alone:
    Lotka-Volterra's 0.8*x*y for dy/dt scored 2x the best of its state with x still a network,
    and was nowhere near the top."""
    pools: dict[str, list[sp.Expr]] = {}
    for distillation in distillations:
        for state, d in distillation.items():
            order = sorted(range(len(d.scores)), key=lambda k: d.scores[k])
            order = [k for k in order if np.isfinite(d.scores[k])]
            picked = [d.chosen.expression, *(d.scored[k].expression for k in order[:top])]
            for n in range(up_to + 1):
                picked += [d.scored[k].expression for k in order if n_constants(d.scored[k].expression) == n][:fewest]
            pools.setdefault(state, []).extend(picked)
    out: dict[str, list[sp.Expr]] = {}
    for state, exprs in pools.items():
        seen, out[state] = set(), []
        for e in exprs:
            if structure(e) not in seen:
                seen.add(structure(e))
                out[state].append(e)
    return out


def structure(expr: sp.Expr) -> str:
    """`expr` with every fitted number written as `c`: what two candidates share when they differ in numbers only."""
    return sp.sstr(expr.xreplace({f: sp.Symbol("c") for f in expr.atoms(sp.Float)}))


def choose_jointly(
    system: EquationSystem, pools: Mapping[str, Sequence[sp.Expr]], data: Trajectories, *, piece: int,
    substeps: int = 1, tolerance: float = 1.5, floor: float = 1e-4, iterations: int = 30,
) -> JointChoice:
    """Of the combinations of each residual state's candidates in `pools`, the one with the fewest
    fitted constants whose error, every number and each stretch's initial state fitted, is within
    `tolerance` x the best + `floor` (then the lowest error; `chosen_index`).

    Candidates are first chosen one state at a time, with the other states' residuals still
    networks (or, on the direct route, a derivative estimate): a term can win by making up for
    another state's stand-in (Lotka-Volterra at 5 % noise: 0.15*y for the prey-driven 0.8*x*y,
    the two nearly proportional along the trajectory). Fitted together, to stretches of
    `piece` steps started from fitted initial states rather than noisy samples, the data can
    tell them apart. With more than `MAX_COMBINATIONS`, each state in turn tries its pool with
    the others held at the current choice.

    Every combination is first fitted `SCREEN_ITERATIONS` L-BFGS steps; only those then within
    `CONTENDER` x the choice's threshold are fitted the full `iterations` (most combinations
    miss by orders of magnitude, and the full fits were most of `discover`'s time), and of those
    only the one chosen whatever the others reach, when there is such a one (`_unsettled`). The
    fits of a stage run as one batch, each by its own L-BFGS in lockstep (`_batch`).
    """
    states = list(pools)
    pieces, batch = _Pieces(data, piece), Batch(system)
    fits: dict[tuple[int, ...], _ShootingFit] = {}

    def fitted_numbers(combo: tuple[int, ...]) -> int:
        return sum(n_constants(pools[s][k]) for s, k in zip(states, combo, strict=True))

    def pick(options: list[tuple[int, ...]]):
        new = [c for c in dict.fromkeys(options) if c not in fits]
        for c in new:
            terms = {s: pools[s][k] for s, k in zip(states, c, strict=True)}
            candidate = system.replace_residuals(terms, how="chosen with the other states' terms")
            fits[c] = _ShootingFit(candidate, terms, batch, pieces, substeps)
        _run([fits[c] for c in new], [min(SCREEN_ITERATIONS, iterations)] * len(new))
        threshold = choice_threshold([fits[c].error for c in options], tolerance, floor)
        # a lower best only lowers the threshold: no new contenders after these
        contenders = _unsettled([c for c in options if fits[c].error <= CONTENDER * threshold],
                                lambda c: fits[c].error, fitted_numbers, tolerance * pieces.noise + floor)
        _run([fits[c] for c in contenders], [iterations - fits[c].iterations for c in contenders])
        return _pick(options, lambda c: fits[c].error, tolerance, floor, states, pools)

    sizes = [len(pools[s]) for s in states]
    if int(np.prod(sizes)) <= MAX_COMBINATIONS:
        combos, errors, constants, i = pick(list(itertools.product(*(range(n) for n in sizes))))
    else:
        current = (0,) * len(states)
        for _ in range(2):
            for k, n in enumerate(sizes):
                combos, _, _, best = pick([current[:k] + (j,) + current[k + 1:] for j in range(n)])
                current = combos[best]
        combos, errors, constants, i = pick(list(fits))
    if not np.isfinite(min(errors)):  # every fit blew up: nothing to choose by, keep the routes' choice
        i = combos.index((0,) * len(states))
        why = f"kept the route's choice: every combination's fit to {piece}-step stretches of the data blew up"
    else:
        within = sum(1 for e in errors if e <= tolerance * min(errors) + floor)
        why = (f"chosen jointly: {len(combos)} combinations of the states' candidates fitted to {piece}-step "
               f"stretches of the data (numbers and initial states fitted); {within} of them within {tolerance:g}x "
               f"the best error ({min(errors):.3g}) + {floor:g}; of those, the one with the fewest constants "
               f"({constants[i]}), then the lowest error ({errors[i]:.3g})")
    chosen = fits[combos[i]].result()[0]
    record = tuple(({s: str(pools[s][k]) for s, k in zip(states, c, strict=True)}, float(e), n, fits[c].iterations)
                   for c, e, n in zip(combos, errors, constants, strict=True))
    note = f"discovered terms chosen jointly and their numbers fitted to {piece}-step stretches (initial states fitted)"
    return JointChoice(chosen.with_note(note), record, why)


def _pick(options, score, tolerance, floor, states, pools):
    """`options` ordered by weighted complexity, their errors and constants, and the index
    `chosen_index` picks among them (fewest constants within tolerance, then lowest error)."""
    combos = sorted(options,
                    key=lambda c: sum(weighted_complexity(pools[s][k]) for s, k in zip(states, c, strict=True)))
    errors = [score(c) for c in combos]
    constants = [sum(n_constants(pools[s][k]) for s, k in zip(states, c, strict=True)) for c in combos]
    return combos, errors, constants, chosen_index(errors, tolerance, floor, constants, tie=_tie(errors))


def _tie(errors) -> float:
    """Differences in fitted error too small to choose by: 1 % of the best (what 30 L-BFGS steps
    leave unconverged) + 1e-9 (noise-free data: integration error). Not the window scores'
    `floor` (1e-4): at 1 % noise a whole fit's error is about that, and Lotka-Volterra's
    0.8*x*y (9.6e-5) lost to 0.19*y (1.8e-4) as a tie, to the smaller expression."""
    return 0.01 * min(errors) + 1e-9


def shooting_fit(system: EquationSystem, data: Trajectories, *, piece: int, substeps: int = 1,
                 iterations: int = 30) -> tuple[EquationSystem, float]:
    """Fit the numbers in `system`'s discovered terms, and the initial state of each back-to-back
    stretch of `piece` steps of `data`, to every sample of the stretches (each state scaled by its
    s.d.; L-BFGS through RK4). Starting a stretch at a noisy sample, as windows do, charges that
    sample's noise to the model; fitting the start is the least-squares (Gaussian likelihood)
    fit of the whole stretch. Returns (the system with its numbers fitted, the mean squared
    scaled error; inf if the model blows up)."""
    opened, terms = open_terms(system)
    fit = _ShootingFit(system, terms, Batch(opened), _Pieces(data, piece), substeps)
    _run([fit], [iterations])
    return fit.result()


class _Pieces:
    """The back-to-back stretches of `piece` steps of `data` a shooting fit is fitted to (shared
    by every combination's fit)."""

    def __init__(self, data: Trajectories, piece: int) -> None:
        piece = min(piece, data.t.size - 1)
        windows = Windows(data, piece, torch.float64, state_scale(data))
        self.obs, self.inp = windows.batch(np.flatnonzero(windows.starts % piece == 0))
        self.scale, self.dt = windows.scale, data.dt
        # half the mean squared noise (scaled as the error is): no fit re-simulates noisy samples better
        self.noise = 0.5 * float(np.mean(np.square(noise_level(data) / self.scale.numpy())))


class _ShootingFit:
    """One system's shooting fit (`shooting_fit`), run in stages (`_run`): each stage continues
    from where the last stopped, so a screened combination that stays in contention is not
    refitted from the start. `system` is the closed candidate, `terms` its discovered terms as
    candidate `batch.add(terms)` of a `Batch` over the system with placeholders."""

    def __init__(self, system: EquationSystem, terms: Mapping[str, sp.Expr], batch: Batch, pieces: _Pieces,
                 substeps: int) -> None:
        self.system, self.pieces, self.substeps = system, pieces, substeps
        self.batch, self.index = batch, batch.add(terms)
        self.floats = batch.floats(self.index)
        # fitted as relative changes: numbers from 1e-5 to 1e3 and states in mV next to gates in [0, 1]
        # would leave L-BFGS a badly scaled problem
        self.start = batch.start(self.index)
        self.values = torch.zeros(len(self.floats) + pieces.obs[:, 0].numel(), dtype=torch.float64,
                                  requires_grad=True)
        self.iterations, self.fitted, self.stalled, self.error = 0, False, False, float("inf")

    def numbers(self) -> torch.Tensor:
        return self.start + self.start.abs() * self.values[:len(self.floats)]

    def first(self) -> torch.Tensor:
        """Each stretch's fitted initial state."""
        p = self.pieces
        return p.obs[:, 0] + p.scale * self.values[len(self.floats):].reshape(p.obs[:, 0].shape)

    def result(self) -> tuple[EquationSystem, float]:
        """(the system with its numbers as fitted, its error)."""
        if not self.fitted:
            return self.system, self.error
        values = self.numbers().detach().tolist()
        fitted = {f: sp.Float(v, 6) for f, v in zip(self.floats, values, strict=True)}
        return _swap_terms(self.system, {s: e.xreplace(fitted) for s, e in self.system.discovered.items()}), self.error


def _run(fits: list[_ShootingFit], iterations: list[int]) -> None:
    """`iterations[i]` more L-BFGS steps of `fits[i]` (fits of one `Batch`, in lockstep). A stage
    that blows up or gains nothing is undone, and that fit stops there (more steps from the same
    point would do the same)."""
    todo = [(fit, n) for fit, n in zip(fits, iterations, strict=True) if n > 0 and not fit.stalled]
    if not todo:
        return
    kept = [fit.values.detach().clone() for fit, _ in todo]

    def losses(ks: list[int]) -> torch.Tensor:
        chosen = [todo[k][0] for k in ks]
        p = chosen[0].pieces
        pred = chosen[0].batch.integrate([f.index for f in chosen], torch.stack([f.first() for f in chosen]), p.inp,
                                         p.dt, chosen[0].substeps, [f.numbers() for f in chosen])
        return (((pred - p.obs) / p.scale) ** 2).mean((1, 2, 3))

    results = lbfgs_many([fit.values for fit, _ in todo], losses, [n for _, n in todo])
    for (fit, n), values, (before, after) in zip(todo, kept, results, strict=True):
        fit.iterations += n
        if np.isfinite(after) and after < before:
            fit.fitted, fit.error = True, after
        else:
            with torch.no_grad():
                fit.values.copy_(values)
            fit.stalled = True
            fit.error = before if np.isfinite(before) else float("inf")


def _unsettled(contenders: list, error, constants, lowest: float) -> list:
    """The contenders whose full fit can still change the choice: all of them, unless one has
    fewer constants than every other and already an error within `lowest`, the lowest threshold
    any fit can bring (tolerance x half the noise, which no fit re-simulates better, + floor).
    Fitting only lowers errors, so it stays within the threshold and the non-contenders stay
    out: the choice (fewest constants within the threshold) is it, whatever the others would
    reach. It alone is fitted in full, for its numbers; the others keep their screened fit."""
    if not contenders:
        return contenders
    fewest = min(constants(c) for c in contenders)
    simplest = [c for c in contenders if constants(c) == fewest]
    if len(simplest) == 1 and error(simplest[0]) <= lowest:
        return simplest
    return contenders


def choose_routes_jointly(
    system: EquationSystem, found: Mapping[str, Mapping[str, StateDistillation]], first: str, data: Trajectories, *,
    piece: int, substeps: int, tolerance: float, floor: float,
) -> tuple[EquationSystem, dict[str, StateDistillation], dict]:
    """`choose_jointly` over the candidates of every route in `found` (route -> state ->
    `StateDistillation`), route `first`'s choice first. Returns (the chosen system, `first`'s
    distillation with each chosen candidate and reason updated, a record for the results)."""
    pools = candidate_pools([found[first], *(d for name, d in found.items() if name != first)])
    joint = choose_jointly(system, pools, data, piece=piece, substeps=substeps, tolerance=tolerance, floor=floor)
    distillation = {state: _with_choice(d, state, joint, [found[n][state] for n in found if n != first])
                    for state, d in found[first].items()}
    record = {"why": joint.why, "piece": piece,
              "tried": [{"terms": dict(t), "error": e, "constants": n, "iterations": k} for t, e, n, k in joint.tried]}
    return joint.system, distillation, record


def _with_choice(d: StateDistillation, state: str, joint: JointChoice,
                 others: list[StateDistillation]) -> StateDistillation:
    """`d` (a `StateDistillation`) with the joint choice as its chosen candidate: in place of the
    front member of the same structure, or added to the front (score NaN: it was not scored
    alone on this route) from another route's front or as a new candidate."""
    expr = joint.system.discovered[state]
    front, scores = list(d.scored), list(d.scores)
    k = next((i for i, c in enumerate(front) if structure(c.expression) == structure(expr)), None)
    if k is None:
        origin = next((c for o in others for c in o.scored if structure(c.expression) == structure(expr)), None)
        front.append(origin or Candidate(expr, complexity(expr), float("nan"), "joint choice"))
        scores.append(float("nan"))
        k = len(front) - 1
    front[k] = chosen = dataclasses.replace(front[k], expression=expr)
    if structure(expr) == structure(d.chosen.expression):
        reason = f"{d.reason}; kept, {joint.why}"
    else:
        reason = f"{joint.why}; on its own, {sp.sstr(d.chosen.expression)} had been chosen: {d.reason}"
    return dataclasses.replace(d, scored=tuple(front), scores=tuple(scores), chosen=chosen, reason=reason)


__all__ = ["JointChoice", "candidate_pools", "choose_jointly", "choose_routes_jointly", "shooting_fit", "structure"]
