"""Many cells at once: the pipeline on every recording, in parallel on a Dask cluster, with a
summary table of discovered terms and metrics across cells."""

from ._run import BatchResult as BatchResult, run_batch as run_batch

__all__ = ["BatchResult", "run_batch"]
