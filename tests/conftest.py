"""Shared fixtures: one small FitzHugh–Nagumo discovery, reused by pipeline, report and CLI tests."""

import os

import pytest
from hypothesis import settings

from discover import EquationSystem, discover, example_data

# Property tests: a quick pass by default (every run of `pytest`), many examples in the thorough tier that
# .ci/run runs (HYPOTHESIS_PROFILE=thorough). Counts are per test; the UDE-settings test runs half as many.
settings.register_profile("default", max_examples=30)
settings.register_profile("thorough", max_examples=200)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

FHN_KNOWN = ["dv/dt = -w + I", "dw/dt = (v + a - b*w)/tau"]
FHN_PARAMETERS = {"a": 0.7, "b": 0.8, "tau": 12.5}
# Scaled down from the demo (5 trajectories on [0, 100], 600 iterations) to keep the suite fast.
SMALL_TRAINING = {"iterations": 100, "lbfgs_iterations": 10, "seed": 0}
SMALL_DISTILL = {"symbolic": {"max_evaluations": 30000}}


def fhn_known() -> EquationSystem:
    return EquationSystem.from_text(FHN_KNOWN, inputs=["I"], parameters=FHN_PARAMETERS).with_residual("v", ["v", "w"])


@pytest.fixture(scope="session")
def small_fhn_discovery():
    train, heldout = example_data("fitzhugh_nagumo", n_train=3, n_heldout=2, duration=60.0, noise=0.01, seed=0)
    return discover(train, fhn_known(), heldout, training=SMALL_TRAINING, distill=SMALL_DISTILL, progress=False)
