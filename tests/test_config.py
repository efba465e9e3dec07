from pathlib import Path

import numpy as np
import pytest
import tomllib

from discover import ConfigError, config_from_dict, load_config
from discover._config import DEMO_CONFIG

EXAMPLE = Path(__file__).parents[1] / "examples" / "fitzhugh_nagumo.toml"


def test_example_config_is_the_demo():
    assert tomllib.loads(EXAMPLE.read_text()) == DEMO_CONFIG
    config = load_config(EXAMPLE)
    assert set(config.build_system().residuals) == {"v"}


def _with(section, key, value):
    raw = {k: dict(v) for k, v in DEMO_CONFIG.items()}
    raw[section][key] = value
    return raw


@pytest.mark.parametrize(
    "raw, message",
    [
        (_with("data", "nosie", 0.1), "Did you mean `noise`"),
        (_with("model", "equations", ["dv/dt = -w + I + open('x')", "dw/dt = v"]), "open"),
        (_with("residual", "v", "v,w"), "list of feature names"),
        (_with("residual", "x", ["v"]), "unknown state 'x'"),
        (_with("model", "parameters", {"a": "big"}), "parameter a"),
        ({"data": {"example": "fitzhugh_nagumo"}}, "no \\[model\\] section"),
        ({**DEMO_CONFIG, "trainig": {}}, "Did you mean `training`"),
        (_with("distill", "selection", 0.7), "selection must be a fraction in \\[0, 0.5\\)"),
        (_with("distill", "refit_candidates", -1), "refit_candidates must be a whole number >= 0"),
        (_with("distill", "refit_candidates", 2.5), "refit_candidates must be a whole number >= 0"),
        (_with("distill", "joint", "false"), "joint must be true or false, got 'false'"),
        (_with("distill", "sparse", {"library": ["gates"]}), "Did you mean `gate`"),
        (_with("distill", "sparse", {"libary": ["exp"]}), "Did you mean `library`"),
        (_with("distill", "route", "drect"), "Did you mean `direct`"),
        (_with("model", "states", ["v", "w"]), "needs exactly one of `library`"),
        ({"data": {"example": "fitzhugh_nagumo"}, "model": {"states": "v w"}}, "give the state names as a list"),
        ({"data": {"example": "fitzhugh_nagumo"}, "model": {"states": ["v"], "parameters": {"a": 1.0}}},
         "unknown key 'parameters' in \\[model\\] with `states`"),
        ({"data": {"example": "fitzhugh_nagumo"}, "model": {"equations": ["dv/dt = -v"]}}, "no \\[residual\\] section"),
        (_with("data", "hidden", "w"), "hidden = 'w': give the names .* as a list"),
        (_with("data", "hidden", ["W"]), "'W', which is not a state of the model .*Did you mean `w`"),
        (_with("data", "hidden", ["v"]), "'v', which has a \\[residual\\]"),
    ],
)
def test_bad_configs_are_clear_errors(raw, message):
    with pytest.raises(ConfigError, match=message):
        config_from_dict(raw)


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "none.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[data\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)


def test_npz_data_with_heldout_split(tmp_path):
    from discover import example_data

    train, _ = example_data(n_train=3, n_heldout=1, duration=5.0)
    train.save_npz(tmp_path / "d.npz")
    raw = {k: dict(v) for k, v in DEMO_CONFIG.items()}
    raw["data"] = {"path": "d.npz", "heldout": 1}
    tr, held = config_from_dict(raw, base_dir=tmp_path).load_data()
    assert (tr.n_trajectories, held.n_trajectories) == (2, 1)
    raw["data"] = {"path": "d.npz", "heldout": 3}
    with pytest.raises(ConfigError, match="hold out at least one"):
        config_from_dict(raw, base_dir=tmp_path).load_data()


def test_hidden_states_are_left_out_of_the_data_and_others_must_be_there(tmp_path):
    from discover import Trajectories, example_data

    train, _ = example_data(n_train=3, n_heldout=1, duration=5.0)
    raw = {k: dict(v) for k, v in DEMO_CONFIG.items()}
    raw["residual"] = {"v": ["v"]}
    raw["data"] = {**raw["data"], "hidden": ["w"]}
    tr, held = config_from_dict(raw).load_data()  # built-in data record w: dropped
    assert tr.states == held.states == ("v",) and tr.y.shape[-1] == 1
    Trajectories(train.t, train.y[..., :1], train.u, ("v",), train.inputs).save_npz(tmp_path / "v.npz")
    raw["data"] = {"path": "v.npz", "heldout": 1}
    with pytest.raises(ConfigError, match=r"no state \['w'\] .* declare \[data\] hidden = \['w'\]"):
        config_from_dict(raw, base_dir=tmp_path).load_data()
    raw["data"]["hidden"] = ["w"]
    tr, held = config_from_dict(raw, base_dir=tmp_path).load_data()
    assert (tr.states, tr.n_trajectories, held.n_trajectories) == (("v",), 2, 1)


@pytest.mark.parametrize(
    "distill, message",
    [
        ({"backends": ["sindy"]}, "not one of"),
        ({"sparse": {"degre": 3}}, "Did you mean `degree`"),
        ({"symbolic": {"max_evaluation": 3}}, "Did you mean `max_evaluations`"),
        ({"choose_by": "magic"}, "choose_by"),
        ({"refti": True}, "Did you mean `refit`"),
    ],
)
def test_bad_distill_options_fail_before_training(distill, message):
    from discover import discover, example_data
    from tests.helpers import fhn_known

    train, heldout = example_data(n_train=1, n_heldout=1, duration=5.0)
    with pytest.raises(ConfigError, match=message):
        discover(train, fhn_known(), heldout, distill=distill)


def test_library_model_with_removed_terms_and_overrides():
    raw = {k: dict(v) for k, v in DEMO_CONFIG.items()}
    raw["model"] = {"library": "fitzhugh_nagumo", "remove": {"v": ["v", "-v**3/3"]}, "parameters": {"a": 0.75}}
    system = config_from_dict(raw).build_system()
    assert str(system.equation("v")) == "I - w + U_v(v, w)"
    assert system.parameter_values["a"] == 0.75
    raw["model"] = {"library": "fitzhugh_nagumo", "remove": {"v": ["v**2"]}}
    with pytest.raises(ConfigError, match="not in dv/dt"):
        config_from_dict(raw)
    raw["model"] = {"library": "fitzhugh_nagumo", "inputs": ["I"]}
    with pytest.raises(ConfigError, match="with `library`"):
        config_from_dict(raw)


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"data": {"path": "cell.nwb"}, "cell": {"model": "ude"}}, "needs `threshold`"),
        ({"data": {"path": "cell.nwb"}, "cell": {"model": "gf"}}, "Did you mean `gif`"),
        ({"data": {"path": "cell.nwb"}, "cell": {"model": "gif", "threshold": -30.0}},
         'threshold set\\(s\\) the model = "ude" workflow'),
        ({"data": {"path": "cell.nwb"}, "cell": {}, "training": {"iterations": 5}}, "\\[training\\] set"),
        ({"data": {"path": "cell.nwb"}, "cell": {"slope": -2}}, "slope = -2: give the onset dV/dt"),
        ({"data": {"path": "cell.nwb"}, "cell": {"runs": 1}}, "runs = 1: give a whole number >= 2"),
        ({"data": {"path": "cell.nwb"}, "cell": {"electrode": 3}}, "electrode = 3: give the path"),
        ({"data": {"path": "cell.nwb"}, "cell": {"threshold": "high"}}, "threshold = 'high': give a number"),
        ({"data": {"path": "cell.nwb"}, "cell": {"threshold": -30.0, "treshold": 1}}, "Did you mean `threshold`"),
        ({"data": {"path": "cell.nwb"}, "cell": {"threshold": -30.0, "features": ["w"]}}, "features = \\['w'\\]"),
        ({"data": {"path": "cell.nwb"}, "cell": {"threshold": -30.0}, "model": {}}, "remove \\[model\\]"),
        ({"data": {"example": "fitzhugh_nagumo"}, "cell": {"threshold": -30.0}}, "needs \\[data\\] path"),
        ({"data": {"path": "cell.nwb", "sweep": [1]}, "cell": {"threshold": -30.0}}, "Did you mean `sweeps`"),
    ],
)
def test_bad_cell_configs_are_clear_errors(raw, message):
    with pytest.raises(ConfigError, match=message):
        config_from_dict(raw)


def test_recording_sweeps_must_not_overlap(tmp_path):
    from discover.recordings import Recording, write_nwb

    t = np.arange(100) * 1e-4
    write_nwb(Recording(t, {"V": np.full((3, 100), -0.065), "I": np.zeros((3, 100))}, {"V": "V", "I": "A"}),
              tmp_path / "cell.nwb")
    config = config_from_dict({"data": {"path": "cell.nwb", "sweeps": [0, 1], "heldout_sweeps": [1]},
                               "cell": {"threshold": -30.0}}, base_dir=tmp_path)
    with pytest.raises(ConfigError, match="share \\[1\\]"):
        config.prepare()


def test_no_prior_model_from_state_names_alone():
    """With `states` and no [residual], every right-hand side is learned from every state and input."""
    config = config_from_dict({"data": {"example": "fitzhugh_nagumo"},
                               "model": {"states": ["v", "w"], "inputs": ["I"]}})
    system = config.build_system()
    assert system.states == ("v", "w") and set(system.residuals) == {"v", "w"}
    assert system.residual_features("v") == ("v", "w", "I")
    assert system.without_residuals().rhs == (0, 0)


def test_no_prior_example_config_loads():
    config = load_config(EXAMPLE.parent / "no_prior.toml")
    assert set(config.build_system().residuals) == set(config.build_system().states)
    assert config.distill["route"] == "auto"


def test_missing_units_fix_is_toml_in_a_config_and_python_in_the_api(tmp_path):
    from discover import DataError
    from discover.recordings import read_recording

    np.savez(tmp_path / "cell.npz", t=np.arange(50.0), V=np.zeros((2, 50)), I=np.zeros((2, 50)))
    raw = {"data": {"path": "cell.npz"}, "cell": {"threshold": -20.0}}
    with pytest.raises(DataError) as info:
        config_from_dict(raw, base_dir=tmp_path).load_data()
    message = str(info.value)
    assert '[data] units = { V = "mV", I = "pA" }' in message and '[data] time_unit = "s"' in message
    assert "{'V'" not in message
    with pytest.raises(DataError, match="units=\\{'V': 'mV', 'I': 'pA'\\}.*time_unit='s'"):
        read_recording(tmp_path / "cell.npz")
    raw["data"]["units"] = {"V": "mV", "I": "pA"}
    with pytest.raises(DataError, match='does not say the unit of `t`; give \\[data\\] time_unit = "s"'):
        config_from_dict(raw, base_dir=tmp_path).load_data()


@pytest.mark.parametrize("training, message", [
    ({"iterations": 1e12}, "\\[training\\] `iterations` must be an integer >= 0, got 1000000000000.0.*"
                           "TOML reads iterations = 1e\\+12 as a float.*e.g. iterations = 600"),
    ({"learning_rate": -1.0}, "\\[training\\] `learning_rate` must be a positive number"),
    ({"solver": "euler"}, "\\[training\\] `solver`='euler' is not one of"),
    ({"window": 20, "stride": 3}, "\\[training\\] `stride`=3 must divide `window`=20"),
])
def test_training_values_are_checked_before_any_data_are_read(training, message):
    """The data file does not exist: the config is refused before anyone looks for it."""
    for raw in ({**DEMO_CONFIG, "data": {"path": "missing.npz"}, "training": training},
                {"data": {"path": "missing.abf"}, "cell": {"threshold": -20.0}, "training": training}):
        with pytest.raises(ConfigError, match=message):
            config_from_dict(raw)


def test_a_training_budget_that_cannot_finish_warns():
    with pytest.warns(UserWarning, match="iterations = 1000000000000 .* would run for about 1.16e\\+05 days"):
        config_from_dict({**DEMO_CONFIG, "training": {"iterations": 10**12}})
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        config_from_dict({**DEMO_CONFIG, "training": {"iterations": 100000}})  # 17 minutes: no warning
