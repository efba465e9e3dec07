"""`discover` without held-out data: it holds out part of the training data itself and says so."""

import numpy as np
import pytest
import sympy as sp

from discover import DataError, EquationSystem, discover, simulate
from discover._prepare import hold_out

LV = ("dx/dt = 1.3*x - 0.9*x*y", "dy/dt = 0.8*x*y - 1.8*y")
DIRECT = {"route": "direct", "backends": ["sparse"], "joint": False}


def no_prior() -> EquationSystem:
    unknown = EquationSystem.from_text(["dx/dt = 0", "dy/dt = 0"])
    return unknown.with_residual("x", ["x", "y"]).with_residual("y", ["x", "y"])


@pytest.mark.slow  # about 20 s: a whole discovery (direct route)
def test_one_trajectory_is_split_in_time_and_lotka_volterra_still_comes_out():
    """One trajectory: its last quarter is held out and re-simulated from where it starts; the
    discovered equations are Lotka-Volterra's, each coefficient within 5 %."""
    data = simulate(EquationSystem.from_text(LV), [[0.44, 4.6]], np.linspace(0, 10, 200))
    result = discover(data, no_prior(), distill=DIRECT, progress=False)
    assert result.train.t.size == 150 and result.heldout.t.size == 50
    assert result.heldout.t[0] == pytest.approx(result.train.t[-1] + data.dt)
    assert any("last 50 of the training trajectory's 200 samples" in note for note in result.notes)
    x, y = sp.symbols("x y", real=True)
    truth = {"x": {x: 1.3, x * y: -0.9}, "y": {x * y: 0.8, y: -1.8}}
    for state, terms in truth.items():
        found = sp.expand(result.discovered.discovered[state]).as_coefficients_dict()
        assert set(found) == set(terms), result.discovered.discovered
        for term, value in terms.items():
            assert float(found[term]) == pytest.approx(value, rel=0.05)
    assert result.metrics["discovered"]["x"]["r2"] > 0.99


def test_several_trajectories_hold_out_the_last_one():
    t = np.linspace(0, 10, 120)
    data = simulate(EquationSystem.from_text(LV), [[0.44, 4.6], [2.0, 1.0], [1.0, 2.0]], t)
    train, heldout, note = hold_out(data, None)
    assert train.n_trajectories == 2 and heldout.n_trajectories == 1
    np.testing.assert_array_equal(heldout.y[0], data.y[2])
    np.testing.assert_array_equal(train.y, data.y[:2])
    assert "training trajectory 2 (the last) held out" in note


def test_one_trajectory_holds_out_its_last_quarter_and_given_heldout_is_kept():
    data = simulate(EquationSystem.from_text(LV), [[0.44, 4.6]], np.linspace(0, 10, 200))
    train, heldout, note = hold_out(data, None)
    assert (train.t.size, heldout.t.size) == (150, 50)
    np.testing.assert_array_equal(np.concatenate([train.y, heldout.y], axis=1), data.y)
    assert "last 50 of the training trajectory's 200 samples" in note
    assert hold_out(train, heldout) == (train, heldout, "")


def test_a_trajectory_too_short_to_split_names_heldout_and_the_fix():
    data = simulate(EquationSystem.from_text(LV), [[0.44, 4.6]], np.linspace(0, 1, 20))
    with pytest.raises(DataError, match="`heldout` not given.*pass `heldout`"):
        discover(data, no_prior(), distill=DIRECT, progress=False)
