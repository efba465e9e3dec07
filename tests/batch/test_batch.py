"""`discover batch` on a real Dask LocalCluster (2 worker processes on loopback): synthetic cells,
one corrupt file, the summary table, and a resumed batch that skips finished cells."""

import csv

import numpy as np
import pytest
from distributed import LocalCluster

from discover import example_data
from discover.batch._run import find_inputs
from discover.cli import main
from tests.helpers import SMALL_CONFIG

CONFIG = SMALL_CONFIG.replace('example = "fitzhugh_nagumo"\nn_train = 3\nn_heldout = 1\nduration = 60.0',
                       'path = "cells/cell_a.npz"\nheldout = 1')


@pytest.fixture
def cells(tmp_path):
    folder = tmp_path / "cells"
    folder.mkdir()
    for i, name in enumerate(("cell_a", "cell_b", "cell_c")):
        cell, _ = example_data("fitzhugh_nagumo", n_train=4, n_heldout=1, duration=60.0, noise=0.01, seed=i)
        cell.save_npz(folder / f"{name}.npz")  # 3 trajectories to fit, the last one held out
    (folder / "broken.npz").write_bytes(np.random.default_rng(0).bytes(300))  # a corrupt recording
    config = tmp_path / "batch.toml"
    config.write_text(CONFIG)
    return config


def _read(path):
    with open(path, newline="") as f:
        return {row.get("cell") or row["term"]: row for row in csv.DictReader(f)}


@pytest.mark.slow  # about 3 minutes on 2 cores: three cells run in full, twice through the scheduler
def test_batch_runs_every_cell_isolates_the_corrupt_one_and_resumes(cells, tmp_path, capsys):
    out = tmp_path / "batch"
    argv = ["batch", str(cells), "--inputs", str(tmp_path / "cells" / "*.npz"), "--out", str(out), "--workers", "2"]
    assert main(argv) == 1  # one cell failed: the exit status says so, the others finished
    captured = capsys.readouterr()
    assert "3 of 4 cells finished" in captured.out and "failed: broken" in captured.err
    rows = _read(out / "summary.csv")
    assert {name: row["status"] for name, row in rows.items()} == {
        "broken": "failed", "cell_a": "ok", "cell_b": "ok", "cell_c": "ok"}
    assert "DataError" in rows["broken"]["error"]
    assert "Traceback" in (out / "logs" / "broken.log").read_text()
    for name in ("cell_a", "cell_b", "cell_c"):  # every good cell recovers FitzHugh-Nagumo's cubic
        assert (out / "cells" / name / "report.html").is_file()
        assert float(rows[name]["v nrmse (discovered)"]) < 0.1
    terms = _read(out / "terms.csv")
    assert terms["v**3"]["cells"] == "3" and terms["v"]["cells"] == "3"
    assert "v**3" in (out / "summary.html").read_text()

    before = (out / "cells" / "cell_a" / "metrics.json").read_text()
    # resumed, this time on an existing cluster given by its address: only the broken cell is tried again
    with LocalCluster(n_workers=1, threads_per_worker=1, host="127.0.0.1", dashboard_address=None) as cluster:
        assert main(argv[:-2] + ["--quiet", "--scheduler", cluster.scheduler_address]) == 1
    assert "3 of 4 cells finished" in capsys.readouterr().out
    assert {r["status"] for n, r in _read(out / "summary.csv").items() if n != "broken"} == {"done earlier"}
    assert (out / "cells" / "cell_a" / "metrics.json").read_text() == before


def test_batch_inputs_and_options_are_checked(cells, tmp_path, capsys):
    assert main(["batch", str(cells), "--inputs", str(tmp_path / "nothing" / "*.nwb")]) == 2
    assert "matches no file" in capsys.readouterr().err
    assert main(["batch", str(cells), "--inputs", str(tmp_path / "cells" / "*.npz"), "--workers", "0"]) == 2
    assert "--workers" in capsys.readouterr().err
    single = tmp_path / "single_run"
    single.mkdir()
    (single / "equations.json").write_text("{}")
    assert main(["batch", str(cells), "--inputs", str(tmp_path / "cells" / "*.npz"), "--out", str(single)]) == 2
    assert "single `discover run`" in capsys.readouterr().err
    example = tmp_path / "example.toml"
    example.write_text(SMALL_CONFIG)
    assert main(["batch", str(example), "--inputs", str(tmp_path / "cells" / "*.npz")]) == 2
    assert "[data] path" in capsys.readouterr().err


def test_repeated_file_names_get_distinct_cell_names(tmp_path):
    for day in ("day1", "day2"):
        (tmp_path / day).mkdir()
        (tmp_path / day / "cell.nwb").write_bytes(b"")
    assert sorted(find_inputs([str(tmp_path / "*" / "cell.nwb")])) == ["day1__cell", "day2__cell"]


def _slow_to_exit():
    """Make this worker's interpreter take 5 s to shut down, as one that ran a cell (torch, sympy,
    the distillers) does on a busy machine."""
    import atexit
    import time

    atexit.register(time.sleep, 5.0)
    return True


@pytest.mark.slow  # starts a real LocalCluster whose worker takes 5 s to exit: ~10 s
def test_local_cluster_shuts_down_without_killing_a_slow_worker():
    """`discover batch` ended with "Worker process still alive after 4.0 seconds, killing" warnings:
    the local cluster's own close gives each worker 4 s to exit. Its workers are now closed first,
    with time to finish, so none is killed and nothing is warned about."""
    import logging

    from discover.batch._run import _Connection

    class Collect(logging.Handler):
        def __init__(self):
            super().__init__(logging.WARNING)
            self.messages = []

        def emit(self, record):
            self.messages.append(record.getMessage())

    collect, nanny = Collect(), logging.getLogger("distributed.nanny")
    nanny.addHandler(collect)
    try:
        with _Connection(None, 1, 1) as client:
            assert client.submit(_slow_to_exit, pure=False).result()
    finally:
        nanny.removeHandler(collect)
    assert not [m for m in collect.messages if "killing" in m], collect.messages
