"""Exports of a discovered `EquationSystem` that run in real simulators.

    export(system, "brian2", "out/")          # or "neuron", "python"; returns the files written
    export_results("results/demo", ["all"])   # what `discover export RESULTS_DIR --to all` does
"""

from ._api import (
    TARGETS as TARGETS,
    export as export,
    export_results as export_results,
    supported_targets as supported_targets,
)

__all__ = ["TARGETS", "export", "export_results", "supported_targets"]
