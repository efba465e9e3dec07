"""Re-simulating a model whose spike threshold moves (GIF): spikes where V reaches threshold + b*theta."""

import dataclasses
import functools

import numpy as np
import pytest

from discover import EquationError, EquationSystem, Trajectories, simulate
from discover.choose._spikes import training_gammas
from discover.equations import Parameter, SpikeRule, compile_numpy
from discover.validate import integrate_spiking, resimulate_spiking, spike_times
from discover.validate._spiking import rule_spike_metrics, spike_signal

B = 8.0  # mV of threshold per unit of theta
RULE = SpikeRule("V", threshold=-50.0, reset=-60.0, refractory=2.0, add=(("w", 20.0), ("theta", 1.0)),
                 moving=(("theta", B),))
CURRENT = 250.0  # pA: V would settle at -15 mV, so the cell fires a train


def gif(rule=RULE):
    """A LIF with one spike-triggered adaptation current w and one threshold trace theta (ms, mV, pA)."""
    return EquationSystem.from_text(
        ["dV/dt = (-gL*(V - EL) - w + I)/C", "dw/dt = -w/tau_w", "dtheta/dt = -theta/tau_t"], inputs=["I"],
        parameters=[Parameter("C", 100.0, "pF"), Parameter("gL", 5.0, "nS"), Parameter("EL", -65.0, "mV"),
                    Parameter("tau_w", 100.0, "ms"), Parameter("tau_t", 30.0, "ms")],
        units={"V": "mV", "w": "pA", "I": "pA"}, time_unit="ms", name="gif", spike=rule)


DURATION, DT, SUBSTEPS = 60.0, 0.05, 5  # ms; 5 RK4 substeps of 10 us per sample


def euler_spike_times(b: float, duration: float = DURATION, dt: float = 1e-3) -> np.ndarray:
    """The same model by forward Euler at 1 us, written out here (independent of discover)."""
    v, w, theta, hold, spikes = -65.0, 0.0, 0.0, 0.0, []
    for k in range(int(round(duration / dt))):
        dv = (-5.0 * (v + 65.0) - w + CURRENT) / 100.0
        w, theta = w - dt * w / 100.0, theta - dt * theta / 30.0
        if hold > 0.5 * dt:
            hold -= dt
        else:
            v += dt * dv
            if v >= -50.0 + b * theta:
                spikes.append((k + 1) * dt)
                v, w, theta, hold = -60.0, w + 20.0, theta + 1.0, 2.0
    return np.array(spikes)


@functools.cache
def _resimulated(moving: bool = True):
    """(t, states) of the model re-simulated by `integrate_spiking`, with or without its moving threshold."""
    system = gif(RULE if moving else dataclasses.replace(RULE, moving=()))
    t = np.arange(0.0, DURATION, DT)
    start = Trajectories(t, np.tile([-65.0, 0.0, 0.0], (1, t.size, 1)), np.full((1, t.size, 1), CURRENT),
                         system.states, ("I",))
    return t, resimulate_spiking(system, start, substeps=SUBSTEPS)[0]


def test_a_moving_threshold_delays_the_second_spike_as_the_euler_reference_does():
    t, y = _resimulated()
    ours = spike_times(t, spike_signal(RULE, y, ("V", "w", "theta")), RULE.threshold)
    t, fixed_y = _resimulated(moving=False)
    fixed = spike_times(t, fixed_y[:, 0], RULE.threshold)
    reference, fixed_reference = euler_spike_times(B), euler_spike_times(0.0)
    assert len(ours) == len(reference) >= 4 and len(fixed) == len(fixed_reference)
    # a spike is found at the first sample after its crossing (up to 0.05 ms late), and each
    # refractory period counted from the end of its 10 us substep: within 0.1 ms, against ms of delay
    np.testing.assert_allclose(ours, reference, atol=0.1)
    np.testing.assert_allclose(fixed, fixed_reference, atol=0.1)
    assert ours[0] == pytest.approx(fixed[0])  # theta starts at 0: the same first spike
    assert ours[1] - fixed[1] > 2.0  # theta = 1 after it: the threshold is 8 mV higher, the second spike ms later
    # between spikes V rises above the fixed part of the threshold, so a crossing of -50 mV by V
    # alone is no spike: the signal (V minus the moving part) is what crosses it, once per spike
    naive = spike_times(t, y[:, 0], RULE.threshold)
    assert any(np.min(np.abs(ours - s)) > 1.0 for s in naive)


def test_a_spike_sample_reads_the_moving_threshold_at_that_sample():
    t, y = _resimulated()
    signal = spike_signal(RULE, y, ("V", "w", "theta"))
    spikes = np.flatnonzero(signal >= RULE.threshold)
    assert len(spikes) == len(spike_times(t, signal, RULE.threshold))  # nowhere else at or above it
    np.testing.assert_array_equal(y[spikes, 0], RULE.threshold_at(y[spikes], ("V", "w", "theta")))
    np.testing.assert_array_equal(signal[spikes], RULE.threshold)  # exactly: spike_times puts each spike on its sample


def test_simulate_and_the_spike_scores_honour_the_moving_threshold():
    """`simulate` (LSODA, crossings as solver events) spikes as the Euler reference does, its spike
    samples read the moving threshold through observation noise too; the model scored against its
    own simulation by its rule has Gamma 1, also where candidate models are compared."""
    system = gif()
    t = np.arange(0.0, DURATION, DT)
    data = simulate(system, [-65.0, 0.0, 0.0], t, inputs={"I": CURRENT})
    np.testing.assert_allclose(spike_times(t, spike_signal(RULE, data.y[0], data.states), -50.0),
                               euler_spike_times(B), atol=0.1)
    noisy = simulate(system, [-65.0, 0.0, 0.0], t, inputs={"I": CURRENT}, noise=0.02, seed=1)
    marks = np.flatnonzero(spike_signal(RULE, data.y[0], data.states) >= RULE.threshold)
    np.testing.assert_array_equal(spike_signal(RULE, noisy.y[0, marks], data.states), RULE.threshold)  # noise-free
    _, y = _resimulated()
    scores = rule_spike_metrics(system, data, y[None])
    assert scores["gamma"] == pytest.approx(1.0) and scores["spike_count_error"] == 0.0
    _, fixed = _resimulated(moving=False)  # fires more often: scored down
    scores = rule_spike_metrics(system, data, fixed[None])
    assert scores["gamma"] < 0.8 and scores["spike_count_error"] > 0.2
    assert training_gammas({"discovered": system}, data, SUBSTEPS)["discovered"] == pytest.approx(1.0)


def test_integrate_spiking_needs_the_state_names_for_a_moving_threshold():
    with pytest.raises(EquationError, match=r"moving threshold reads the states \['theta'\]; pass `names`"):
        integrate_spiking(compile_numpy(gif()), RULE, 0, np.zeros((1, 3)), np.zeros((1, 5, 1)), 0.1)


def test_a_spike_sample_a_rounding_error_below_its_moving_threshold_still_reads_as_a_spike():
    # integrate_spiking sets V to the threshold its states give; summing the moving part in another order
    # left V 1e-14 below it, and a GIF model's spike went missing from the scores
    from discover.equations import SpikeRule
    from discover.validate import spike_signal

    rule = SpikeRule("V", -51.0, -60.0, 3.0, moving=(("a", 6.0), ("b", 0.3)))
    a, b = 0.4349999999, 11.6203
    at = -51.0 + 6.0 * a + 0.3 * b
    y = np.array([[at - 1.0, a, b], [np.nextafter(at, -np.inf), a, b], [-60.0, a + 1, b]])
    signal = spike_signal(rule, y, ("V", "a", "b"))
    assert signal[0] < -51.0 <= signal[1] and signal[2] < -51.0
