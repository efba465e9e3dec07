"""Route choice: which discovered model (UDE route or direct route) is kept, and why."""

import numpy as np
import pytest
import sympy as sp

from discover import ConfigError, EquationSystem, discover, simulate
from discover.choose import choose_route

LV = ("dx/dt = 1.3*x - 0.9*x*y", "dy/dt = 0.8*x*y - 1.8*y")
x, y = sp.symbols("x y", real=True)


def no_prior() -> EquationSystem:
    unknown = EquationSystem.from_text(["dx/dt = 0", "dy/dt = 0"])
    return unknown.with_residual("x", ["x", "y"]).with_residual("y", ["x", "y"])


@pytest.fixture(scope="module")
def lv():
    t = np.linspace(0, 10, 150)
    system = EquationSystem.from_text(LV)
    return simulate(system, [[0.44, 4.6]], t), simulate(system, [[2.0, 1.0]], t)


def _with(dx, dy):
    return no_prior().replace_residuals({"x": dx, "y": dy}, how="test")


def test_a_model_that_drifts_loses_even_if_it_follows_the_short_tail(lv):
    train, _ = lv
    head, tail = train.split_time(0.2)
    right = _with(1.3 * x - 0.9 * x * y, 0.8 * x * y - 1.8 * y)
    drifting = _with(1.3 * x - 0.9 * x * y + 0.05 * x**2, 0.8 * x * y - 1.8 * y)
    record = choose_route({"ude": drifting, "direct": right},
                          {"the held-out ends": tail, "the whole training trajectories": train}, 1.5, 1e-4)
    assert record["chosen"] == "direct"
    assert set(record["routes"]["ude"]["scores"]) == {"the held-out ends", "the whole training trajectories"}
    assert record["routes"]["ude"]["score"] > 1.5 * record["routes"]["direct"]["score"]
    assert "route auto: the direct route was chosen" in record["why"]


def test_at_equal_error_the_simpler_route_wins(lv):
    train, _ = lv
    right = _with(1.3 * x - 0.9 * x * y, 0.8 * x * y - 1.8 * y)
    padded = _with(1.3 * x - 0.9 * x * y + 1e-9 * x**3, 0.8 * x * y - 1.8 * y)
    for names in (("ude", "direct"), ("direct", "ude")):  # whichever route found it
        record = choose_route(dict(zip(names, (right, padded), strict=True)), {"whole": train}, 1.5, 1e-4)
        assert record["chosen"] == names[0]
        assert record["routes"][names[0]]["complexity"] < record["routes"][names[1]]["complexity"]


@pytest.mark.slow  # a whole run with both routes and the joint choice: ~2 minutes (119 s alone at 6dc165e)
def test_auto_runs_both_routes_and_reports_both(lv):
    """A deliberately short UDE training: the route choice must see that its model is the worse
    one and keep the direct route's, while the UDE route's model is still re-simulated for comparison."""
    train, unseen = lv
    result = discover(train, no_prior(), unseen, progress=False,
                      training={"iterations": 30, "prefit_iterations": 50, "lbfgs_iterations": 0},
                      distill={"backends": ["sparse"]})
    assert set(result.routes["routes"]) == {"ude", "direct"} and result.ude is not None
    assert result.routes["chosen"] == "direct"
    assert set(result.discovered.discovered["x"].as_coefficients_dict()) == {x, x * y}
    assert "UDE route, not chosen" in result.predictions and "UDE" in result.predictions
    assert any(n.startswith("route auto: the direct route was chosen") for n in result.notes)


def test_unknown_route_is_refused_with_a_suggestion(lv):
    train, unseen = lv
    with pytest.raises(ConfigError, match="Did you mean `direct`"):
        discover(train, no_prior(), unseen, distill={"route": "drect"}, progress=False)


def test_spiking_model_cannot_take_the_direct_route():
    import dataclasses

    from discover.equations import SpikeRule

    lif = EquationSystem.from_text(["dV/dt = (-70 - V + I)/10"], inputs=["I"])
    data = simulate(lif, [[-65.0]], np.arange(0, 20.0, 0.1), {"I": 30.0})
    system = dataclasses.replace(lif, spike=SpikeRule("V", threshold=-50.0, reset=-70.0)).with_residual("V", ["V"])
    with pytest.raises(ConfigError, match="route = \"ude\""):
        discover(data, system, data, distill={"route": "direct"}, progress=False)
