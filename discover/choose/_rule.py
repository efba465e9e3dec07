"""The choice rule: of candidates scored on data, the simplest within a tolerance of the best (fewest
fitted constants, then the lowest score), and the reason it gives."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import sympy as sp

from .._candidate import Candidate, complexity, n_constants
from ._record import StateDistillation

if TYPE_CHECKING:  # discover.distill imports this package: at run time any object with these fields will do
    from ..distill import DistillOptions


def choice_rule(options: DistillOptions) -> tuple[float, float]:
    """(tolerance, floor) of the simplest-within-tolerance choice. Scores below ~1 % RMS error of a
    state's spread cannot tell candidates apart; without the floor, noise-free data let spurious
    saturating terms (x*tanh(40*y + 117) for x) win."""
    return options.tolerance, options.floor


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


def choose_candidate(state: str, candidates: Sequence[Candidate], scored: Sequence[Candidate],
                     scores: Sequence[float], how: str, pool: str, tolerance: float, floor: float,
                     note: str = "") -> StateDistillation:
    """The record of `state`'s choice: of `scored` (those of the proposed `candidates` in `pool`,
    simplest first) with their `scores` (by `how`), the one `chosen_index` picks (fewest constants
    within `tolerance` x the best + `floor`, then the lowest score), and why (`note`, then
    `choice_reason`)."""
    i = chosen_index(scores, tolerance, floor, [n_constants(c.expression) for c in scored])
    reason = note + choice_reason(scored, scores, i, f"{len(candidates)} candidates", pool, how, tolerance, floor)
    return StateDistillation(state, tuple(candidates), tuple(scored), tuple(float(s) for s in scores), scored[i],
                             reason, score_name=how, threshold=choice_threshold(scores, tolerance, floor))


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


def weighted_complexity(expr: sp.Expr) -> int:
    """Tree size, with each function call (exp, tanh, ...) counting 3 nodes more: at equal
    re-simulation error -x**3 + x, not -1.03*x*tanh(1.87*x - 1.87) (the same size, and on
    one trajectory the same error), is the model a user can believe and that extrapolates.
    A true exponential still wins where no polynomial re-simulates as well."""
    return complexity(expr) + 3 * sum(1 for e in sp.preorder_traversal(expr) if isinstance(e, sp.Function))
