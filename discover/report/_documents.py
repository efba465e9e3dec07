"""The three reports of a results folder: LaTeX (pdflatex), self-contained HTML, Markdown."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import sympy as sp

from .._files import atomic_write
from ._bundle import Results, load_results
from ._figures import make_figures, unrecorded_states
from ._gate_reports import is_gate_folder, write_gate_reports
from ._latex import document_latex, equations_latex
from ._tables import (
    _CSS,
    REPORTS,
    html_table,
    markdown_table,
    metric_columns,
    metric_rows,
    refuse_existing_reports,
)
from ._text import equations_text

CAPTIONS = {
    "resimulation": "Held-out data (new initial conditions) and the re-simulation of each model.",
    "phase": "Phase portrait of the held-out trajectories and the models.",
    "loss": "UDE training loss.",
}


def _caption(key: str, r: Results) -> str:
    if key.startswith("residual_"):
        source = "the data's smoothed derivative minus the known part" if r.distilled_from_data else \
            "learned by the network"
        return f"Residual of d{key[9:]}/dt: {source} vs the distilled closed form."
    if key.startswith("pareto_"):
        return (f"Candidates for d{key[7:]}/dt as the choice rule scored them: complexity vs score. The line is "
                "the non-dominated front, the dashed line the score a candidate had to be within; the chosen "
                "one is starred.")
    if key == "resimulation" and unrecorded_states(r):
        return (CAPTIONS[key] + f" Grey dots for {', '.join(unrecorded_states(r))}: not recorded, the estimate the "
                "known equations give driven by the recorded states.")
    if key == "loss" and "latent" in r.metrics:
        return "Latent ODE training loss (Poisson likelihood of the counts, relative to a perfect fit)."
    return CAPTIONS.get(key, key)


def write_reports(folder: str | Path, force: bool = False) -> list[Path]:
    """Write report.tex, report.html, report.md and figures/ into a results folder.

    Refuses to replace existing reports unless `force` (a user may have edited them). A learned
    gate's folder (`write_gate_results`) gets its own reports.
    """
    if is_gate_folder(folder):
        return write_gate_reports(folder, force)
    r = load_results(folder)
    refuse_existing_reports(r.folder, force)
    figures = make_figures(r, r.folder / "figures")
    columns = metric_columns(r.known.time_unit, r.metrics.get("heldout", {}))
    texts = {
        "report.tex": document_latex(
            r.discovered, r.known, metrics=r.metrics.get("heldout"), columns=[(k, lh, f) for k, _, lh, f in columns],
            figures=[(f"figures/{f}", _caption(k, r)) for k, f in figures.items()], notes=r.metrics.get("notes", []),
        ),
        "report.html": html_report(r, figures, columns),
        "report.md": markdown_report(r, figures, columns),
    }
    written = []
    for name, text in texts.items():
        written.append(atomic_write(r.folder / name, text))
    return written


def _distillation_rows(r: Results) -> list[tuple[str, str, list[str]]]:
    """(state, chosen term, why as short sentences) of each distilled state."""
    return [(state, rec["chosen"], reason_sentences(rec["reason"]))
            for state, rec in r.metrics.get("distillation", {}).items()]


def reason_sentences(reason: str) -> list[str]:
    """A choice's reason (clauses joined by "; ") as sentences to list, one per clause."""
    parts = [p.strip() for p in reason.split("; ") if p.strip()]
    return [p[0].upper() + p[1:] + ("" if p.endswith(".") else ".") for p in parts]


_MD_SPECIAL = "\\`*_[]<>|#!"


def _md(text: str) -> str:
    """User text (a model's name, a parameter's unit and description) as literal Markdown: one line,
    special characters backslash-escaped, so a `|` cannot split a table row and `<script>` stays text."""
    return "".join(f"\\{ch}" if ch in _MD_SPECIAL else ch for ch in " ".join(str(text).split()))


def markdown_report(r: Results, figures: dict[str, str], columns) -> str:
    table = markdown_table(["model", "state", *(h for _, h, _, _ in columns)],
                           metric_rows(r.metrics.get("heldout", {}), columns))
    params = markdown_table(["parameter", "value", "unit", "meaning"],
                            [[_md(p.name), f"{p.value:g}", _md(p.unit) if p.unit != "1" else "–", _md(p.description)]
                             for p in r.discovered.parameters])
    lines = [f"# Discovered model: {_md(r.discovered.name)}", "", "Discovered terms are in brackets.", "",
             "```text", equations_text(r.discovered, r.known), "```", "", "$$",
             equations_latex(r.discovered, r.known).strip(), "$$", ""]
    if r.discovered.parameters:
        lines += ["## Parameters", "", *params, ""]
    lines += ["## Re-simulation of held-out data", "", *table, ""]
    lines += ["## How each term was chosen", ""]
    for state, chosen, why in _distillation_rows(r):
        lines += [f"d{state}/dt: `{chosen}`", "", *(f"- {_md(sentence)}" for sentence in why), ""]
    lines += [f"- Note: {n}" for n in r.metrics.get("notes", [])]
    lines += ["", "## Figures", ""]
    lines += [f"![{_caption(k, r)}](figures/{f})\n\n*{_caption(k, r)}*\n" for k, f in figures.items()]
    return "\n".join(lines) + "\n"


def html_report(r: Results, figures: dict[str, str], columns) -> str:
    """One self-contained file: figures embedded as data URIs, no script, no external resource."""
    e = html.escape
    eq_lines = []
    base = r.known.without_residuals()
    for i, state in enumerate(r.discovered.states):
        if state in r.discovered.discovered:
            known_part = "" if base.rhs[i] == 0 else f"{e(sp.sstr(base.rhs[i]))} + "
            eq_lines.append(f"d{e(state)}/dt = {known_part}"
                            f"<span class=\"discovered\">[{e(sp.sstr(r.discovered.discovered[state]))}]</span>")
        else:
            eq_lines.append(f"d{e(state)}/dt = {e(sp.sstr(r.discovered.rhs[i]))}")

    params = [(p.name, f"{p.value:g}", p.unit if p.unit != "1" else "–", p.description)
              for p in r.discovered.parameters]
    parts = [
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>discover: {e(r.discovered.name)}</title>",
        f"<style>{_CSS}</style></head><body><h1>Discovered model: {e(r.discovered.name)}</h1>",
        "<p>Discovered terms are highlighted in brackets.</p><pre>" + "\n".join(eq_lines) + "</pre>",
    ]
    if params:
        parts.append("<h2>Parameters</h2>" + html_table(["parameter", "value", "unit", "meaning"], params))
    parts.append("<h2>Re-simulation of held-out data</h2>"
                 + html_table(["model", "state", *(h for _, h, _, _ in columns)],
                              metric_rows(r.metrics.get("heldout", {}), columns)))
    parts.append("<h2>How each term was chosen</h2>")
    for state, chosen, why in _distillation_rows(r):
        parts.append(f"<p>d{e(state)}/dt: <code>{e(chosen)}</code></p><ul>"
                     + "".join(f"<li>{e(sentence)}</li>" for sentence in why) + "</ul>")
    parts += [f"<p><strong>Note:</strong> {e(n)}</p>" for n in r.metrics.get("notes", [])]
    parts.append("<h2>Figures</h2>")
    for key, name in figures.items():
        data = base64.b64encode((r.folder / "figures" / name).read_bytes()).decode()
        parts.append(f"<figure><img src=\"data:image/png;base64,{data}\" alt=\"{e(_caption(key, r))}\">"
                     f"<figcaption>{e(_caption(key, r))}</figcaption></figure>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


__all__ = ["REPORTS", "html_report", "html_table", "markdown_report", "write_reports"]
