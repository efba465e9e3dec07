"""GIF-type cell models discovered by regression: the terms of a known cell recovered, the whole
workflow scored on repeats of a frozen stimulus. (Its simulators agreeing: test_simulate.py.)"""

import dataclasses

import numpy as np
import pytest

from discover.cell import CellFit, discover_cell, simulate_gif
from discover.cell._discover import _judge_gate
from discover.cell._gif import Recorded, fit_membrane, fit_threshold
from discover.data import Trajectories
from tests.helpers import GIF_DT as DT, GIF_GATED as GATED, GIF_TRUE as TRUE, ou_current as noise


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
