"""Pieces every report of a results folder shares: the held-out metrics table (its columns and
rows), the HTML table and style, and the rule that reports a user may have edited are not replaced."""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path

from .._errors import ConfigError
from ._text import OPTIONAL

REPORTS = ("report.tex", "report.html", "report.md")


def metric_columns(time_unit: str, held: Mapping) -> list[tuple[str, str, str, str]]:
    """(key, text header, LaTeX header, format) of the held-out metrics present in `held`
    (model -> state -> metrics, as metrics.json's "heldout")."""
    tu = time_unit if time_unit not in ("", "1") else "time units"
    cols = [("rmse", "RMSE", "RMSE", ".4g"), ("nrmse", "NRMSE", "NRMSE", ".3f"), ("r2", "R²", "$R^2$", ".4f"),
            ("horizon", f"horizon ({tu})", f"horizon ({tu})", ".4g")]
    for key, header, fmt in OPTIONAL:
        if any(key in m for per in held.values() for m in per.values()):
            cols.append((key, header, "$\\Gamma$" if key == "gamma" else header, fmt))
    return cols


def refuse_existing_reports(folder: Path, force: bool) -> None:
    """Reports already in `folder` are replaced only with `force` (a user may have edited them)."""
    existing = [name for name in REPORTS if (folder / name).exists()]
    if existing and not force:
        raise ConfigError(f"{str(folder)!r} already holds {', '.join(existing)}; pass --force to rebuild the reports.")


def metric_rows(held: Mapping, columns) -> list[list[str]]:
    """One row per model and state of `held` (as `metric_columns`), each metric formatted."""
    rows = []
    for model, per_state in held.items():
        for state, m in per_state.items():
            rows.append([model, state, *(format(m[k], f) if k in m else "–" for k, _, _, f in columns)])
    return rows


_CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}th,td{padding:.3em .8em;text-align:right}
th{border-bottom:2px solid #444}tr:nth-child(even){background:#f4f4f4}td:first-child,th:first-child{text-align:left}
pre{background:#f6f8fa;padding:1em;overflow-x:auto}figure{margin:1.5em 0}img{max-width:100%}
figcaption{color:#555;font-size:.9em}.discovered{color:#1f5fa8;font-weight:600}"""


def html_table(header, rows) -> str:
    """An HTML table, every cell escaped."""
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def markdown_table(header, rows) -> list[str]:
    """A Markdown table's lines (cells as given: escape user text first)."""
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header), *("| " + " | ".join(r) + " |" for r in rows)]
