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
