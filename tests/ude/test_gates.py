"""A gate with unknown kinetics learned from V alone (`GateKinetics`), and its closed form (`distill_gate`)."""

import dataclasses

import numpy as np
import pytest
import torch

from discover import DataError, FitError, Trajectories, simulate
from discover.data import Step
from discover.distill import distill_gate
from discover.equations import SpikeRule
from discover.models import get_model
from discover.ude import GateKinetics
from discover.ude._gates import gate_trace, linear_scan
from discover.validate import spike_times


def test_the_chunked_recurrence_equals_the_sample_by_sample_one():
    rng = np.random.default_rng(0)
    a = torch.as_tensor(rng.uniform(0.2, 1.0, (3, 100)))
    b = torch.as_tensor(rng.normal(size=(3, 100)))
    x0 = torch.as_tensor(rng.normal(size=3))
    x, expected = x0.clone(), [x0.clone()]
    for k in range(100):
        x = a[:, k] * x + b[:, k]
        expected.append(x.clone())
    torch.testing.assert_close(linear_scan(a, b, x0), torch.stack(expected, dim=1), rtol=1e-10, atol=1e-10)


def test_a_gate_driven_by_a_voltage_step_relaxes_exponentially():
    """Exponential Euler is exact for V held over each interval: after a step from rest the gate is
    x_inf(V1) + (x_inf(V0) - x_inf(V1)) exp(-t/tau) at every sample."""
    def kinetics(v):
        return torch.sigmoid(v / 10), 2.0 + 0 * v
    v = torch.as_tensor(np.r_[[-30.0], np.full(50, 20.0)])[None]
    x = gate_trace(kinetics, v, 0.1)[0].numpy()
    low, high, middle = 1 / (1 + np.exp(3)), 1 / (1 + np.exp(-2)), 1 / (1 + np.exp(0.5))
    first = middle + (low - middle) * np.exp(-0.1 / 2)  # the first interval sees the midpoint, -5 mV
    expected = high + (first - high) * np.exp(-0.1 * np.arange(50) / 2)
    assert x[0] == pytest.approx(low)
    np.testing.assert_allclose(x[1:], expected, rtol=1e-9)


def morris_lecar_voltage(duration=600.0, dt=1.0):
    system = get_model("morris_lecar")
    t = np.arange(0, duration, dt)
    currents = np.stack([Step(60, 60, 500, 20)(t), Step(110, 60, 550, 0)(t)])
    data = simulate(system, np.array([[-60.0, 0.0], [-60.0, 0.0]]), t, {"I": currents}, noise=0.01)
    return system, Trajectories(t, data.y[..., :1], data.u, ("V",), ("I",))


@pytest.fixture(scope="module")
def morris_lecar_gate():  # about 35 s on 2 cores: the tests that use it are `slow`
    system, data = morris_lecar_voltage()
    estimator = GateKinetics(system, "w", steps=300).fit(data)
    return estimator, distill_gate(estimator)


@pytest.mark.slow
def test_morris_lecar_w_is_recovered_from_v_alone_as_a_boltzmann_with_a_bell_time_constant(morris_lecar_gate):
    """w_inf = (1 + tanh((V - V3)/V4))/2 is a Boltzmann with V_h = V3 = 2 and k = V4/2 = 15;
    tau = 1/(phi cosh((V - V3)/(2 V4))) a bell of tau_max = 1/phi = 25 at V3, width 2 V4 = 60."""
    _, distilled = morris_lecar_gate
    assert distilled.chosen.label == "x_inf Boltzmann, tau bell"
    values, errors = distilled.chosen.values, distilled.chosen.errors
    expected = {"Vh": (2.0, 1.0), "k": (15.0, 0.5), "tau_max": (25.0, 1.0), "tau_V": (2.0, 2.0), "tau_s": (60.0, 3.0)}
    for name, (value, tolerance) in expected.items():
        assert values[name] == pytest.approx(value, abs=tolerance), (name, values)
        assert 0 < errors[name] < tolerance, (name, errors)
    assert distilled.system.discovered["w"] == distilled.system.equation("w")
    assert "w_Vh" in distilled.system.parameter_names


@pytest.mark.slow
def test_the_learned_networks_follow_the_gate_over_the_visited_voltages(morris_lecar_gate):
    estimator, distilled = morris_lecar_gate
    v = np.linspace(*estimator.fit_.voltage_range, 50)
    x_inf, tau = estimator.curves(v)
    true_x, true_tau = (1 + np.tanh((v - 2) / 30)) / 2, 25 / np.cosh((v - 2) / 60)
    assert np.abs(x_inf - true_x).max() < 0.1
    assert np.abs(tau / true_tau - 1).max() < 0.4  # the networks' tau is their weak part; the closed form's:
    closed_x, closed_tau = distilled.curves(v)
    assert np.abs(closed_x - true_x).max() < 0.01
    assert np.abs(closed_tau / true_tau - 1).max() < 0.05


@pytest.mark.slow
def test_the_distilled_model_re_simulates_the_recording(morris_lecar_gate):
    """The closed form re-simulates the recording sample by sample (the generating model's own error
    is the noise, NRMSE 0.01); the networks' model fires as many spikes, later: its tau, 20-35 % off at
    the visited voltages' ends, drifts the phase of tonic firing."""
    estimator, distilled = morris_lecar_gate
    system, data = morris_lecar_voltage()
    closed = simulate(distilled.system, np.array([[data.y[0, 0, 0], 0.0], [data.y[1, 0, 0], 0.0]]), data.t,
                      {"I": data.u[..., 0]}).y[..., 0]
    assert np.sqrt(np.mean((closed - data.y[..., 0]) ** 2)) / data.y.std() < 0.03
    networks = estimator.simulate(data)[..., 0]
    recorded = data.y[..., 0]
    for sweep in range(2):
        count = len(spike_times(data.t, recorded[sweep], 0.0))
        assert count > 0 and len(spike_times(data.t, closed[sweep], 0.0)) == count
        assert len(spike_times(data.t, networks[sweep], 0.0)) == count


def test_gate_errors_name_the_argument_and_the_fix():
    system, data = morris_lecar_voltage(duration=60.0)
    with pytest.raises(FitError, match=r"`gate`='ww'.*Did you mean `w`"):
        GateKinetics(system, "ww").fit(data)
    with pytest.raises(FitError, match=r"`voltage`='v'.*Did you mean `V`"):
        GateKinetics(system, "w", voltage="v").fit(data)
    both = Trajectories(data.t, np.concatenate([data.y, data.y * 0], -1), data.u, ("V", "w"), ("I",))
    with pytest.raises(DataError, match="record the gate 'w'.*Drop the column"):
        GateKinetics(system, "w").fit(both)
    with pytest.raises(FitError, match="`steps` must be an integer"):
        GateKinetics(system, "w", steps=1.5).fit(data)
    with pytest.raises(FitError, match="residual networks"):
        GateKinetics(system.with_residual("V", ["V"]), "w").fit(data)
    with pytest.raises(FitError, match="spike rule"):
        GateKinetics(dataclasses.replace(system, spike=SpikeRule("V", 20.0, -60.0)), "w").fit(data)
    with pytest.raises(DataError, match="more than `window`=80 samples"):
        GateKinetics(system, "w", window=80).fit(data)
