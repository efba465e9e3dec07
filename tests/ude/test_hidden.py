"""Hidden states: FitzHugh–Nagumo recorded through v alone, its recovery variable w left to the known
dw/dt = (v + a - b w)/tau from a start learned per trajectory. The whole pipeline on it:
tests/test_examples.py (examples/voltage_only.toml)."""

import dataclasses

import numpy as np
import pytest

from discover import (
    UDE,
    ConfigError,
    DataError,
    EquationSystem,
    FitError,
    Trajectories,
    discover,
    example_data,
)
from discover.equations import SpikeRule
from discover.ude._hidden import drive_hidden, resting_hidden
from tests.helpers import FHN_KNOWN, FHN_PARAMETERS, assert_same_fit, resume_after_interrupt

A, B = FHN_PARAMETERS["a"], FHN_PARAMETERS["b"]


def voltage_only(data: Trajectories) -> Trajectories:
    return Trajectories(data.t, data.y[..., :1], data.u, ("v",), data.inputs)


def known(features=("v",)) -> EquationSystem:
    return EquationSystem.from_text(FHN_KNOWN, inputs=["I"], parameters=FHN_PARAMETERS).with_residual("v", features)


@pytest.fixture(scope="module")
def fhn():
    return example_data("fitzhugh_nagumo", n_train=5, n_heldout=2, duration=60.0, noise=0.01, seed=0)


@pytest.fixture(scope="module")
def fitted(fhn):
    return UDE(known(), iterations=300, progress=False).fit(voltage_only(fhn[0]))


def test_the_known_equation_driven_by_the_recorded_state_gives_the_hidden_trajectory():
    clean = example_data("fitzhugh_nagumo", n_train=2, n_heldout=1, duration=30.0, noise=0.0)[0]
    system = known()
    full = drive_hidden(system, voltage_only(clean), ("w",), initial=clean.y[:, :1, 1])
    assert full.states == ("v", "w")
    assert np.abs(full.y[..., 1] - clean.y[..., 1]).max() < 2e-3  # RK4 on linearly interpolated v
    at_rest = resting_hidden(system, voltage_only(clean), ("w",))
    assert at_rest[:, 0] == pytest.approx((clean.y[:, 0, 0] + A) / B)  # dw/dt = 0 at the first v


@pytest.mark.slow  # trains a UDE for 300 steps on five trajectories: ~10 s on 2 cores
def test_training_learns_where_the_hidden_state_starts_and_the_missing_term(fhn, fitted):
    train, heldout = fhn
    assert fitted.hidden_ == ("w",)
    # the driven trace starts at rest, ~0.5 off on average; the learned starts put w on the truth
    assert np.abs(fitted.completed_.y[..., 1] - train.y[..., 1]).mean() < 0.02
    v = np.linspace(-2.0, 2.0, 9)[:, None]
    assert fitted.residual("v", v) == pytest.approx(v[:, 0] - v[:, 0] ** 3 / 3, abs=0.05)
    completed = fitted.complete(voltage_only(heldout))  # from the first two windows of v alone
    assert completed.y[:, 0, 1] == pytest.approx(heldout.y[:, 0, 1], abs=0.05)
    predicted = fitted.simulate(voltage_only(heldout))
    assert predicted.shape == heldout.y.shape
    assert 1 - np.mean((predicted[..., 0] - heldout.y[..., 0]) ** 2) / np.var(heldout.y[..., 0]) > 0.99


@pytest.mark.slow  # three fits of 120 steps with the hidden trace re-driven: ~10 s on 2 cores
def test_interrupted_training_with_a_hidden_state_resumes_to_the_same_result(fhn, tmp_path, monkeypatch):
    data, small = voltage_only(fhn[0].select([0, 1])), {"iterations": 120, "lbfgs_iterations": 0, "progress": False}
    whole = UDE(known(), **small).fit(data)
    checkpoint = tmp_path / "ude.pt"
    resumed = resume_after_interrupt(  # interrupted after the hidden trace was re-driven at step 100
        lambda resume: UDE(known(), checkpoint=str(checkpoint), checkpoint_every=110, resume=resume, **small),
        data, 115, monkeypatch)
    assert_same_fit(whole, resumed, resumed_at=110)
    assert resumed.completed_.y == pytest.approx(whole.completed_.y, abs=1e-6)


def test_a_hidden_state_needs_known_dynamics_and_recorded_states_in_order(fhn):
    train = fhn[0]
    with pytest.raises(FitError, match="'w' is not in the data .hidden. but has a residual"):
        UDE(known().with_residual("w"), progress=False).fit(voltage_only(train))
    swapped = Trajectories(train.t, train.y[..., ::-1], train.u, ("w", "v"), train.inputs)
    with pytest.raises(DataError, match="in that order"):
        UDE(known(), progress=False).fit(swapped)
    stray = Trajectories(train.t, train.y, train.u, ("v", "x"), train.inputs)
    with pytest.raises(DataError, match=r"\['x'\] are not states of the system"):
        UDE(known(), progress=False).fit(stray)


def test_discover_refuses_what_a_hidden_state_cannot_do(fhn):
    train, heldout = fhn
    with pytest.raises(ConfigError, match="route \"direct\" needs every state's derivative"):
        discover(voltage_only(train), known(), voltage_only(heldout), distill={"route": "direct"}, progress=False)
    with pytest.raises(DataError, match="record the same states in both"):
        discover(voltage_only(train), known(), heldout, progress=False)
    spiking = dataclasses.replace(known(), spike=SpikeRule("v", threshold=1.5, reset=-1.0))
    with pytest.raises(ConfigError, match=r"hidden states \['w'\] with a spike rule are not supported"):
        discover(voltage_only(train), spiking, voltage_only(heldout), progress=False)
