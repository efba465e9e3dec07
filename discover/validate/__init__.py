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
from ._spiking import (
    integrate_spiking as integrate_spiking,
    resimulate_spiking as resimulate_spiking,
    torch_rhs as torch_rhs,
)

__all__ = [
    "coincidence_factor", "forecast_horizon", "integrate_spiking", "resimulate", "resimulate_spiking",
    "rhythm_errors", "spike_thresholds", "spike_times", "torch_rhs", "trajectory_metrics",
]
