"""The examples in examples/ run, scaled down, and find the right equation."""

import runpy
from pathlib import Path

import sympy as sp

EXAMPLES = Path(__file__).parents[1] / "examples"


def test_quickstart_runs_and_recovers_cubic(capsys):
    namespace = runpy.run_path(str(EXAMPLES / "quickstart.py"), run_name="testing")
    v = sp.Symbol("v", real=True)
    assert set(namespace["result"].discovered.discovered["v"].as_coefficients_dict()) == {v, v**3}
    assert "held-out R² of v" in capsys.readouterr().out
