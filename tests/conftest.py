"""Shared fixtures and the hypothesis profiles. Shared helpers (data, systems, the golden results folder) live in
tests/helpers.py."""

import os

import pytest
import torch
from hypothesis import settings
from threadpoolctl import threadpool_limits

from tests.helpers import run_small_fhn_discovery

# Property tests: a quick pass by default (every run of `pytest`), many examples in the thorough tier that
# .ci/run runs (HYPOTHESIS_PROFILE=thorough). Counts are per test; the UDE-settings test runs half as many.
settings.register_profile("default", max_examples=30)
settings.register_profile("thorough", max_examples=200)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# The suite runs on every core (pytest-xdist, `-n auto` in pyproject.toml): one worker per core, so each
# worker gets one torch and one BLAS thread. A second thread on a core another worker is using slows the
# small solves here 3-10x (FACTS: one thread per job, several jobs in parallel).
if os.environ.get("PYTEST_XDIST_WORKER"):
    torch.set_num_threads(1)
    _ONE_THREAD = threadpool_limits(limits=1)


@pytest.fixture(scope="session")
def small_fhn_discovery():
    """One small FitzHugh–Nagumo discovery (~30 s), for the slow tier's whole-pipeline tests; the fast tier
    reads its results folder, committed under tests/golden/fhn/, instead."""
    return run_small_fhn_discovery()
