"""Validation by re-simulation on held-out data."""

from ._metrics import (
    coincidence_factor as coincidence_factor,
    forecast_horizon as forecast_horizon,
    rhythm_errors as rhythm_errors,
    spike_thresholds as spike_thresholds,
    spike_times as spike_times,
    trajectory_metrics as trajectory_metrics,
)
from ._resimulate import resimulate as resimulate

__all__ = [
    "coincidence_factor", "forecast_horizon", "resimulate", "rhythm_errors", "spike_thresholds", "spike_times",
    "trajectory_metrics",
]
