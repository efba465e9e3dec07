"""The batch summary tables, from rows as `discover batch` builds them (no cluster, no training)."""

import csv

import numpy as np

from discover.batch._summary import cell_row, write_table
from tests.helpers import fhn_known


def test_summary_numbers_have_six_significant_digits(tmp_path):
    """summary.csv showed every float in full (0.012640783617586096); six significant digits are
    plenty for estimates and metrics. Text, whole numbers and numpy floats are handled too."""
    known = fhn_known()
    v = known.symbol("v")
    discovered = known.replace_residuals({"v": 0.9999999123 * v - 0.333333333 * v**3}, how="test")
    metrics = {"heldout": {"discovered": {"v": {"nrmse": 0.012640783617586096, "r2": np.float64(0.9998402105895333)}}},
               "seconds": {"training": 81.54281824899988, "distillation": 1e-9}}
    row = {"status": "ok", **cell_row("cell_a", discovered, metrics)}
    write_table([row, {"cell": "broken", "status": "failed", "cells": 3}], tmp_path / "summary.csv")
    with open(tmp_path / "summary.csv", newline="") as f:
        ok, failed = list(csv.DictReader(f))
    assert ok["v nrmse (discovered)"] == "0.0126408"
    assert ok["v r2 (discovered)"] == "0.99984"
    assert ok["seconds"] == "81.5428"
    assert ok["a"] == "0.7" and ok["tau"] == "12.5"
    assert failed["cells"] == "3" and failed["status"] == "failed"
    assert "0.333333333" in ok["dv/dt discovered"]  # the equation's own text is left as sympy wrote it


def test_a_cells_spike_time_scores_reach_the_summary():
    # a batch of real cells is compared by Md* and Gamma over the cell's reliability, not only Gamma
    known = fhn_known()
    metrics = {"heldout": {"discovered": {"V": {"gamma": 0.3, "gamma_ratio": 0.45, "md_star": 0.6, "r2_forced": 0.91}},
                           "discovered (stochastic)": {"V": {"gamma": 0.2, "md_star": 0.7}}}, "seconds": {}}
    row = cell_row("cell_a", known.without_residuals(), metrics)
    assert row["V md_star (discovered (stochastic))"] == 0.7 and row["V gamma_ratio (discovered)"] == 0.45
    assert row["V r2_forced (discovered)"] == 0.91
