"""`discover run` on a current-clamp recording in NWB: the cell workflow end to end."""

import json

import numpy as np
import pytest
import sympy as sp

from discover.cli import main
from discover.recordings import Recording, write_nwb
from tests.helpers import steps

# a whole cell run (training, distillation, spike-time check): ~55-75 s on 2 cores
pytestmark = pytest.mark.slow

CONFIG = """
[data]
path = "cell.nwb"
sweeps = [0, 1, 3]
heldout_sweeps = [2]

[cell]
threshold = -30.0

[training]
iterations = {iterations}
substeps = 2
seed = 0

[distill]
backends = ["sparse"]

[distill.sparse]
library = ["polynomial", "exp"]
degree = 2
"""


@pytest.fixture(scope="module")
def cell_run(tmp_path_factory):
    """Four sweeps of a simulated exponential integrate-and-fire cell, written as NWB (V in volts,
    I in amperes, t in seconds, as NWB stores them), fitted on three and validated on the fourth."""
    folder = tmp_path_factory.mktemp("cell")
    data = steps(4, seed=1)
    rec = Recording(data.t * 1e-3, {"V": data.y[..., 0], "I": data.u[..., 0]}, {"V": "mV", "I": "pA"}, "s")
    write_nwb(rec.in_units("s", V="V", I="A"), folder / "cell.nwb")
    (folder / "cell.toml").write_text(CONFIG.format(iterations=300))
    code = main(["run", str(folder / "cell.toml"), "--out", str(folder / "results"), "--quiet"])
    assert code == 0
    return folder / "results"


def test_cell_run_recovers_the_exponential_spike_initiation(cell_run):
    """The true residual is gL dT/C exp((V - VT)/dT) = 0.1 exp((V + 50)/2) mV/ms (dT = 2 mV).

    One exponential and nothing else must come out. The network smooths the sharp exponential
    near threshold, so its slope comes out 10-30 % shallow (dT 2.2-2.6 mV in development runs):
    dT is held to 35 %, and the term's size at -45 mV, where it decides whether a spike starts,
    to 20 %."""
    system = json.loads((cell_run / "equations.json").read_text())["discovered"]
    assert system["spike"]["threshold"] == -30.0 and system["states"] == ["V"]
    # the passive part is estimated, not given: C = 100 pF, gL = 5 nS, EL = -65 mV in the simulation
    params = {p["name"]: p["value"] for p in system["parameters"]}
    assert params["C"] == pytest.approx(100, rel=0.05) and params["gL"] == pytest.approx(5, rel=0.05)
    V = sp.Symbol("V", real=True)
    term = sp.sympify(system["discovered"]["V"], locals={"V": V})
    a, b = sp.Wild("a", exclude=[V]), sp.Wild("b", exclude=[V])
    match = term.match(a * sp.exp(b * V))
    assert match is not None, f"not a single exponential: {term}"
    assert 1 / float(match[b]) == pytest.approx(2.0, rel=0.35), term
    assert float(term.subs(V, -45.0)) == pytest.approx(0.1 * np.exp(2.5), rel=0.2), term


def test_cell_run_predicts_held_out_spike_times(cell_run):
    metrics = json.loads((cell_run / "metrics.json").read_text())
    gamma = {model: m["V"]["gamma"] for model, m in metrics["heldout"].items()}
    assert gamma["discovered"] > gamma["known only"] + 0.25, gamma
