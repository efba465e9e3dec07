"""Distil trained residuals into closed-form terms: sparse regression, symbolic search, choice, refit."""

from ._base import Candidate as Candidate, complexity as complexity, n_constants as n_constants
from ._combine import (
    StateDistillation as StateDistillation,
    check_distill_options as check_distill_options,
    choice_rule as choice_rule,
    chosen_index as chosen_index,
    distill_residuals as distill_residuals,
    nondominated as nondominated,
)
from ._direct import derivative_samples as derivative_samples, distill_direct as distill_direct
from ._joint import (
    choose_jointly as choose_jointly,
    choose_routes_jointly as choose_routes_jointly,
    shooting_fit as shooting_fit,
)
from ._prune import prune_terms as prune_terms
from ._sample import ResidualSamples as ResidualSamples, sample_residuals as sample_residuals
from ._select import refit_coefficients as refit_coefficients, round_coefficients as round_coefficients
from ._sparse import SparseDistiller as SparseDistiller
from ._spikes import choose_by_spike_times as choose_by_spike_times
from ._symbolic import SymbolicDistiller as SymbolicDistiller

__all__ = [
    # for users (docs/reference/api.md), and the types their calls return
    "Candidate", "ResidualSamples", "SparseDistiller", "StateDistillation", "SymbolicDistiller", "choose_jointly",
    "distill_direct", "distill_residuals", "refit_coefficients", "sample_residuals", "shooting_fit",
    # for the other stages: the config check (discover._config), the choice of route and the clean-up steps
    # (discover._pipeline, discover._routes), the report's Pareto fronts and residual traces (discover.report)
    "check_distill_options", "choice_rule", "choose_by_spike_times", "choose_routes_jointly", "chosen_index",
    "complexity", "derivative_samples", "n_constants", "nondominated", "prune_terms", "round_coefficients",
]
