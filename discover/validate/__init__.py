"""Validation by re-simulation on held-out data."""

from ._metrics import (
    coincidence_factor as coincidence_factor,
    gamma_from_counts as gamma_from_counts,
    matched_spikes as matched_spikes,
    ms_per_unit as ms_per_unit,
    spike_metrics as spike_metrics,
    spike_thresholds as spike_thresholds,
    spike_times as spike_times,
    sweep_gamma as sweep_gamma,
    trajectory_metrics as trajectory_metrics,
)
from ._repeats import (
    RepeatScore as RepeatScore,
    md_star as md_star,
    repeats_of_one_stimulus as repeats_of_one_stimulus,
    score_repeats as score_repeats,
)
from ._resimulate import resimulate as resimulate
from ._spiking import (
    integrate_spiking as integrate_spiking,
    resimulate_spiking as resimulate_spiking,
    resimulate_spiking_together as resimulate_spiking_together,
    rule_spike_metrics as rule_spike_metrics,
    spike_signal as spike_signal,
    spike_trains as spike_trains,
    torch_rhs as torch_rhs,
)

__all__ = [
    "RepeatScore", "coincidence_factor", "gamma_from_counts", "integrate_spiking", "matched_spikes", "md_star",
    "ms_per_unit", "repeats_of_one_stimulus", "resimulate", "resimulate_spiking", "resimulate_spiking_together",
    "rule_spike_metrics",
    "score_repeats", "spike_metrics", "spike_signal", "spike_thresholds", "spike_times", "spike_trains",
    "sweep_gamma", "torch_rhs", "trajectory_metrics",
]
