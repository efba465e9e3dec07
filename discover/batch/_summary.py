"""The batch summary: one row per cell, and how often each discovered term was found.

Rows are rebuilt from the cells' results folders on disk (equations.json, metrics.json), so a
resumed batch summarises every finished cell, not only those run this time.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import sympy as sp

from .._files import atomic_write
from ..equations import EquationSystem

MODELS = ("known only", "discovered", "discovered (stochastic)")
METRICS = ("nrmse", "r2", "gamma", "spike_count_error", "gamma_ratio", "md_star", "r2_forced")
"""Held-out measures in summary.csv, where a cell's folder has them (the last four for cells)."""
DIGITS = 6
"""Significant digits of the numbers in summary.csv and terms.csv: estimates and metrics carry no
more (a NRMSE's 17th digit is noise), and full precision makes the table unreadable."""


def load_cell(folder: Path) -> tuple[EquationSystem, dict[str, Any]]:
    """A finished cell's discovered system and its metrics.json, read once for the summary."""
    equations = json.loads((folder / "equations.json").read_text())
    metrics = json.loads((folder / "metrics.json").read_text())
    return EquationSystem.from_dict(equations["discovered"]), metrics


def cell_row(name: str, discovered: EquationSystem, metrics: Mapping[str, Any]) -> dict[str, Any]:
    """Summary columns of one finished cell: its discovered terms, parameters and held-out metrics."""
    row: dict[str, Any] = {"cell": name}
    for state, expr in discovered.discovered.items():
        row[f"d{state}/dt discovered"] = sp.sstr(expr)
    for p in discovered.parameters:
        row[f"{p.name} ({p.unit})" if p.unit and p.unit != "1" else p.name] = p.value
    for model in MODELS:
        for state, values in metrics.get("heldout", {}).get(model, {}).items():
            for metric in METRICS:
                if values.get(metric) is not None:
                    row[f"{state} {metric} ({model})"] = values[metric]
    row["seconds"] = sum(metrics.get("seconds", {}).values())
    return row


def term_keys(discovered: EquationSystem) -> set[tuple[str, str]]:
    """(state, term without its coefficient) for each discovered term, e.g. ("v", "v**3")."""
    return {(state, sp.sstr(term.as_coeff_Mul()[1]))
            for state, expr in discovered.discovered.items() for term in sp.Add.make_args(sp.expand(expr))}


def term_frequencies(systems: Mapping[str, EquationSystem]) -> list[dict[str, Any]]:
    """How many of the finished cells' discovered systems have each term, most frequent first."""
    counts = Counter(key for system in systems.values() for key in term_keys(system))
    n = max(len(systems), 1)
    return [{"state": s, "term": t, "cells": c, "fraction": c / n}
            for (s, t), c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def write_table(rows: Sequence[Mapping[str, Any]], path: Path) -> None:
    """CSV with the union of the rows' columns, first-seen order, numbers to `DIGITS` significant
    digits; written whole (temp + rename)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, _columns(rows), lineterminator="\n")
    writer.writeheader()
    writer.writerows({key: _csv_value(value) for key, value in row.items()} for row in rows)
    atomic_write(path, buffer.getvalue())


def write_html(rows: Sequence[Mapping[str, Any]], terms: Sequence[Mapping[str, Any]], path: Path, title: str) -> None:
    parts = [f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}</title>",
             "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}"
             "td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}.failed{background:#fee}</style>",
             f"<h1>{html.escape(title)}</h1>"]
    ok = sum(r.get("status") != "failed" for r in rows)
    parts.append(f"<p>{ok} of {len(rows)} cells finished; {len(rows) - ok} failed (see logs/).</p>")
    parts.append("<h2>Discovered terms across cells</h2>" + _html_table(terms))
    parts.append("<h2>Cells</h2>" + _html_table(rows))
    atomic_write(path, "\n".join(parts) + "\n")


def _columns(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The union of the rows' keys, in first-seen order (cells of different models differ)."""
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    return columns


def _html_table(rows: Sequence[Mapping[str, Any]]) -> str:
    columns = _columns(rows)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        f"<tr class='{html.escape(str(r.get('status', '')))}'>"
        + "".join(f"<td>{html.escape(_cell_text(r.get(c, '')))}</td>" for c in columns) + "</tr>"
        for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _csv_value(value: Any) -> Any:
    """A float (Python's or numpy's) to `DIGITS` significant digits; anything else as it is."""
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.{DIGITS}g}"
    return value


def _cell_text(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)

