"""A moving spike threshold (GIF, Pozzorini et al. 2015): threshold + sum(b_j * theta_j) on SpikeRule."""

import dataclasses
import json

import numpy as np
import pytest
import torch

from discover import EquationError, EquationSystem
from discover.equations import Parameter, SpikeRule, TorchRHS
from discover.report._latex import equations_latex
from discover.report._text import equations_text
from tests.equations.tree_walk import tree_walk_rhs

RULE = SpikeRule("V", threshold=-50.0, reset=-60.0, refractory=2.0, add=(("w", 20.0), ("theta", 1.0)),
                 moving=(("theta", 8.0),))


def gif(rule=RULE):
    """A leaky membrane with one adaptation current w (subthreshold and spike-triggered) and one
    threshold trace theta."""
    return EquationSystem.from_text(
        ["dV/dt = (-gL*(V - EL) - w + I)/C", "dw/dt = (a*(V - EL) - w)/tau_w", "dtheta/dt = -theta/tau_t"],
        inputs=["I"], parameters=[Parameter("C", 100.0, "pF"), Parameter("gL", 5.0, "nS"), Parameter("EL", -65.0, "mV"),
                                  Parameter("a", 2.0, "nS"), Parameter("tau_w", 100.0, "ms"),
                                  Parameter("tau_t", 30.0, "ms")],
        units={"V": "mV", "w": "pA", "I": "pA"}, time_unit="ms", name="gif", spike=rule)


@pytest.mark.parametrize(("moving", "message"), [
    ((("V", 8.0),), r"`moving` names 'V', the state that spikes; .*moving=\(\('theta', 12.0\),\)"),
    ((("theta", 8.0), ("theta", 1.0)), r"`moving` names \['theta'\] more than once"),
    ((("theta", float("inf")),), r"`moving` gives 'theta' the coefficient inf; give a finite number"),
    ((("theta", float("nan")),), r"`moving` gives 'theta' the coefficient nan"),
    ((("theta",),), r"`moving` holds \('theta',\); give \(state name, number\) pairs"),
    ((("theta", "high"),), r"`moving` holds \('theta', 'high'\)"),
    ("theta", r"`moving` is 'theta'; give \(state name, number\) pairs"),
])
def test_a_bad_moving_threshold_is_refused_by_name(moving, message):
    with pytest.raises(EquationError, match=message):
        SpikeRule("V", threshold=-50.0, reset=-60.0, moving=moving)


def test_moving_states_must_be_states_of_the_system():
    with pytest.raises(EquationError, match=r"spike rule `moving` names 'thta', which is not a state of "
                                            r"\['V', 'w', 'theta'\].*Did you mean `theta`\?"):
        gif(dataclasses.replace(RULE, moving=(("thta", 8.0),)))
    with pytest.raises(EquationError, match=r"spike rule `add` names 'u'"):  # the other fields keep their check
        gif(dataclasses.replace(RULE, add=(("u", 1.0),)))


def test_round_trip_keeps_the_moving_threshold_and_an_old_file_still_loads():
    system = gif()
    again = EquationSystem.from_dict(json.loads(system.to_json()))
    assert again.spike == system.spike and again.spike.moving == (("theta", 8.0),)
    old = system.to_dict()
    del old["spike"]["moving"]  # written before moving thresholds existed
    assert EquationSystem.from_dict(old).spike.moving == ()
    old["spike"]["moving"] = [["theta", "x"]]
    with pytest.raises(EquationError, match="`moving` holds"):
        EquationSystem.from_dict(old)


def test_text_and_latex_show_the_threshold_as_an_expression():
    system = gif(dataclasses.replace(RULE, moving=(("theta", 8.0), ("w", -0.5))))
    assert "spike when V >= -50 + 8*theta - 0.5*w: V -> -60, w += 20, theta += 1, held for 2 ms" in str(system)
    assert "spike when V >= -50 + 8*theta - 0.5*w: V -> -60" in equations_text(system)
    assert r"V \geq -50 + 8\,\theta - 0.5\,w:" in equations_latex(system)
    assert "spike when V >= -50: V -> -60" in str(gif(dataclasses.replace(RULE, moving=())))


def test_threshold_at_reads_the_moving_states():
    y = np.array([[-55.0, 3.0, 0.0], [-45.0, 0.0, 1.5]])
    np.testing.assert_array_equal(RULE.threshold_at(y, ("V", "w", "theta")), [-50.0, -38.0])


def test_torch_spike_cap_follows_the_moving_threshold_with_its_gradients():
    """dV/dt is 0 at or above the moving threshold, not above the fixed part alone; below it V is
    capped at the moving threshold, and gradients (to theta through the cap too) match autograd
    through the tree-walking oracle."""
    system = gif().with_residual("V", ["V", "w"])
    rhs, oracle = TorchRHS(system), tree_walk_rhs(system)
    # V below the fixed part; above the fixed part, below the moving threshold; at it; above it
    y = torch.tensor([[-55.0, 1.0, 0.5], [-45.0, 2.0, 1.0], [-42.0, 2.0, 1.0], [-30.0, 0.5, 1.0]],
                     dtype=torch.float64, requires_grad=True)
    u = torch.tensor([[100.0], [0.0], [50.0], [200.0]], dtype=torch.float64)
    r = torch.tensor([[0.1], [0.2], [0.3], [0.4]], dtype=torch.float64, requires_grad=True)
    a, b = rhs(y, u, r), oracle(y, u, r)
    torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    assert a[1, 0] != 0 and a[2, 0] == 0 and a[3, 0] == 0  # -45 mV is below -50 + 8*1
    weights = torch.linspace(0.5, 1.5, a.numel(), dtype=a.dtype).reshape(a.shape)
    ga = torch.autograd.grad((a * weights).sum(), (y, r))
    gb = torch.autograd.grad((oracle(y, u, r) * weights).sum(), (y, r))
    for x1, x2 in zip(ga, gb, strict=True):
        torch.testing.assert_close(x1, x2, rtol=1e-12, atol=1e-12)
    # above the threshold the capped V is -50 + 8*theta: dw/dt's a*V/tau_w reaches theta, 8 per unit
    assert ga[0][3, 2].item() == pytest.approx(weights[3, 1] * 2.0 / 100.0 * 8.0 - weights[3, 2] / 30.0, rel=1e-12)
