"""Distil trained residuals, or the data's derivatives, into candidate closed forms: residual sampling,
sparse regression, symbolic search, and the two routes that end in `discover.choose`'s choice; and the
closed forms of a gate whose kinetics `discover.ude.GateKinetics` learned (`distill_gate`)."""

from ._base import Candidate as Candidate
from ._direct import derivative_samples as derivative_samples, distill_direct as distill_direct
from ._kinetics import GateForm as GateForm
from ._kinetics_fit import GateDistillation as GateDistillation, distill_gate as distill_gate
from ._options import DistillOptions as DistillOptions, check_distill_options as check_distill_options
from ._residuals import distill_residuals as distill_residuals
from ._sample import ResidualSamples as ResidualSamples, sample_residuals as sample_residuals
from ._sparse import SparseDistiller as SparseDistiller
from ._symbolic import SymbolicDistiller as SymbolicDistiller

__all__ = [
    # for users (docs/reference/api.md), and the types their calls return
    "Candidate", "DistillOptions", "GateDistillation", "GateForm", "ResidualSamples", "SparseDistiller",
    "SymbolicDistiller", "distill_direct", "distill_gate", "distill_residuals", "sample_residuals",
    # for the other stages: the config check (discover._config, discover._pipeline), the report's residual
    # traces (discover.report)
    "check_distill_options", "derivative_samples",
]
