"""The full `discover demo`, as a user runs it: slow (about 40 s), run by .ci/run."""

import json

import pytest
import sympy as sp

from discover import EquationSystem
from discover.cli import main


@pytest.mark.slow
def test_demo_recovers_cubic_within_3_percent(tmp_path, capsys):
    assert main(["demo", "--quiet", "--out", str(tmp_path / "demo")]) == 0
    saved = json.loads((tmp_path / "demo" / "equations.json").read_text())["discovered"]
    coefs = EquationSystem.from_dict(saved).discovered["v"].as_coefficients_dict()
    v = sp.Symbol("v", real=True)
    assert set(coefs) == {v, v**3}
    assert float(coefs[v]) == pytest.approx(1.0, rel=0.03)
    assert float(coefs[v**3]) == pytest.approx(-1 / 3, rel=0.03)
    metrics = json.loads((tmp_path / "demo" / "metrics.json").read_text())["heldout"]
    assert metrics["discovered"]["v"]["r2"] > 0.99
