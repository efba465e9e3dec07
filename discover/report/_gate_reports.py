"""The reports of a learned gate's results folder (`write_gate_results`), read from its files only:
metrics.json (the chosen form, every form tried, held-out metrics), equations.json and gate_curves.npz."""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .._errors import DataError
from .._files import atomic_write
from .._npz import open_npz
from ..equations import EquationSystem
from ._figures import _label, _plt, _save
from ._latex import document_latex
from ._tables import _CSS, html_table, markdown_table, metric_columns, metric_rows, refuse_existing_reports


def is_gate_folder(folder: str | Path) -> bool:
    """Whether `folder` holds a learned gate's results (`write_gate_results`)."""
    return (Path(folder) / "gate_curves.npz").is_file()


def write_gate_reports(folder: str | Path, force: bool = False) -> list[Path]:
    """report.tex/.html/.md, equations.tex and figures/gate.* of a gate's results folder, read from
    its files only (metrics.json, equations.json, gate_curves.npz)."""
    folder = Path(folder)
    refuse_existing_reports(folder, force)
    try:
        record = json.loads((folder / "metrics.json").read_text())
        equations = json.loads((folder / "equations.json").read_text())
        known, system = (EquationSystem.from_dict(equations[k]) for k in ("known", "discovered"))
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise DataError(f"could not read the gate results in {str(folder)!r} ({type(exc).__name__}: {exc}).") \
            from None
    with open_npz(folder / "gate_curves.npz") as f:
        curves = {k: f[k] for k in f.files}
    figure = _figure(curves, record, known, folder / "figures")
    held = record.get("heldout") or {}
    columns = metric_columns(known.time_unit, held) if _is_metrics(held) else []
    notes = [f"Gate {record['gate']}: kinetics learned from {record['voltage']} alone, distilled to "
             f"{record['chosen']['label']}."]
    texts = {"equations.tex": document_latex(system, known, notes=notes),
             "report.tex": document_latex(system, known, metrics=held if columns else None, notes=notes,
                                          columns=[(k, lh, f) for k, _, lh, f in columns],
                                          figures=[(f"figures/{figure}", "x_inf and tau")]),
             "report.md": _markdown(system, record, columns, figure),
             "report.html": _html(system, record, columns, folder / "figures" / figure)}
    return [atomic_write(folder / name, text) for name, text in texts.items()]


def _is_metrics(held: Mapping) -> bool:
    """Whether `held` is model -> state -> metrics (a run's), not free-form scores (an example's)."""
    return bool(held) and all(isinstance(m, Mapping) and all(isinstance(x, Mapping) for x in m.values())
                              for m in held.values())


def _figure(curves: Mapping[str, np.ndarray], record: Mapping, known: EquationSystem, folder: Path) -> str:
    """x_inf(V) and tau(V): the networks (dashed), the chosen closed form (solid) and, where known,
    the generating curves (dotted)."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    names = {"networks": "networks", "closed_form": f"closed form ({record['chosen']['label']})",
             "generating": "generating"}
    for (key, label), style in zip(names.items(), ("--", "-", ":"), strict=True):
        if f"{key}_x_inf" in curves:
            axes[0].plot(curves["v"], curves[f"{key}_x_inf"], style, label=label)
            axes[1].plot(curves["v"], curves[f"{key}_tau"], style, label=label)
    gate, voltage = record["gate"], record["voltage"]
    axes[0].set_ylabel(f"{gate}_inf")
    axes[1].set_ylabel(f"tau_{gate} ({known.time_unit})")
    for ax in axes:
        ax.set_xlabel(_label(voltage, known.units.get(voltage, "")))
    axes[0].legend(fontsize=7)
    return _save(fig, folder, "gate")[0]


FORMS = ("form", "parameters", "loss")
PARAMETERS = ("parameter", "value", "standard error")


def _forms(record: Mapping) -> list[tuple[str, str, str]]:
    chosen = record["chosen"]["label"]
    return [(f["label"] + (" (chosen)" if f["label"] == chosen else ""), str(f["size"]), f"{f['loss']:.4g}")
            for f in record["forms"]]


def _parameters(record: Mapping) -> list[tuple[str, str, str]]:
    c = record["chosen"]
    return [(name, f"{value:.5g}", f"{c['errors'][name]:.2g}" if c["errors"].get(name) is not None else "held")
            for name, value in c["values"].items()]


def _held_out(record: Mapping, columns) -> tuple[list[str], list[list[str]]]:
    """The held-out table's header and rows (none where the run had no held-out data)."""
    return ["model", "state", *(h for _, h, _, _ in columns)], metric_rows(record.get("heldout") or {}, columns)


def _markdown(system, record: Mapping, columns, figure: str) -> str:
    header, rows = _held_out(record, columns)
    held = ["## Re-simulation of held-out sweeps, from rest", "", *markdown_table(header, rows), ""] if rows else []
    return "\n".join([
        f"# Gate {record['gate']}: {record['chosen']['label']}", "", "```", str(system), "```", "",
        *markdown_table(PARAMETERS, _parameters(record)), "", *held,
        "Every form refitted on the data (the smallest within 2 % of the best loss is chosen):", "",
        *markdown_table(FORMS, _forms(record)), "",
        f"![x_inf and tau](figures/{figure})", ""])


def _html(system, record: Mapping, columns, figure: Path) -> str:
    image = base64.b64encode(figure.read_bytes()).decode()
    e = html.escape
    header, rows = _held_out(record, columns)
    held = ("<h2>Re-simulation of held-out sweeps, from rest</h2>" + html_table(header, rows)) if rows else ""
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>Gate {e(record['gate'])}</title>"
            f"<style>{_CSS}</style></head>"
            f"<body><h1>Gate {e(record['gate'])}: {e(record['chosen']['label'])}</h1>"
            f"<pre>{e(str(system))}</pre>" + html_table(PARAMETERS, _parameters(record)) + held
            + "<h2>Every form refitted on the data</h2>" + html_table(FORMS, _forms(record))
            + f"<h2>x_inf and tau</h2><img alt='x_inf and tau' src='data:image/png;base64,{image}'></body></html>")
