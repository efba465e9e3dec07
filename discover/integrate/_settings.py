"""Torch's thread count and default dtype for the length of one fit or integration; numpy's BLAS
threads beside torch's."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from threadpoolctl import threadpool_limits


@contextmanager
def torch_settings(threads: int, dtype: torch.dtype) -> Iterator[None]:
    """Run the body with `threads` torch threads and `dtype` as torch's default dtype, restoring both
    after (torch keeps them process-wide, and a caller's own settings must survive a fit)."""
    old_threads, old_dtype = torch.get_num_threads(), torch.get_default_dtype()
    torch.set_num_threads(threads)
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_num_threads(old_threads)
        torch.set_default_dtype(old_dtype)


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the body with numpy's and scipy's BLAS on one thread. Beside torch, whose OpenMP workers
    spin-wait after every operation for the next, a second BLAS thread waits for a core: on 2 cores
    a 2000x10 least squares took 12 ms instead of 0.25 ms, and the demo's sparse regression (a
    hundred of them between torch calls) 2.0 s instead of 0.4 s. The small solves of a distillation
    gain nothing from a second thread; the cell workflow, torch-free, keeps its threads."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield
