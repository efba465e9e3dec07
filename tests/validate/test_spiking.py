"""Re-simulating hybrid spiking models."""

import dataclasses

import numpy as np

from discover import Trajectories
from discover.equations import SpikeRule
from discover.models import adex
from discover.validate import resimulate_spiking, spike_times


def test_a_step_that_blows_up_is_a_spike_and_leaves_the_other_states_finite():
    """AdEx's exponential overflows within a coarse step before V is seen above threshold; the
    step is a spike, and w, whose equation reads V, keeps its value from the step's start
    instead of turning inf and then NaN for the rest of the run."""
    system = dataclasses.replace(adex(), spike=SpikeRule("V", 0.0, -70.6, add=(("w", 80.5),)))
    t = np.arange(0.0, 300.0, 0.5)  # 0.5 ms steps: far too coarse for the upstroke, on purpose
    u = np.full((1, t.size, 1), 900.0)
    start = Trajectories(t, np.tile([-70.6, 0.0], (1, t.size, 1)), u, ("V", "w"), ("I",))
    y = resimulate_spiking(system, start)
    assert np.all(np.isfinite(y))
    spikes = spike_times(t, y[0, :, 0], 0.0)
    assert len(spikes) >= 3
    assert y[0, -1, 1] > 80.5  # adaptation built up over the spikes


def test_models_resimulated_together_match_each_resimulated_alone():
    # one loop over the samples for the known part, a candidate and a numpy function (as a UDE's)
    from discover.equations import EquationSystem, compile_numpy
    from discover.validate import resimulate_spiking_together

    rule = SpikeRule("V", -50.0, -65.0, refractory=2.0)
    known = dataclasses.replace(EquationSystem.from_text(["dV/dt = (I - 2.5*(V + 65))/25"], inputs=["I"]),
                                spike=rule)
    candidate = dataclasses.replace(EquationSystem.from_text(["dV/dt = (I - 2.5*(V + 65))/25 + 0.05*exp((V + 55)/3)"],
                                                             inputs=["I"]), spike=rule)
    function = compile_numpy(candidate)
    t = np.arange(0.0, 200.0, 0.1)
    u = 60.0 + 30.0 * np.sin(t / 7.0)[None, :, None] * np.array([1.0, 1.5])[:, None, None]
    data = Trajectories(t, np.full((2, t.size, 1), -65.0), u, ("V",), ("I",))
    together = resimulate_spiking_together({"known": known, "candidate": candidate, "function": function}, known, data)
    alone = {"known": resimulate_spiking(known, data), "candidate": resimulate_spiking(candidate, data)}
    for name, trace in alone.items():
        np.testing.assert_allclose(together[name], trace, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(together["function"], alone["candidate"], rtol=1e-12, atol=1e-9)
    counts = {name: len(spike_times(t, trace[0, :, 0], -50.0)) for name, trace in alone.items()}
    assert counts["candidate"] > counts["known"] > 0
