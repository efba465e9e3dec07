"""Held-out data from a second recording (`[data] heldout_path`), and sweep selections that cannot work."""

import numpy as np
import pytest

from discover import ConfigError, DataError, config_from_dict
from discover.recordings import Recording, write_npz

MODEL = {"model": {"states": ["V"], "inputs": ["I"], "units": {"V": "mV", "I": "pA"}, "time_unit": "ms"}}


def _csv(path, rate_hz, n, header="t_s,V_mV,I_pA", scale=(1.0, 1.0)):
    """One sweep: V a 5 Hz sine (mV), I a 3 Hz cosine (pA), written in the units of `header`."""
    t = np.arange(n) / rate_hz
    V, current = 10 * np.sin(2 * np.pi * 5 * t), 50 * np.cos(2 * np.pi * 3 * t)
    np.savetxt(path, np.column_stack([t, V * scale[0], current * scale[1]]), delimiter=",", header=header, comments="")
    return path


def _steps(path, n_sweeps=3):
    """A 20 kHz recording of `n_sweeps` sweeps, 0.2 s each."""
    t = np.arange(4000) / 20000
    V = np.stack([10 * np.sin(2 * np.pi * 5 * t) + k for k in range(n_sweeps)])
    write_npz(Recording(t, {"V": V, "I": np.ones_like(V)}, {"V": "mV", "I": "pA"}), path)
    return path


def test_heldout_file_at_another_rate_and_in_other_units_is_resampled_to_the_training_rate(tmp_path):
    _steps(tmp_path / "steps.npz")
    # held out: a chirp-like protocol at 25 kHz, written in V and nA
    _csv(tmp_path / "chirp.csv", 25000, 6000, header="t_s,V_V,I_nA", scale=(1e-3, 1e-3))
    raw = {**MODEL, "data": {"path": "steps.npz", "heldout_path": "chirp.csv", "decimate": 2}}
    train, held = config_from_dict(raw, base_dir=tmp_path).load_data()
    assert train.n_trajectories == 3 and held.n_trajectories == 1  # every sweep of each file by default
    assert held.dt == pytest.approx(train.dt) == pytest.approx(0.1)  # ms: 10 kHz after decimate = 2
    t = held.t / 1000
    interior = slice(50, -50)  # away from the filter's edges
    np.testing.assert_allclose(held.y[0, interior, 0], 10 * np.sin(2 * np.pi * 5 * t[interior]), atol=0.05)
    np.testing.assert_allclose(held.u[0, interior, 0], 50 * np.cos(2 * np.pi * 3 * t[interior]), atol=0.2)
    # heldout_sweeps selects in the held-out file, sweeps in the training file
    _steps(tmp_path / "other.npz", n_sweeps=2)
    raw["data"] = {"path": "steps.npz", "sweeps": [0, 1, 2], "heldout_path": "other.npz", "heldout_sweeps": [1]}
    train, held = config_from_dict(raw, base_dir=tmp_path).load_data()
    assert train.n_trajectories == 3 and held.n_trajectories == 1 and held.y[0, 0, 0] == pytest.approx(1.0)


def test_one_sweep_csv_needs_a_heldout_file_and_works_with_one_for_a_cell(tmp_path):
    _csv(tmp_path / "steps.csv", 10000, 2000)
    _csv(tmp_path / "noise.csv", 20000, 4000)
    for raw in (MODEL, {"cell": {"threshold": -20.0}}):
        with pytest.raises(ConfigError, match="holds one sweep.*give \\[data\\] heldout_path"):
            config_from_dict({**raw, "data": {"path": "steps.csv"}}, base_dir=tmp_path).load_data()
    config = config_from_dict({"cell": {"threshold": -20.0},
                               "data": {"path": "steps.csv", "heldout_path": "noise.csv"}}, base_dir=tmp_path)
    train, held = config.load_data()
    assert (train.n_trajectories, held.n_trajectories, held.t.size) == (1, 1, 2000)


def test_heldout_file_must_record_the_same_quantities(tmp_path):
    _steps(tmp_path / "steps.npz")
    _csv(tmp_path / "vc.csv", 20000, 4000, header="t_s,V_pA,I_mV")  # voltage clamp: the signals swapped
    raw = {**MODEL, "data": {"path": "steps.npz", "heldout_path": "vc.csv"}}
    with pytest.raises(ConfigError, match="signal 'V' is a voltage in 'steps.npz' but a current \\(unit 'pA'\\)"):
        config_from_dict(raw, base_dir=tmp_path).load_data()
    _csv(tmp_path / "novolt.csv", 20000, 4000, header="t_s,U_mV,I_pA")
    raw["data"]["heldout_path"] = "novolt.csv"
    with pytest.raises(ConfigError, match="has no signal 'V' \\(it has \\['U', 'I'\\]\\)"):
        config_from_dict(raw, base_dir=tmp_path).load_data()


@pytest.mark.parametrize("data, message", [
    ({"sweeps": [0]}, None),  # held out: the last sweep not trained on, not a clash with sweep 0
    ({"sweeps": [2]}, None),
    ({"heldout_sweeps": [0, 1, 2]}, "sweeps selects no sweep \\('steps.npz' has 3 sweep\\(s\\): indices 0..2, "
                                    "labels \\['0', '1', '2'\\]\\)"),
    ({"sweeps": [0, 1], "heldout_sweeps": [1]}, "share \\[1\\].*has 3 sweep\\(s\\)"),
    ({"sweeps": [5]}, "sweep 5 does not exist; this recording has 3 \\(0..2, labels \\[.0., .1., .2.\\]\\)"),
])
def test_sweep_selections_default_sensibly_and_impossible_ones_name_the_sweeps(tmp_path, data, message):
    _steps(tmp_path / "steps.npz")
    config = config_from_dict({**MODEL, "data": {"path": "steps.npz", **data}}, base_dir=tmp_path)
    if message is None:
        train, held = config.load_data()
        assert train.n_trajectories == 1 and held.n_trajectories == 1
        assert held.y[0, 0, 0] != train.y[0, 0, 0]
    else:
        with pytest.raises((ConfigError, DataError), match=message):
            config.load_data()


@pytest.mark.parametrize("data, message", [
    ({"sweeps": 2}, "\\[data\\] sweeps = 2: give a list of sweep indices or labels"),
    ({"heldout_sweeps": [True]}, "\\[data\\] heldout_sweeps = \\[True\\]: give a list"),
    ({"decimate": 2.5}, "\\[data\\] decimate = 2.5: give a whole number >= 1"),
    ({"channel": -1}, "\\[data\\] channel = -1: give a whole number >= 0"),
    ({"start": 500.0, "stop": 100.0}, "start = 500.0 is not before stop = 100.0"),
    ({"stop": "1s"}, "\\[data\\] stop = '1s': give a time"),
    ({"units": {"V": "mv"}}, "Did you mean `mV`"),
    ({"time_unit": "mV"}, "time_unit = 'mV' is not a unit of time"),
    ({"heldout_path": 3}, "\\[data\\] heldout_path = 3: give text"),
])
def test_recording_options_are_checked_before_any_file_is_read(data, message):
    """The recording does not exist: the config is refused before anyone looks for it."""
    for raw in (MODEL, {"cell": {"threshold": -20.0}}):
        with pytest.raises(ConfigError, match=message):
            config_from_dict({**raw, "data": {"path": "missing.abf", **data}})
