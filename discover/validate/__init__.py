"""Validation by re-simulation on held-out data."""

from ._metrics import (
    coincidence_factor as coincidence_factor,
    forecast_horizon as forecast_horizon,
    rhythm_errors as rhythm_errors,
    spike_thresholds as spike_thresholds,
    spike_times as spike_times,
    trajectory_metrics as trajectory_metrics,
)
from ._repeats import (
    RepeatScore as RepeatScore,
    intrinsic_reliability as intrinsic_reliability,
    md_star as md_star,
    repeats_of_one_stimulus as repeats_of_one_stimulus,
    score_repeats as score_repeats,
)
from ._resimulate import resimulate as resimulate
from ._spiking import (
    EscapeNoise as EscapeNoise,
    integrate_spiking as integrate_spiking,
    resimulate_spiking as resimulate_spiking,
    rule_spike_metrics as rule_spike_metrics,
    spike_signal as spike_signal,
    spike_trains as spike_trains,
    torch_rhs as torch_rhs,
)

__all__ = [
    "EscapeNoise", "RepeatScore", "coincidence_factor", "forecast_horizon", "integrate_spiking", "intrinsic_reliability", "md_star",
    "repeats_of_one_stimulus", "resimulate", "resimulate_spiking", "rhythm_errors", "rule_spike_metrics", "score_repeats",
    "spike_signal", "spike_thresholds", "spike_trains", "spike_times", "torch_rhs", "trajectory_metrics",
]
