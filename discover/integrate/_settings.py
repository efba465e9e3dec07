"""Torch's thread count and default dtype for the length of one fit or integration."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


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
