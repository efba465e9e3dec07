"""The GIF simulators agree: the exact-between-spikes stepper (and its gated version) against RK4 of the
exported system, the median reading against the escape model it reads, both readings in one pass."""

import numpy as np
import pytest

from discover.cell import gif_system, simulate_gif
from discover.cell._simulate import simulate_rows
from discover.equations import compile_numpy
from discover.validate import coincidence_factor, spike_trains
from tests.helpers import GIF_DT as DT, GIF_GATED as GATED, GIF_TRUE as TRUE, ou_current as noise


def test_the_fast_simulator_and_the_general_integrator_give_the_same_spikes():
    # simulate_gif (exact between spikes) against spike_trains on the exported system (RK4)
    i = noise(2.0, seed=3)
    (fast,), _ = simulate_gif(TRUE, i, DT, v0=-65.0, offset=1.0)
    system = gif_system(TRUE, offset=1.0)
    y0 = np.zeros((1, len(system.states)))
    y0[0, 0] = -65.0
    (general,) = spike_trains(compile_numpy(system), system.spike, 0, y0, i[None, :, None], DT, 1, system.states)
    # exact steps of a held current against RK4 of an interpolated one: a crossing that only grazes
    # the threshold may go either way, everything else lands in the same sample
    assert len(fast) > 10 and abs(len(fast) - len(general)) <= 1
    assert coincidence_factor(general, fast, 2000.0, DT + 1e-9) > 0.85


@pytest.mark.parametrize("fit", ["plain", "gated"])
def test_the_median_reading_fires_where_the_integrated_escape_rate_reaches_ln2(fit):
    # the same three ways: exact steps (or the gated stepper) against RK4 of the system with its H state
    fit = TRUE if fit == "plain" else GATED
    i = noise(2.0, seed=3)
    (fast,), _ = simulate_gif(fit, i, DT, v0=-65.0, median=True)
    system = gif_system(fit, median=True)
    rule = system.spike
    assert rule.watch == "H" and rule.state == "V" and rule.threshold == pytest.approx(np.log(2)) and not rule.moving
    assert ("H", 0.0) in rule.also and "dH/dt = rate_0*exp((V - VT - b_30*theta_30 - b_V*theta_V)/DV)" in str(system)
    y0 = np.zeros((1, len(system.states)))
    y0[0, 0] = -65.0
    if fit.membrane.gate is not None:
        y0[0, 1] = fit.membrane.gate.h_inf(-65.0)
    (general,) = spike_trains(compile_numpy(system), rule, 0, y0, i[None, :, None], DT, 1, system.states)
    assert len(fast) > 10 and abs(len(fast) - len(general)) <= 1
    # the rate exp((V - theta)/DV) with DV 1 mV magnifies the gated stepper's error in V (its gate
    # current held over each step): there a sample or two late
    window = DT if fit.membrane.gate is None else 3 * DT
    assert coincidence_factor(general, fast, 2000.0, window + 1e-9) > 0.8
    # it is a reading of the escape model, not another model: half of its stochastic runs from rest
    # have spiked by the reading's first spike (400 runs: a standard error of 0.025)
    # (the runs need the stimulus only up to that spike: a run with no spike by then has not spiked)
    runs, _ = simulate_gif(fit, i[:int(fast[0] / DT) + 2], DT, v0=-65.0, stochastic=True, runs=400, seed=1)
    spiked = np.mean([t.size > 0 and t[0] <= fast[0] + 1e-9 for t in runs])
    assert abs(spiked - 0.5) < 0.1, spiked


@pytest.mark.parametrize("fit", ["plain", "gated"])
def test_both_readings_in_one_pass_are_each_reading_alone(fit):
    # the cell workflow runs both readings as rows of one pass (one gated stepping for two)
    fit = TRUE if fit == "plain" else GATED
    i = noise(2.0, seed=5)
    both, _ = simulate_rows(fit, i[None], DT, np.full(2, -65.0), np.array([1.0, 0.0]), which=np.zeros(2, dtype=int),
                            median=np.array([False, True]))
    alone = [simulate_gif(fit, i, DT, v0=-65.0, offset=1.0)[0][0],
             simulate_gif(fit, i, DT, v0=-65.0, median=True)[0][0]]
    assert len(alone[0]) > 3 and not np.array_equal(alone[0], alone[1])
    for one, other in zip(both, alone, strict=True):
        np.testing.assert_array_equal(one, other)


def test_the_stepping_simulator_of_a_gated_cell_and_the_general_integrator_agree():
    i = noise(2.0, seed=3, mean=150.0)
    (fast,), _ = simulate_gif(GATED, i, DT, v0=-65.0, offset=1.0)
    system = gif_system(GATED, offset=1.0)
    y0 = np.zeros((1, len(system.states)))
    y0[0, :2] = -65.0, GATED.membrane.gate.h_inf(-65.0)
    (general,) = spike_trains(compile_numpy(system), system.spike, 0, y0, i[None, :, None], DT, 1, system.states)
    assert system.states[:2] == ("V", "h_A")
    assert len(fast) > 10 and abs(len(fast) - len(general)) <= 1
    assert coincidence_factor(general, fast, 2000.0, DT + 1e-9) > 0.85
