"""The results folder of a learned gate: the model (LaTeX, text), the chosen form with its standard
errors and every form tried, the networks' and the closed form's x_inf(V) and tau(V), metrics.json."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .._files import atomic_write
from ..data import Trajectories
from ._bundle import save_predictions
from ._gate_reports import write_gate_reports
from ._results import write_folder


def gate_record(estimator, distilled, heldout: Mapping | None = None) -> dict:
    """What metrics.json holds for a learned gate: the chosen form, every form tried, the training
    summary and, where given, held-out scores."""
    def form(f) -> dict:
        return {"label": f.label, "size": f.size, "loss": f.loss, "curve_error": f.curve_error,
                "values": f.values, "errors": {k: (None if math.isnan(e) else e) for k, e in f.errors.items()}}
    fit = estimator.fit_
    return {"gate": distilled.gate, "voltage": estimator.voltage, "chosen": form(distilled.chosen),
            "forms": [form(f) for f in distilled.forms], "voltage_range": list(fit.voltage_range),
            "training": {"steps": len(fit.losses), "final_loss": fit.losses[-1] if fit.losses else None,
                         "seconds": fit.seconds},
            "heldout": heldout or {}}


def gate_curves(estimator, distilled, truth=None) -> dict[str, np.ndarray]:
    """x_inf(V) and tau(V) over the visited voltages: the networks', the chosen closed form's and,
    where the generating curves are known (`truth(v) -> (x_inf, tau)`), those (gate_curves.npz)."""
    low, high = estimator.fit_.voltage_range
    v = np.linspace(low, high, 200)
    curves = {"v": v}
    for name, (x_inf, tau) in (("networks", estimator.curves(v)), ("closed_form", distilled.curves(v)),
                               *((("generating", truth(v)),) if truth is not None else ())):
        curves[f"{name}_x_inf"], curves[f"{name}_tau"] = np.asarray(x_inf, float), np.asarray(tau, float)
    return curves


def write_gate_results(estimator, distilled, path: str | Path, *, heldout: Mapping | None = None,
                       data: Trajectories | None = None, predictions: Mapping[str, np.ndarray] | None = None,
                       truth=None, force: bool = False) -> Path:
    """A results folder for a learned gate, written whole or not at all (see `write_folder`):
    metrics.json (`heldout`: held-out metrics, model -> state -> metrics), equations.json (the model
    as given and with the closed form), gate_curves.npz, equations.tex, report.tex/.html/.md and
    figures/gate.png (and .svg). With the held-out `data` and each model's re-simulation of them
    (`predictions`, recorded states), data_heldout.npz and predictions.npz too: then
    `discover export` runs the model in the simulators and `discover report` rebuilds the reports."""
    record = gate_record(estimator, distilled, heldout)
    equations = {"known": estimator.system.to_dict(), "discovered": distilled.system.to_dict()}

    def fill(folder: Path) -> None:
        atomic_write(folder / "metrics.json", json.dumps(record, indent=2, default=float))
        atomic_write(folder / "equations.json", json.dumps(equations, indent=2))
        np.savez(folder / "gate_curves.npz", **gate_curves(estimator, distilled, truth))  # type: ignore[arg-type]
        if data is not None:
            data.save_npz(folder / "data_heldout.npz")
            save_predictions(predictions or {}, folder)
        write_gate_reports(folder, force=True)  # a fresh folder: nothing of the user's to replace
    return write_folder(path, fill, force)
