"""Many cells at once: the pipeline on every recording, in parallel on a Dask cluster, with a
summary table of discovered terms and metrics across cells."""

from ._cell import CellOutcome, run_cell
from ._run import BatchResult, find_inputs, run_batch
from ._summary import term_frequencies

__all__ = ["BatchResult", "CellOutcome", "find_inputs", "run_batch", "run_cell", "term_frequencies"]
