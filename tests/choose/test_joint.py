"""Choosing every state's terms together, each combination fitted with its initial states."""

import numpy as np
import pytest
import sympy as sp

from discover import Trajectories, simulate
from discover.choose import StateDistillation, _joint
from discover.choose._joint import candidate_pools, choose_jointly, shooting_fit, structure
from discover.distill import Candidate
from discover.models import lotka_volterra

X, Y = sp.symbols("x y", real=True)
F = sp.Float


def _rackauckas(noise: float, seed: int):
    """The Lotka-Volterra case of Rackauckas et al. (2020): 31 samples, known alpha*x and -delta*y."""
    full = lotka_volterra()
    known = full.without_terms("x", ["-beta*x*y"]).without_terms("y", ["gamma*x*y"])
    known = known.with_residual("x", ["x", "y"]).with_residual("y", ["x", "y"])
    t = np.linspace(0, 3, 31)
    clean = simulate(full, [(0.44249296, 4.6280594)], t)
    rng = np.random.default_rng(seed)
    noisy = clean.y + rng.normal(size=clean.y.shape) * noise * clean.y.mean(axis=(0, 1))
    return known, Trajectories(t, noisy, None, full.states)


def _terms(expr):
    return set(sp.expand(expr).as_coefficients_dict())


def test_shooting_fit_recovers_coefficients_from_far_starting_numbers():
    known, data = _rackauckas(0.01, 0)
    fitted, error = shooting_fit(known.replace_residuals({"x": F(-0.5) * X * Y, "y": F(0.4) * X * Y}, how="test"),
                                 data, piece=50)
    coefs = {s: sp.expand(e).as_coefficients_dict()[X * Y] for s, e in fitted.discovered.items()}
    assert float(coefs["x"]) == pytest.approx(-0.9, rel=0.03)
    assert float(coefs["y"]) == pytest.approx(0.8, rel=0.05)
    assert error < 1e-3  # 1 % noise: the fitted stretch is as close as the noise allows


@pytest.mark.parametrize("limit", [48, 2])  # every combination, and one state at a time
def test_joint_choice_picks_x_y_over_its_look_alike(monkeypatch, limit):
    """At 5 % noise (seed 2) 0.2*y follows the predator's growth along this trajectory almost as
    well as 0.8*x*y; chosen one state at a time it won. Fitted jointly, x*y wins, with no spurious
    constant, and the numbers come back near beta = 0.9 and gamma = 0.8."""
    monkeypatch.setattr(_joint, "MAX_COMBINATIONS", limit)
    known, data = _rackauckas(0.05, 2)
    pools = {"x": [F(-0.94) * X * Y, F(-0.3) * Y, F(-0.9) * X * Y + F(0.01)],
             "y": [F(0.24) * Y, F(0.72) * X * Y, F(0.07) * Y**2, F(0.74) * X * Y + F(-0.1) * X**3]}
    joint = choose_jointly(known, pools, data, piece=50)
    found = joint.system.discovered
    assert _terms(found["x"]) == {X * Y} and _terms(found["y"]) == {X * Y}, found
    assert float(sp.expand(found["x"]).coeff(X * Y)) == pytest.approx(-0.9, rel=0.1)
    assert float(sp.expand(found["y"]).coeff(X * Y)) == pytest.approx(0.8, rel=0.15)
    assert "chosen jointly" in joint.why and joint.system.provenance[-1].startswith("discovered terms chosen jointly")
    assert len(joint.tried) == 12 if limit == 48 else len(joint.tried) < 12  # all 3 x 4, or a path through them


def test_pools_keep_the_simple_candidates_however_they_scored_and_one_per_structure():
    def candidate(expr):
        return Candidate(expr, 1, 0.0, "test")

    front = [candidate(e) for e in (F(0.2) * Y, F(0.7) * X * Y, F(0.1) * Y + F(0.3) * X**3 + F(0.01),
                                    F(-1.1) * X**2 * Y + F(0.3) * Y**2, F(0.5) * Y**3 + F(0.2) * X)]
    scores = (1.0, 9.0, 0.5, 0.6, 0.7)  # x*y scored worst of all, alone
    ude = {"y": StateDistillation("y", tuple(front), tuple(front), scores, front[2], "test")}
    other = [candidate(F(0.69) * X * Y), candidate(F(0.3) * X)]
    direct = {"y": StateDistillation("y", tuple(other), tuple(other), (0.1, 0.2), other[0], "test")}
    pools = candidate_pools([ude, direct], top=1, fewest=1, up_to=1)["y"]
    assert pools[0] == front[2].expression  # the first route's choice first: where the search starts
    assert F(0.7) * X * Y not in pools or F(0.69) * X * Y not in pools  # one x*y, not two
    assert {structure(e) for e in pools} == {structure(front[2].expression), "c*y", "c*x*y"}


def test_only_contenders_are_fitted_in_full():
    """Every combination gets the screening steps; those then far from the choice's threshold
    (here -0.3*y for the prey, some 50x the error of x*y) are not fitted further."""
    known, data = _rackauckas(0.01, 0)
    pools = {"x": [F(-0.9) * X * Y, F(-0.3) * Y], "y": [F(0.8) * X * Y]}
    joint = choose_jointly(known, pools, data, piece=50)
    steps = {terms["x"]: (error, iterations) for terms, error, _, iterations in joint.tried}
    assert steps["-0.3*y"][1] == _joint.SCREEN_ITERATIONS and steps["-0.9*x*y"][1] == 30
    assert steps["-0.3*y"][0] > 20 * steps["-0.9*x*y"][0]


def test_when_every_combination_blows_up_the_routes_choice_is_kept():
    known, data = _rackauckas(0.01, 0)
    pools = {"x": [F(5.0) * X**3, F(4.0) * X**3 * Y], "y": [F(5.0) * Y**3]}
    joint = choose_jointly(known, pools, data, piece=50)
    assert joint.system.discovered == {"x": F(5.0) * X**3, "y": F(5.0) * Y**3}
    assert "kept the route's choice" in joint.why and all(e == float("inf") for _, e, _, _ in joint.tried)


def test_a_settled_choice_fits_only_the_simplest_contender_in_full():
    """The contender with the fewest constants, alone with that many and already within the lowest
    threshold any fit can bring, is the choice whatever the others reach: only it is fitted on."""
    constants = {"a": 2, "b": 4, "c": 7, "d": 2}.get
    errors = {"a": 1.2e-4, "b": 1.1e-4, "c": 1.0e-4, "d": 3e-4}.get
    assert _joint._unsettled(["a", "b", "c"], errors, constants, 1.5e-4) == ["a"]
    assert _joint._unsettled(["a", "b", "c"], errors, constants, 1.0e-4) == ["a", "b", "c"]  # not yet within
    assert _joint._unsettled(["a", "b", "d"], errors, constants, 1.5e-4) == ["a", "b", "d"]  # a tie to settle
