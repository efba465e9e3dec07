import json

import pytest
import sympy as sp

from discover import EquationSystem
from discover.cli import main
from tests.helpers import SMALL_CONFIG as SMALL


@pytest.mark.slow  # a whole run through the CLI: ~45 s; the wiring is checked without training below
def test_run_writes_results_and_refuses_to_overwrite(tmp_path, capsys):
    config = tmp_path / "fhn.toml"
    config.write_text(SMALL)
    assert main(["run", str(config), "--quiet", "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert "dv/dt = I - w + [" in printed and "discovered" in printed
    out = tmp_path / "out"
    for name in ("equations.json", "equations.tex", "metrics.json", "figures/resimulation.png", "summary.txt",
                 "report.html", "report.md", "report.tex"):
        assert (out / name).is_file(), name
    saved = EquationSystem.from_dict(json.loads((out / "equations.json").read_text())["discovered"])
    v = sp.Symbol("v", real=True)
    assert set(saved.discovered["v"].as_coefficients_dict()) == {v, v**3}
    assert "underbrace" in (out / "equations.tex").read_text()
    assert not (tmp_path / ".out.checkpoint").exists()  # training checkpoints go once the run succeeds
    before = (out / "metrics.json").read_text()
    assert main(["run", str(config), "--quiet", "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert (out / "metrics.json").read_text() == before  # user output untouched


def test_bad_config_exits_with_message(tmp_path, capsys):
    config = tmp_path / "bad.toml"
    config.write_text(SMALL.replace("[training]", "[trainig]"))
    assert main(["run", str(config)]) == 2
    assert "Did you mean `training`" in capsys.readouterr().err



def _discovered(out):
    saved = json.loads((out / "equations.json").read_text())["discovered"]
    metrics = json.loads((out / "metrics.json").read_text())
    return str(EquationSystem.from_dict(saved)), metrics["heldout"]


def _ctrl_c_at_step(step, monkeypatch):
    """Raise KeyboardInterrupt at the given Adam step, as Ctrl-C would."""
    from discover.integrate import Windows

    real, calls = Windows.sample, {"n": 0}

    def interrupted(self, rng, size):
        calls["n"] += 1
        if calls["n"] == step:
            raise KeyboardInterrupt
        return real(self, rng, size)

    monkeypatch.setattr(Windows, "sample", interrupted)


@pytest.mark.slow  # about 2-3 minutes on 2 cores: two whole runs and an interrupted one
def test_interrupted_run_resumes_to_the_uninterrupted_result(tmp_path, capsys, monkeypatch):
    config = tmp_path / "fhn.toml"
    config.write_text(SMALL.replace("[training]", "[training]\ncheckpoint_every = 20"))
    assert main(["run", str(config), "--quiet", "--out", str(tmp_path / "whole")]) == 0
    out = tmp_path / "run"
    with monkeypatch.context() as patch:
        _ctrl_c_at_step(50, patch)
        assert main(["run", str(config), "--quiet", "--out", str(out)]) == 130
    assert "--resume" in capsys.readouterr().err
    assert not out.exists() and (tmp_path / ".run.checkpoint" / "ude.pt").is_file()
    assert main(["run", str(config), "--quiet", "--out", str(out), "--resume"]) == 0
    assert "resumed at Adam step 40" in capsys.readouterr().out
    assert _discovered(out) == _discovered(tmp_path / "whole")
    assert not (tmp_path / ".run.checkpoint").exists()


def test_resume_refuses_a_checkpoint_from_a_different_config(tmp_path, capsys, monkeypatch):
    config = tmp_path / "fhn.toml"
    config.write_text(SMALL.replace("[training]", "[training]\ncheckpoint_every = 10"))
    out = tmp_path / "run"
    with monkeypatch.context() as patch:
        _ctrl_c_at_step(15, patch)
        assert main(["run", str(config), "--quiet", "--out", str(out)]) == 130
    config.write_text(SMALL.replace("[training]", "[training]\ncheckpoint_every = 10\nlearning_rate = 0.02"))
    assert main(["run", str(config), "--quiet", "--out", str(out), "--resume"]) == 2
    err = capsys.readouterr().err
    assert "different model, data or training settings" in err and "--resume" in err
    assert not out.exists()


def test_run_refuses_a_folder_that_holds_files_before_any_work(tmp_path, capsys):
    # the wiring of `discover run`, without training: a results folder that holds files is refused at once,
    # before the data are read (a config naming a file that does not exist would fail later)
    config = tmp_path / "fhn.toml"
    config.write_text(SMALL.replace('example = "fitzhugh_nagumo"', 'path = "missing.npz"'))
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("user output")
    assert main(["run", str(config), "--quiet", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--force" in err and str(out) in err
    assert (out / "mine.txt").read_text() == "user output"
    assert main(["run", str(config), "--quiet", "--out", str(tmp_path / "new")]) == 2
    assert "missing.npz" in capsys.readouterr().err and not (tmp_path / "new").exists()
