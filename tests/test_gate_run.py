"""A config's [gate]: read and checked (fast), and run end to end from the command line (slow)."""

import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

from discover import ConfigError, config_from_dict, load_config
from discover._gate_run import gate_keywords
from discover.distill import distill_gate
from discover.ude import GateKinetics

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "hidden_gate.toml"
DATA = {"example": "morris_lecar", "n_train": 2, "n_heldout": 1, "duration": 300.0}
MODEL = {"library": "morris_lecar"}


def test_the_example_config_is_a_gate_run_and_hides_the_gate():
    config = load_config(EXAMPLE)
    assert config.gate["name"] == "w" and config.residual == {}
    small = config_from_dict({"data": DATA, "model": MODEL, "gate": {"name": "w"}})
    system, train, heldout = small.prepare()
    assert train.states == heldout.states == ("V",) and train.inputs == ("I",)  # w is dropped from the data
    assert system.residuals == {} and system.states == ("V", "w")


def test_gate_keys_are_the_estimator_s_and_the_distiller_s_keywords():
    """The config passes [gate]'s keys to GateKinetics and distill_gate: every keyword of each is a key."""
    own = [p for p in inspect.signature(GateKinetics.__init__).parameters if p not in ("self", "system", "gate",
                                                                                        "voltage")]
    forms = [p for p in inspect.signature(distill_gate).parameters if p != "estimator"]
    assert list(gate_keywords()) == own + forms


@pytest.mark.parametrize("raw, message", [
    ({"gate": {"name": "x"}}, "[gate] name = 'x' is not a state of the model ['V', 'w']"),
    ({"gate": {"name": "W"}}, "Did you mean `w`?"),
    ({"gate": {"name": "w", "voltage": "w"}}, "name and voltage are both 'w'"),
    ({"gate": {"name": "w", "stpes": 10}}, "stpes"),
    ({"gate": {}}, "[gate] name = None: give the state whose kinetics are learned"),
    ({"gate": "w"}, "[gate] must be a table"),
    ({"gate": {"name": "w"}, "residual": {"V": ["V"]}}, "remove [residual]"),
    ({"gate": {"name": "w"}, "training": {"iterations": 5}}, "remove [training]"),
    ({"gate": {"name": "w"}, "cell": {}}, "[cell] and [gate] are two kinds of run"),
])
def test_bad_gate_configs_are_clear_errors(raw, message):
    with pytest.raises(ConfigError) as info:
        config_from_dict({"data": DATA, "model": MODEL, **raw})
    assert message in str(info.value)


def test_a_gate_run_cannot_resume(capsys):
    from discover.cli import main

    assert main(["run", str(EXAMPLE), "--resume", "--out", "never"]) == 2
    assert "a [gate] run has no checkpoint" in capsys.readouterr().err


@pytest.mark.slow  # about 2 minutes on 2 cores: training, every closed form screened and refitted
def test_the_hidden_gate_example_runs_from_the_command_line_and_exports(tmp_path):
    """`discover run examples/hidden_gate.toml` on three 600 ms sweeps: w comes back as a Boltzmann
    with a bell-shaped tau near the generating numbers, the closed form predicts the held-out spikes,
    the reports rebuild from the folder's files, and the model exports and runs in Python."""
    from discover.cli import main

    text = EXAMPLE.read_text().replace("n_train = 5", "n_train = 3").replace("n_heldout = 2", "n_heldout = 1")
    config = tmp_path / "gate.toml"
    config.write_text(text.replace("seed = 0\n\n[model]", "seed = 0\nduration = 600.0\n\n[model]")
                      .replace("steps = 600", "steps = 300"))
    out = tmp_path / "out"
    assert main(["run", str(config), "--out", str(out), "--quiet"]) == 0
    record = json.loads((out / "metrics.json").read_text())
    assert record["chosen"]["label"] == "x_inf Boltzmann, tau bell"
    values = record["chosen"]["values"]  # generating: V_half 2, k 15, tau_max 25, tau's midpoint 2, width 60
    assert values["Vh"] == pytest.approx(2.0, abs=1.0) and values["k"] == pytest.approx(15.0, rel=0.03)
    assert values["tau_max"] == pytest.approx(25.0, rel=0.05) and values["tau_s"] == pytest.approx(60, rel=0.1)
    held = record["heldout"]["discovered"]["V"]
    assert held["gamma"] >= 0.9 and held["r2"] > 0.95
    report = (out / "report.md").read_text()
    assert "x_inf Boltzmann, tau bell" in report and "Re-simulation of held-out sweeps" in report
    assert main(["report", str(out), "--force", "--quiet"]) == 0  # from the folder's files alone
    assert (out / "report.md").read_text() == report
    assert main(["export", str(out), "--to", "python"]) == 0
    exported = sorted(p.name for p in (out / "export" / "python").iterdir())
    assert exported == ["morris_lecar_discovered.py"]  # the closed form only: the model as given is not a result
    ran = subprocess.run([sys.executable, str(out / "export" / "python" / exported[0])], capture_output=True,
                         text=True, check=True)
    assert "final state: V = " in ran.stdout
