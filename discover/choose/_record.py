"""The record of one state's choice, for the report: what was proposed, what was scored, what was
chosen and why; and the points of a front no other beats."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .._candidate import Candidate


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
