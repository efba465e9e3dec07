"""Distil trained residuals into closed-form terms."""

from ._base import Candidate as Candidate, choose as choose, pareto_front as pareto_front
from ._sample import ResidualSamples as ResidualSamples, sample_residuals as sample_residuals
from ._sparse import SparseDistiller as SparseDistiller

__all__ = ["Candidate", "ResidualSamples", "SparseDistiller", "choose", "pareto_front", "sample_residuals"]
