"""Validation by re-simulation on held-out data."""

from ._metrics import trajectory_metrics as trajectory_metrics
from ._resimulate import resimulate as resimulate

__all__ = ["resimulate", "trajectory_metrics"]
