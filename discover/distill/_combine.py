"""Run the chosen backends on each residual, merge their candidates, choose, refit."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sympy as sp

from .._errors import ConfigError, FitError, check_keywords, did_you_mean
from .._progress import QUIET, Progress, as_progress
from .._schema import DISTILL
from ..data import Trajectories
from ..ude import UDE
from ._base import Candidate, complexity, n_constants, pareto_front
from ._library import check_library
from ._sample import ResidualSamples, sample_residuals
from ._select import resimulation_errors
from ._sparse import SparseDistiller
from ._symbolic import SymbolicDistiller

DISTILLERS = {"sparse": SparseDistiller, "symbolic": SymbolicDistiller}
OPTIONS = DISTILL.names()  # the schema documents each one (docs: configuration reference)
ROUTES = ("auto", "ude", "direct")


@dataclass(frozen=True, eq=False)
class StateDistillation:
    """What distillation did for one state's residual, for the report.

    `candidates`: every candidate of every backend. `scored`: the ones the choice rule scored
    (`to_score`: the backends' joint Pareto front of complexity vs residual error, plus the
    sparse candidates off it), by weighted complexity; `scores`: each one's score, in the same
    order, named by `score_name` (window re-simulation error, or residual error). `threshold`:
    the score a candidate had to be within to be chosen. `pareto`: the scored candidates no other
    beats in both complexity and score, the front the choice rule saw. `chosen` and `reason`
    (short clauses joined by "; ").
    """

    state: str
    candidates: tuple[Candidate, ...]
    scored: tuple[Candidate, ...]
    scores: tuple[float, ...]
    chosen: Candidate
    reason: str
    score_name: str = "score"
    threshold: float = float("nan")

    @property
    def pareto(self) -> tuple[Candidate, ...]:
        """The non-dominated members of `scored` in (complexity, score), by complexity."""
        return tuple(self.scored[k] for k in nondominated([c.complexity for c in self.scored], self.scores))


def nondominated(complexities: Sequence[float], scores: Sequence[float]) -> list[int]:
    """Indices of the points (complexity, score) that no other point beats, i.e. has both no
    higher with one of them lower; ordered by complexity. A non-finite score is never on it (a
    candidate that was not scored, or whose re-simulation blew up)."""
    finite = [k for k, s in enumerate(scores) if math.isfinite(s)]

    def beaten(k: int) -> bool:
        return any(complexities[j] <= complexities[k] and scores[j] <= scores[k]
                   and (complexities[j] < complexities[k] or scores[j] < scores[k]) for j in finite)
    return sorted((k for k in finite if not beaten(k)), key=lambda k: (complexities[k], scores[k]))


def check_distill_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Validate the `distill` options before any training starts."""
    for key in options:
        if key not in OPTIONS:
            raise ConfigError(f"unknown distill option {key!r}; allowed: {', '.join(OPTIONS)}."
                              f"{did_you_mean(key, OPTIONS)}")
    route = options.get("route", "auto")
    if route not in ROUTES:
        raise ConfigError(f"distill route {route!r} is not one of {list(ROUTES)}: \"ude\" distils a trained network, "
                          f"\"direct\" the data's smoothed derivatives, \"auto\" runs both and keeps the one that "
                          f"re-simulates held-out data better.{did_you_mean(str(route), ROUTES)}")
    backends = options.get("backends", ["sparse", "symbolic"])
    for b in backends:
        if b not in DISTILLERS:
            raise ConfigError(f"distill backend {b!r} is not one of {list(DISTILLERS)}.{did_you_mean(b, DISTILLERS)}")
    for name, cls in DISTILLERS.items():
        check_keywords(f"{name} distill", options.get(name, {}), cls)
    if "library" in options.get("sparse", {}):  # a typo here must not wait until training is over
        try:
            check_library(options["sparse"]["library"])
        except FitError as error:
            raise ConfigError(f"distill sparse {error}") from None
    fraction = options.get("selection", 0.2)
    if not isinstance(fraction, (int, float)) or not 0 <= fraction < 0.5:
        raise ConfigError(
            f"distill selection must be a fraction in [0, 0.5) of each training trajectory held out to choose "
            f"candidates on, got {fraction!r}; 0.2 is the default, 0 chooses on the training windows."
        )
    top = options.get("refit_candidates", 6)
    if isinstance(top, bool) or not isinstance(top, int) or top < 0:
        raise ConfigError(
            f"distill refit_candidates must be a whole number >= 0 (how many of the best-scoring front candidates "
            f"are refit through the solver before the choice), got {top!r}; 6 is the default, 0 turns it off."
        )
    if options.get("choose_by", "resimulation") not in ("resimulation", "residual"):
        raise ConfigError(f"distill choose_by must be 'resimulation' or 'residual', got {options['choose_by']!r}.")
    for key in ("joint", "refit", "prune", "round"):  # "false" in a TOML string would read as true
        if key in options and not isinstance(options[key], bool):
            raise ConfigError(f"distill {key} must be true or false, got {options[key]!r}; write {key} = false "
                              f"(no quotes) to turn it off.")
    return {"backends": list(backends), **{k: v for k, v in options.items() if k != "backends"}}


def distill_residuals(
    ude: UDE, data: Trajectories, options: Mapping[str, Any], selection: Trajectories | None = None,
    progress: bool | Progress = False,
) -> dict[str, StateDistillation]:
    """Distil every residual of a fitted UDE (options as checked by `check_distill_options`).

    Residuals are sampled at `data`; candidates are chosen by re-simulating windows of
    `selection` (data the network was not trained on; `data` itself when None).
    """
    options = check_distill_options(options)
    seed = options.get("seed", 0)
    tolerance, floor = choice_rule(options)
    out = {}
    progress = as_progress(progress)
    for samples in sample_residuals(ude, data, seed=seed):
        candidates = propose(samples, options, progress)
        if options.get("choose_by", "resimulation") == "resimulation":
            scored = to_score(candidates)
            chosen_on = selection if selection is not None else data
            length = min(2 * ude.window, chosen_on.t.size - 1)
            with progress.stage(f"d{samples.state}/dt: scoring {len(scored)} candidates by window re-simulation"):
                scores, refit = resimulation_errors(
                    ude, samples.state, scored, chosen_on, length=length, seed=seed,
                    refit_on=data if options.get("refit", True) else None,
                    refit_top=options.get("refit_candidates", 6),
                )
            # the best few scored candidates are judged, and kept, with their numbers refit through the solver
            scored = as_refit(scored, refit)
            how = "held-out window re-simulation error" if selection is not None else "window re-simulation error"
            pool = "the residual-error Pareto front and the sparse candidates off it"
        else:
            scored = pareto_front(candidates)
            scores = [c.error for c in scored]
            how, pool = "held-out residual error", "the residual-error Pareto front"
        i = chosen_index(scores, tolerance, floor, [n_constants(c.expression) for c in scored])
        out[samples.state] = StateDistillation(
            samples.state, tuple(candidates), tuple(scored), tuple(float(s) for s in scores), scored[i],
            choice_reason(scored, scores, i, f"{len(candidates)} candidates", pool, how, tolerance, floor),
            score_name=how, threshold=choice_threshold(scores, tolerance, floor),
        )
    return out


def choice_reason(scored, scores, i: int, proposed: str, pool: str, how: str, tolerance: float,
                  floor: float) -> str:
    """Why `scored[i]` was chosen, as short clauses joined by "; " (a report lists them): which of the
    `proposed` candidates were scored (`pool`), by what (`how`), and the rule."""
    within = sum(1 for s in scores if s <= choice_threshold(scores, tolerance, floor))
    return (
        f"{len(scored)} of the {proposed} scored by {how} ({pool}); {within} of them within {tolerance:g}x the best "
        f"score ({min(scores):.3g}) + {floor:g}; of those, the one with the fewest constants "
        f"({n_constants(scored[i].expression)}), then the lowest score ({scores[i]:.3g})"
    )


def choice_rule(options: Mapping[str, Any]) -> tuple[float, float]:
    """(tolerance, floor) of the simplest-within-tolerance choice. Scores below ~1 % RMS error of a
    state's spread cannot tell candidates apart; without the floor, noise-free data let spurious
    saturating terms (x*tanh(40*y + 117) for x) win."""
    return float(options.get("tolerance", 1.5)), float(options.get("floor", 1e-4))


def propose(samples: ResidualSamples, options: Mapping[str, Any], progress: Progress = QUIET) -> list[Candidate]:
    """Every candidate of every backend in `options` for one residual's samples."""
    candidates: list[Candidate] = []
    for backend in options["backends"]:
        kwargs = {"seed": options.get("seed", 0), **options.get(backend, {})}
        with progress.stage(f"d{samples.state}/dt: {backend} regression on {samples.y.size} residual samples"):
            candidates += DISTILLERS[backend](**kwargs).fit(samples.X, samples.y, samples.features).candidates_
    return candidates


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


def weighted_complexity(expr: sp.Expr) -> int:
    """Tree size, with each function call (exp, tanh, ...) counting 3 nodes more: at equal
    re-simulation error -x**3 + x, not -1.03*x*tanh(1.87*x - 1.87) (the same size, and on
    one trajectory the same error), is the model a user can believe and that extrapolates.
    A true exponential still wins where no polynomial re-simulates as well."""
    return complexity(expr) + 3 * sum(1 for e in sp.preorder_traversal(expr) if isinstance(e, sp.Function))


def as_refit(front: list[Candidate], refit: list) -> list[Candidate]:
    """`front` with each candidate's expression replaced by its refit one, where the refit changed it."""
    return [dataclasses.replace(c, expression=e) if e is not c.expression else c
            for c, e in zip(front, refit, strict=True)]


def choice_threshold(scores, tolerance: float, floor: float) -> float:
    """The score a candidate must not exceed to be chosen: `tolerance` x the best + `floor`."""
    return tolerance * min(scores) + floor


def chosen_index(scores: Sequence[float], tolerance: float, floor: float, constants: Sequence[int] | None = None,
                 tie: float | None = None) -> int:
    """Index of the simplest front member (fronts are ordered by complexity) scoring within
    `tolerance` x the best + `floor`.

    With `constants` (each member's number of fitted constants), simplest means fewest
    constants, and among members with as many the best score wins unless it beats the simplest
    by less than `tie` (default `floor`: a tie the windows cannot resolve): at equal freedom the data decide.
    Node count alone chose 0.2*y over 0.8*x*y for Lotka-Volterra's prey-dependent growth (one
    node fewer, and within tolerance on a noisy trajectory where x*y and y are nearly
    proportional), and x*y + 0.01 over x*y whenever a spurious constant fitted the noise a
    little better. The tie rule keeps an EIF's a*exp(b*V) over the look-alike a*V*exp(b*V),
    both far below the floor."""
    within = [k for k, s in enumerate(scores) if s <= choice_threshold(scores, tolerance, floor)]
    if constants is None:
        return within[0]
    fewest = min(constants[k] for k in within)
    same = [k for k in within if constants[k] == fewest]
    best_same = min(scores[k] for k in same)
    return next(k for k in same if scores[k] <= best_same + (floor if tie is None else tie))


__all__ = ["DISTILLERS", "StateDistillation", "check_distill_options", "distill_residuals", "nondominated"]
