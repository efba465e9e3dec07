"""The results folder of a learned gate: the model (LaTeX, text), the chosen form with its standard
errors and every form tried, the networks' and the closed form's x_inf(V) and tau(V), metrics.json."""

from __future__ import annotations

import base64
import html
import json
import math
from pathlib import Path

import numpy as np

from .._files import atomic_write
from ._documents import _CSS, html_table
from ._figures import _plt, _save
from ._latex import document_latex
from ._results import write_folder


def gate_record(estimator, distilled, heldout: dict | None = None) -> dict:
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


def gate_figure(estimator, distilled, folder: Path, truth=None) -> str:
    """x_inf(V) and tau(V): the networks (dashed), the chosen closed form (solid) and, where the
    generating curves are known (`truth(v) -> (x_inf, tau)`), those (dotted)."""
    plt = _plt()
    low, high = estimator.fit_.voltage_range
    v = np.linspace(low, high, 200)
    curves = {"networks": estimator.curves(v), f"closed form ({distilled.chosen.label})": distilled.curves(v)}
    if truth is not None:
        curves["generating"] = truth(v)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    unit = estimator.system.units.get(estimator.voltage, "")
    for (name, (x_inf, tau)), style in zip(curves.items(), ("--", "-", ":"), strict=False):
        axes[0].plot(v, x_inf, style, label=name)
        axes[1].plot(v, tau, style, label=name)
    axes[0].set_ylabel(f"{distilled.gate}_inf")
    axes[1].set_ylabel(f"tau_{distilled.gate} ({estimator.system.time_unit})")
    for ax in axes:
        ax.set_xlabel(f"{estimator.voltage} ({unit})" if unit else estimator.voltage)
    axes[0].legend(fontsize=7)
    return _save(fig, folder, "gate")[0]


def write_gate_results(estimator, distilled, path: str | Path, *, heldout: dict | None = None, truth=None,
                       force: bool = False) -> Path:
    """A results folder for a learned gate, written whole or not at all (see `write_folder`):
    equations.tex, report.tex/.html/.md, metrics.json and figures/gate.png (and .svg)."""
    record = gate_record(estimator, distilled, heldout)

    def fill(folder: Path) -> None:
        figure = gate_figure(estimator, distilled, folder / "figures", truth)
        chosen, system = distilled.chosen, distilled.system
        notes = [f"Gate {distilled.gate}: kinetics learned from {estimator.voltage} alone, distilled to "
                 f"{chosen.label}."]
        atomic_write(folder / "equations.tex", document_latex(system, estimator.system, notes=notes))
        atomic_write(folder / "report.tex", document_latex(system, estimator.system, notes=notes,
                                                           figures=[(f"figures/{figure}", "x_inf and tau")]))
        atomic_write(folder / "metrics.json", json.dumps(record, indent=2))
        atomic_write(folder / "report.md", _markdown(system, distilled, figure))
        atomic_write(folder / "report.html", _html(system, distilled, folder / "figures" / figure))
    return write_folder(path, fill, force)


FORMS = ("form", "parameters", "loss")
PARAMETERS = ("parameter", "value", "standard error")


def _forms(distilled) -> list[tuple[str, str, str]]:
    return [(f.label + (" (chosen)" if f is distilled.chosen else ""), str(f.size), f"{f.loss:.4g}")
            for f in distilled.forms]


def _parameters(distilled) -> list[tuple[str, str, str]]:
    c = distilled.chosen
    return [(name, f"{value:.5g}", f"{c.errors[name]:.2g}" if math.isfinite(c.errors[name]) else "held")
            for name, value in c.values.items()]


def _markdown_table(header, rows) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header), *("| " + " | ".join(r) + " |" for r in rows)]


def _markdown(system, distilled, figure: str) -> str:
    return "\n".join([
        f"# Gate {distilled.gate}: {distilled.chosen.label}", "", "```", str(system), "```", "",
        *_markdown_table(PARAMETERS, _parameters(distilled)), "",
        "Every form refitted on the data (the smallest within 2 % of the best loss is chosen):", "",
        *_markdown_table(FORMS, _forms(distilled)), "",
        f"![x_inf and tau](figures/{figure})", ""])


def _html(system, distilled, figure: Path) -> str:
    image = base64.b64encode(figure.read_bytes()).decode()
    e = html.escape
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>Gate {e(distilled.gate)}</title>"
            f"<style>{_CSS}</style></head>"
            f"<body><h1>Gate {e(distilled.gate)}: {e(distilled.chosen.label)}</h1>"
            f"<pre>{e(str(system))}</pre>" + html_table(PARAMETERS, _parameters(distilled))
            + "<h2>Every form refitted on the data</h2>" + html_table(FORMS, _forms(distilled))
            + f"<h2>x_inf and tau</h2><img alt='x_inf and tau' src='data:image/png;base64,{image}'></body></html>")
