"""A gate's reports are rendered from its results folder's files alone (what `discover report` does)."""

import json

import numpy as np
import pytest

from discover import ConfigError
from discover.models import get_model
from discover.report import write_reports
from tests.helpers import gate_systems


def gate_folder(folder):
    """The files `write_gate_results` writes for Morris-Lecar's w, with one held-out row per model."""
    system = gate_systems()["morris_lecar_w"][0]
    values = {"Vh": 2.0, "k": 15.0, "tau_max": 25.0, "tau_V": 2.0, "tau_s": 60.0}
    chosen = {"label": "x_inf Boltzmann, tau bell", "size": 5, "loss": 2e-4, "curve_error": 0.01, "values": values,
              "errors": {**dict.fromkeys(values, 0.05), "tau_V": None}}
    other = {**chosen, "label": "x_inf Boltzmann, tau constant", "size": 3, "loss": 3e-4}
    held = {m: {"V": {"rmse": 0.3, "nrmse": 0.01, "r2": 0.9998, "horizon": 1000.0, "gamma": g}}
            for m, g in (("networks", 0.95), ("discovered", 1.0))}
    record = {"gate": "w", "voltage": "V", "chosen": chosen, "forms": [other, chosen], "voltage_range": [-60, 30],
              "training": {"steps": 10, "final_loss": 1e-3, "seconds": 1.0}, "heldout": held}
    folder.mkdir()
    (folder / "metrics.json").write_text(json.dumps(record))
    (folder / "equations.json").write_text(json.dumps({"known": get_model("morris_lecar").to_dict(),
                                                       "discovered": system.to_dict()}))
    v = np.linspace(-60, 30, 50)
    x_inf, tau = 1 / (1 + np.exp((2 - v) / 15)), 25 / np.cosh((v - 2) / 60)
    np.savez(folder / "gate_curves.npz", v=v, networks_x_inf=x_inf, networks_tau=tau, closed_form_x_inf=x_inf,
             closed_form_tau=tau)
    return folder


def test_a_gate_folder_s_reports_come_from_its_files(tmp_path):
    folder = gate_folder(tmp_path / "gate")
    written = write_reports(folder)  # dispatches to the gate's reports
    assert sorted(p.name for p in written) == ["equations.tex", "report.html", "report.md", "report.tex"]
    report = (folder / "report.md").read_text()
    assert report.startswith("# Gate w: x_inf Boltzmann, tau bell")
    assert "| tau_V | 2 | held |" in report and "| Vh | 2 | 0.05 |" in report
    assert "| discovered | V | 0.3 | 0.010 | 0.9998 | 1000 | 1.000 |" in report
    assert "x_inf Boltzmann, tau bell (chosen)" in report and (folder / "figures" / "gate.png").is_file()
    tex, equations = (folder / "report.tex").read_text(), (folder / "equations.tex").read_text()
    assert "Re-simulation of held-out data" in tex and "Re-simulation" not in equations  # equations.tex: the model
    with pytest.raises(ConfigError, match="pass --force to rebuild the reports"):
        write_reports(folder)
