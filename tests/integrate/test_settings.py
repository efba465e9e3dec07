"""Thread settings around a fit: numpy's BLAS on one thread beside torch, restored after."""

import numpy as np
from threadpoolctl import threadpool_info

from discover.integrate import one_blas_thread


def _blas_threads() -> list[int]:
    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


def test_one_blas_thread_inside_and_the_callers_setting_after():
    np.linalg.lstsq(np.eye(3), np.ones(3), rcond=None)  # BLAS loaded
    before = _blas_threads()
    assert before
    with one_blas_thread():
        assert set(_blas_threads()) == {1}
    assert _blas_threads() == before
