"""The UDE route: sample each trained residual, propose candidates with every chosen backend, and
choose among them (`discover.choose`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._candidate import pareto_front
from .._progress import Progress, as_progress
from ..choose import StateDistillation, as_refit, choice_rule, choose_candidate, resimulation_errors, to_score
from ..data import Trajectories
from ..integrate import one_blas_thread
from ..ude import UDE
from ._options import DistillOptions
from ._propose import propose
from ._sample import sample_residuals


@one_blas_thread()  # called alone too: numpy's small solves beside torch (`one_blas_thread`)
def distill_residuals(
    ude: UDE, data: Trajectories, options: Mapping[str, Any] | DistillOptions, selection: Trajectories | None = None,
    progress: bool | Progress = False,
) -> dict[str, StateDistillation]:
    """Distil every residual of a fitted UDE (`options`: a `DistillOptions`, or a mapping of its fields).

    Residuals are sampled at `data`; candidates are chosen by re-simulating windows of
    `selection` (data the network was not trained on; `data` itself when None).
    """
    options = DistillOptions.from_mapping(options)  # checked where it was made if already one
    seed = options.seed
    tolerance, floor = choice_rule(options)
    out = {}
    progress = as_progress(progress)
    for samples in sample_residuals(ude, data, seed=seed):
        candidates = propose(samples, options, progress)
        if options.choose_by == "resimulation":
            scored = to_score(candidates)
            chosen_on = selection if selection is not None else data
            length = min(2 * ude.window, chosen_on.t.size - 1)
            with progress.stage(f"d{samples.state}/dt: scoring {len(scored)} candidates by window re-simulation"):
                scores, refit = resimulation_errors(
                    ude, samples.state, scored, chosen_on, length=length, seed=seed,
                    refit_on=data if options.refit else None, refit_top=options.refit_candidates,
                )
            # the best few scored candidates are judged, and kept, with their numbers refit through the solver
            scored = as_refit(scored, refit)
            how = "held-out window re-simulation error" if selection is not None else "window re-simulation error"
            pool = "the residual-error Pareto front and the sparse candidates off it"
        else:
            scored = pareto_front(candidates)
            scores = [c.error for c in scored]
            how, pool = "held-out residual error", "the residual-error Pareto front"
        out[samples.state] = choose_candidate(samples.state, candidates, scored, scores, how, pool, tolerance, floor)
    return out


__all__ = ["distill_residuals"]
