"""Distil trained residuals into closed-form terms: sparse regression, symbolic search, choice, refit."""

from ._base import Candidate as Candidate, choose as choose, complexity as complexity, pareto_front as pareto_front
from ._combine import (
    DISTILLERS as DISTILLERS,
    ROUTES as ROUTES,
    StateDistillation as StateDistillation,
    check_distill_options as check_distill_options,
    distill_residuals as distill_residuals,
)
from ._direct import (
    derivative_samples as derivative_samples,
    distill_direct as distill_direct,
    estimate_derivatives as estimate_derivatives,
)
from ._joint import choose_jointly as choose_jointly, shooting_fit as shooting_fit
from ._prune import prune_terms as prune_terms
from ._sample import ResidualSamples as ResidualSamples, sample_residuals as sample_residuals
from ._select import (
    refit_coefficients as refit_coefficients,
    resimulation_errors as resimulation_errors,
    round_coefficients as round_coefficients,
)
from ._sparse import SparseDistiller as SparseDistiller
from ._spikes import choose_by_spike_times as choose_by_spike_times
from ._symbolic import SymbolicDistiller as SymbolicDistiller

__all__ = [
    "DISTILLERS", "ROUTES", "Candidate", "ResidualSamples", "SparseDistiller", "StateDistillation", "SymbolicDistiller",
    "check_distill_options", "choose", "choose_by_spike_times", "choose_jointly", "complexity", "derivative_samples", "distill_direct", "distill_residuals",
    "estimate_derivatives", "pareto_front", "prune_terms", "refit_coefficients",
    "resimulation_errors", "round_coefficients", "sample_residuals", "shooting_fit",
]
