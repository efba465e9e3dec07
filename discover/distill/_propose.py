"""Propose candidates: every chosen backend fitted to one residual's samples."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._candidate import Candidate
from .._progress import QUIET, Progress
from ._sample import ResidualSamples
from ._sparse import SparseDistiller
from ._symbolic import SymbolicDistiller

if TYPE_CHECKING:  # _options imports DISTILLERS from here
    from ._options import DistillOptions

DISTILLERS = {"sparse": SparseDistiller, "symbolic": SymbolicDistiller}


def propose(samples: ResidualSamples, options: DistillOptions, progress: Progress = QUIET) -> list[Candidate]:
    """Every candidate of every backend in `options` for one residual's samples."""
    candidates: list[Candidate] = []
    for backend in options.backends:
        kwargs = {"seed": options.seed, **getattr(options, backend)}  # a backend's table: `sparse` or `symbolic`
        with progress.stage(f"d{samples.state}/dt: {backend} regression on {samples.y.size} residual samples"):
            candidates += DISTILLERS[backend](**kwargs).fit(samples.X, samples.y, samples.features).candidates_
    return candidates


__all__ = ["DISTILLERS", "propose"]
