import json

import sympy as sp

from discover import EquationSystem
from discover.cli import main

SMALL = """
[data]
example = "fitzhugh_nagumo"
n_train = 3
n_heldout = 1
duration = 60.0
[model]
equations = ["dv/dt = -w + I", "dw/dt = (v + a - b*w)/tau"]
inputs = ["I"]
parameters = { a = 0.7, b = 0.8, tau = 12.5 }
[residual]
v = ["v", "w"]
[training]
iterations = 100
lbfgs_iterations = 10
[distill.symbolic]
max_evaluations = 30000
[output]
directory = "out"
"""


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
