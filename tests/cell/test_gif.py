"""GIF-type cell models discovered by regression: the terms of a known cell recovered, its
simulators agreeing, the whole workflow scored on repeats of a frozen stimulus."""

import dataclasses

import numpy as np
import pytest

from discover.cell import CellFit, discover_cell, gif_system, simulate_gif
from discover.cell._discover import _judge_gate
from discover.cell._gate import Gate
from discover.cell._gif import Recorded, fit_membrane, fit_threshold
from discover.cell._simulate import simulate_rows
from discover.data import Trajectories
from discover.equations import compile_numpy
from discover.validate import coincidence_factor, spike_trains
from tests.helpers import GIF_DT as DT, GIF_TRUE as TRUE, ou_current as noise


@pytest.fixture(scope="module")
def recorded():
    """40 s of the true cell (escape noise) under a noise current: voltage, current, spike onsets."""
    i = noise(40.0, seed=1)
    (spikes,), v = simulate_gif(TRUE, i, DT, stochastic=True, seed=2)
    onsets = np.round(spikes / DT).astype(int) - 1  # the sample a spike was decided in
    return Recorded((v,), (i,), (onsets,), DT)


@pytest.fixture(scope="module")
def membrane(recorded):
    """The membrane fitted to `recorded`, once for the tests that read it."""
    return fit_membrane(recorded, TRUE.reset, TRUE.refractory)


def test_membrane_and_its_spike_triggered_currents_are_recovered(membrane):
    m = membrane
    assert m.C == pytest.approx(100.0, rel=0.05) and m.gL == pytest.approx(5.0, rel=0.05)
    assert m.EL == pytest.approx(-65.0, abs=1.0)
    assert sorted(tau for tau, _ in m.currents) == [30.0, 300.0], m.selection
    assert m.gate is None, m.selection  # 64 candidate A-type gates, none of them a look-alike here
    currents = dict(m.currents)
    assert currents[30.0] == pytest.approx(40.0, rel=0.15) and currents[300.0] == pytest.approx(8.0, rel=0.25)


def test_threshold_with_its_jump_and_voltage_dependence_is_recovered(recorded, membrane):
    th = fit_threshold(recorded, membrane, TRUE.reset, TRUE.refractory, onset_voltage=-48.0)
    assert th.DV == pytest.approx(1.0, rel=0.2)
    assert [tau for tau, _ in th.jumps] == [30.0], th.selection
    assert th.jumps[0][1] == pytest.approx(6.0, rel=0.3)
    tau, knee, slope = th.voltage
    assert tau == 10.0 and knee == pytest.approx(-58.0, abs=5.0) and slope == pytest.approx(0.8, rel=0.3)
    # VT and the knee trade off (a knee off the grid's point moves VT): the threshold they give together
    # at the voltages the cell visits before spiking is what must be right
    for v in (-56.0, -52.0, -48.0):
        assert th.VT + slope * max(0.0, v - knee) == pytest.approx(-50.0 + 0.8 * max(0.0, v + 58.0), abs=1.0)


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
    runs, _ = simulate_gif(fit, i, DT, v0=-65.0, stochastic=True, runs=400, seed=1)
    spiked = np.mean([t[0] <= fast[0] + 1e-9 for t in runs])
    assert abs(spiked - 0.5) < 0.1, spiked


GATED = dataclasses.replace(TRUE, membrane=dataclasses.replace(TRUE.membrane, gate=Gate(10.0, -50.0, -65.0, 30.0)))
"""The true cell with an A-type potassium current (a point of the candidate grid)."""


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


@pytest.fixture(scope="module")
def gated():
    """10 s of the gated cell under a noise current (~120 spikes)."""
    i = noise(10.0, seed=11, mean=150.0)
    (spikes,), v = simulate_gif(GATED, i, DT, stochastic=True, seed=12)
    return Recorded((v,), (i,), (np.round(spikes / DT).astype(int) - 1,), DT)


def test_an_a_type_gate_is_recovered_with_its_kinetics(gated):
    m = fit_membrane(gated, TRUE.reset, TRUE.refractory)
    assert m.gate is not None, m.selection
    assert (m.gate.V_act, m.gate.V_inact, m.gate.tau) == (-50.0, -65.0, 30.0)
    assert m.gate.g == pytest.approx(10.0, rel=0.1)
    assert m.C == pytest.approx(100.0, rel=0.05) and m.gL == pytest.approx(5.0, rel=0.05)
    assert dict(m.currents)[30.0] == pytest.approx(40.0, rel=0.15)


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


@pytest.mark.slow  # four threshold fits, one calibration: ~15 s
def test_a_gate_is_kept_only_where_it_places_the_spikes_better(gated):
    m = fit_membrane(gated, TRUE.reset, TRUE.refractory)
    fit = CellFit(m, fit_threshold(gated, m, TRUE.reset, TRUE.refractory, -48.0), TRUE.reset, TRUE.refractory)
    kept, _, note = _judge_gate(fit, 0.0, gated, -48.0)
    assert kept.membrane.gate is not None and note.endswith("kept"), note
    # a gate too weak to move a spike, added to the gate-free fit, is left out, and the model refitted without it
    plain = fit_membrane(gated, TRUE.reset, TRUE.refractory, gates=())
    weak = dataclasses.replace(fit, membrane=dataclasses.replace(plain, gate=dataclasses.replace(m.gate, g=1e-3)))
    weak = dataclasses.replace(weak, threshold=fit_threshold(gated, weak.membrane, TRUE.reset, TRUE.refractory, -48.0))
    plain, _, note = _judge_gate(weak, 0.0, gated, -48.0)
    assert plain.membrane.gate is None and "left out" in note, note


SPIKE = np.array([-20.0, 15.0, 30.0, 20.0, 0.0, -25.0, -45.0, -55.0])
"""A spike's waveform (mV, one value per sample from the sample after its onset): the reset model
holds V at the reset instead, and spike detection needs the upstroke."""


def recording(current: np.ndarray, seed: int) -> np.ndarray:
    """The true cell's voltage with a spike waveform pasted over the start of each refractory hold."""
    (spikes,), v = simulate_gif(TRUE, current, DT, stochastic=True, seed=seed)
    for k in np.round(spikes / DT).astype(int):
        stop = min(v.size, k + SPIKE.size)
        v[k:stop] = SPIKE[:stop - k]
    return v


@pytest.mark.slow  # the whole workflow on 20 s of recording: ~15 s
def test_a_cell_predicts_held_out_repeats_and_is_scored_against_them():
    # the whole workflow on a short recording: the discovered model beats the passive one on repeats
    train_i, test_i = noise(20.0, seed=4), noise(4.0, seed=5)
    t = np.arange(train_i.size) * DT
    train = Trajectories(t, recording(train_i, 6)[None, :, None], train_i[None, :, None], ("V",), ("I",))
    repeats = np.array([recording(test_i, 10 + k) for k in range(4)])
    held = Trajectories(t[:test_i.size], repeats[..., None], np.tile(test_i, (4, 1))[..., None], ("V",), ("I",))
    scores = discover_cell(train, held, progress=False).metrics
    assert scores["discovered (stochastic)"]["V"]["md_star"] > scores["known only"]["V"]["md_star"] + 0.1
    assert scores["discovered"]["V"]["spike_count_error"] < 0.3
    assert 0 < scores["discovered"]["V"]["gamma_intrinsic"] <= 1 and scores["discovered"]["V"]["repeats"] == 4


def test_discover_run_fits_a_cell_from_csv_files_and_its_export_runs(tmp_path):
    # [cell] with no threshold: the GIF workflow, held-out sweeps from a second file, results and exports
    from discover.cli import main
    from discover.report import load_results

    for name, (seconds, seed) in {"train": (10.0, 7), "test": (3.0, 8)}.items():
        i = noise(seconds, seed=seed)
        v = recording(i, seed + 100)
        t = np.arange(i.size) * DT / 1000.0
        np.savetxt(tmp_path / f"{name}.csv", np.column_stack([t, v, i]), delimiter=",", header="t_s,V_mV,I_pA",
                   comments="")
    (tmp_path / "cell.toml").write_text('[data]\npath = "train.csv"\nheldout_path = "test.csv"\n\n[cell]\nruns = 20\n')
    out = tmp_path / "out"
    assert main(["run", str(tmp_path / "cell.toml"), "--quiet", "--out", str(out)]) == 0
    r = load_results(out)
    rule = r.discovered.spike  # the fitted threshold moves either way: in the rule, or inside H's escape rate
    assert rule.moving or (rule.watch == "H" and "theta_" in str(r.discovered.rhs[-1]))
    assert r.metrics["routes"]["chosen"] == "regression"
    assert set(r.metrics["heldout"]) - {"discovered, escape noise median (not chosen)",
                                        "discovered, threshold crossing (not chosen)"} == \
        {"known only", "discovered", "discovered (stochastic)"} and len(r.metrics["heldout"]) == 4
    assert "md_star" not in r.metrics["heldout"]["discovered"]["V"]  # one held-out sweep: no repeats to score
    assert main(["export", str(out), "--to", "python"]) == 0
    assert (out / "export" / "python" / "gif_discovered.py").is_file()
