"""Choose among the distillers' candidates: score them by re-simulation, apply the choice rule (fewest
constants within a tolerance of the best), choose every state's terms jointly, refit, prune and round
the chosen system, check a spiking model's spike times, and choose between the routes."""

from ._joint import (
    choose_jointly as choose_jointly,
    choose_routes_jointly as choose_routes_jointly,
    shooting_fit as shooting_fit,
)
from ._prune import prune_terms as prune_terms
from ._record import StateDistillation as StateDistillation, nondominated as nondominated
from ._refit import refit_coefficients as refit_coefficients, round_coefficients as round_coefficients
from ._routes import choose_route as choose_route
from ._rule import choice_rule as choice_rule, choose_candidate as choose_candidate
from ._score import (
    as_refit as as_refit,
    checked_error as checked_error,
    checks as checks,
    resimulation_errors as resimulation_errors,
    score_candidates as score_candidates,
    to_score as to_score,
)
from ._spikes import choose_by_spike_times as choose_by_spike_times

__all__ = [
    # for users (docs/reference/api.md), and the type each state's choice is recorded in
    "StateDistillation", "choose_jointly", "refit_coefficients", "shooting_fit",
    # for the other stages: the steps after the routes (discover._pipeline), the report's Pareto fronts
    # (discover.report), and the choice of each state's candidate by re-simulation that the routes of
    # discover.distill end with
    "as_refit", "checked_error", "checks", "choice_rule", "choose_by_spike_times", "choose_candidate",
    "choose_route", "choose_routes_jointly", "nondominated", "prune_terms", "resimulation_errors",
    "round_coefficients", "score_candidates", "to_score",
]
