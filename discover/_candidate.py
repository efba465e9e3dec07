"""The candidate closed form: what the distillers propose (`discover.distill`) and the choice chooses
among (`discover.choose`), with the measures both sides rank it by. Shared here, below both packages,
so that neither imports the other for it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import sympy as sp


@dataclass(frozen=True)
class Candidate:
    """One closed-form candidate for a residual.

    `complexity` counts expression-tree nodes (`complexity()`); `error` is the mean squared
    error on held-out samples divided by the target's variance (0 is perfect, 1 is no better
    than a constant). `aic`, `bic`: information criteria on the same held-out samples
    (n log(MSE) + 2k or + k log n, k = the number of fitted constants); lower is better.
    `inclusion`: for sparse candidates, how often each term was selected across bootstrap
    resamples (bagging) at that candidate's threshold; a term near 1.0 is robust.
    """

    expression: sp.Expr
    complexity: int
    error: float
    source: str
    aic: float = float("nan")
    bic: float = float("nan")
    inclusion: Mapping[str, float] = field(default_factory=dict)


def complexity(expr: sp.Expr) -> int:
    """Nodes in the expression tree: one measure for sparse and symbolic candidates alike."""
    return sum(1 for _ in sp.preorder_traversal(expr))


def n_constants(expr: sp.Expr) -> int:
    """Fitted numbers in `expr` (every float, repeats counted): its freedom to fit the data."""
    return sum(1 for e in sp.preorder_traversal(expr) if isinstance(e, sp.Float))


def pareto_front(candidates: Sequence[Candidate]) -> list[Candidate]:
    """Candidates not beaten in both complexity and error, ordered by complexity."""
    front: list[Candidate] = []
    for c in sorted(candidates, key=lambda c: (c.complexity, c.error)):
        if not front or c.error < front[-1].error:
            front.append(c)
    return front
