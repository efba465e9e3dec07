import numpy as np
import pytest

from discover.data import Trajectories
from discover.validate import coincidence_factor, spike_times, trajectory_metrics
from discover.validate._metrics import forecast_horizon, rhythm_errors


def test_coincidence_factor_is_one_for_a_match_and_near_zero_by_chance():
    rng = np.random.default_rng(0)
    data = np.sort(rng.uniform(0, 10_000, 100))  # 10 Hz over 10 s, in ms
    assert coincidence_factor(data, data + 1.0, 10_000, 4.0) == pytest.approx(1.0)
    assert coincidence_factor(data, data + 10.0, 10_000, 4.0) < 0  # every spike 10 ms late: below chance
    chance = [coincidence_factor(data, np.sort(rng.uniform(0, 10_000, 100)), 10_000, 4.0) for _ in range(50)]
    assert abs(np.mean(chance)) < 0.03
    assert coincidence_factor(data, np.array([]), 10_000, 4.0) == 0.0
    assert np.isnan(coincidence_factor(np.array([]), np.array([]), 10_000, 4.0))  # nothing to predict


def test_each_data_spike_matches_one_model_spike():
    # two model spikes near one data spike: one coincidence, not two
    gamma = coincidence_factor(np.array([100.0]), np.array([99.0, 101.0]), 1000.0, 4.0)
    nu = 2 / 1000.0
    assert gamma == pytest.approx((1 - 2 * nu * 4) / 1.5 / (1 - 2 * nu * 4))


def test_spike_times_interpolate_upward_crossings():
    t = np.arange(0, 10.0, 1.0)
    v = np.array([-70, -70, -10, 30, -60, -70, -70, 10, -70, -70.0])
    assert spike_times(t, v, -20.0) == pytest.approx([1 + 50 / 60, 6 + 50 / 80])


def test_forecast_horizon_and_rhythm_errors():
    t = np.linspace(0, 100, 2001)
    obs = np.sin(2 * np.pi * t / 10)[None]
    slow = np.sin(2 * np.pi * t / 11)[None]
    horizon = forecast_horizon(t, obs, slow)
    assert 0 < horizon < 100
    assert forecast_horizon(t, obs, obs) == 100
    assert forecast_horizon(t, obs, np.full_like(obs, np.nan)) == 0
    rhythm = rhythm_errors(t, obs, 0.5 * slow)
    assert rhythm["period_error"] == pytest.approx(0.1, abs=0.01)
    assert rhythm["amplitude_error"] == pytest.approx(0.5, abs=0.01)
    assert rhythm_errors(t, t[None], t[None]) == {}  # no oscillation, no rhythm metrics


def test_spiking_voltage_gets_gamma_and_blow_up_ranks_last():
    t = np.arange(0, 1000.0, 0.5)
    v = np.where((t % 100) < 1, 20.0, -65.0)[None, :, None]
    data = Trajectories(t, v, None, ("V",))
    m = trajectory_metrics(v.copy(), data, time_unit="ms", spike_threshold={"V": -20.0})["V"]
    assert m["gamma"] == pytest.approx(1.0) and m["spike_count_error"] == 0
    bad = trajectory_metrics(np.full_like(v, np.nan), data, time_unit="ms", spike_threshold={"V": -20.0})["V"]
    assert bad["rmse"] == np.inf and bad["gamma"] == 0.0 and bad["horizon"] == 0


def _trains(times_per_sweep, t):
    """Voltage traces (sweeps, samples, 1) with a 1-sample spike at each listed time (ms)."""
    v = np.full((len(times_per_sweep), t.size), -65.0)
    for k, times in enumerate(times_per_sweep):
        v[k, np.searchsorted(t, times)] = 20.0
    return v[..., None]


def test_gamma_leaves_out_silent_sweeps_and_counts_a_silent_model_as_missing_every_spike():
    # the cell fires on 5 of 6 sweeps; a model that never fires predicted none of those spikes:
    # Gamma 0 over the 5, with the silent sweep shown beside it (it scored 0.167 when the silent
    # sweep counted as a perfect 1 and was averaged in)
    t = np.arange(0, 1000.0, 0.5)
    cell = _trains([[100, 300, 500]] * 5 + [[]], t)
    data = Trajectories(t, cell, None, ("V",))
    silent = trajectory_metrics(np.full_like(cell, -65.0), data, time_unit="ms", spike_threshold={"V": -20.0})["V"]
    assert silent["gamma"] == 0.0 and silent["silent_sweeps"] == 1
    exact = trajectory_metrics(cell.copy(), data, time_unit="ms", spike_threshold={"V": -20.0})["V"]
    assert exact["gamma"] == pytest.approx(1.0) and exact["silent_sweeps"] == 1
    nothing = Trajectories(t, np.full_like(cell, -65.0), None, ("V",))
    both_silent = trajectory_metrics(nothing.y.copy(), nothing, time_unit="ms", spike_threshold={"V": -20.0})["V"]
    assert np.isnan(both_silent["gamma"]) and both_silent["silent_sweeps"] == 6


def test_a_model_too_fast_for_gamma_scores_zero_on_that_sweep_not_missing():
    # a model firing every 2 ms (faster than 1 / (2 x 4 ms)) makes Gamma undefined; dropping that
    # sweep from the mean let the other sweep's perfect score stand alone
    t = np.arange(0, 1000.0, 0.5)
    cell = _trains([[100, 300, 500], [200, 400]], t)
    model = cell.copy()
    model[1, ::4, 0] = 20.0
    data = Trajectories(t, cell, None, ("V",))
    m = trajectory_metrics(model, data, time_unit="ms", spike_threshold={"V": -20.0})["V"]
    assert m["gamma"] == pytest.approx(0.5) and m["silent_sweeps"] == 0
