"""One cell of a batch: the whole pipeline on one recording, run on a worker, failures contained."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import shutil
import tempfile
import time
import traceback
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .._config import RunConfig
from ..distill import DistillOptions
from ..report import write_folder


@dataclass(frozen=True)
class CellOutcome:
    """What a worker sends back: `status` ("ok" or "failed"), the results folder as zip bytes
    (empty on failure), the cell's log text, the error line, and the wall time."""

    name: str
    path: str
    status: str
    results_zip: bytes
    log: str
    error: str
    seconds: float


def run_cell(config: RunConfig, name: str, path: str) -> CellOutcome:
    """Fit, distil and validate `config` with its data path replaced by `path`.

    Everything the pipeline prints goes to the cell's log, not the worker's console. Any
    exception, ours or not, becomes a failed outcome, so one bad cell never stops the batch.
    Results are built in a temporary folder on the worker and returned zipped: the client
    writes them, so a remote cluster needs no shared file system for the output.
    """
    from .._run import run_config
    from ..report import summary_text, write_results

    start, log = time.perf_counter(), io.StringIO()
    work = Path(tempfile.mkdtemp(prefix="discover-cell-"))
    try:
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            # one thread per worker is fastest here (the workers already fill the cores)
            symbolic = {"threads": 1, **DistillOptions.from_mapping(config.distill).symbolic}
            cell_config = dataclasses.replace(config, data={**config.data, "path": path},
                                              distill={**config.distill, "symbolic": symbolic})
            print(f"cell {name}: {path}")
            result = run_config(cell_config, progress=False, training={"threads": 1}, say=print)
            write_results(result, work / "results")
            print(summary_text(result))
        return CellOutcome(name, path, "ok", _zip(work / "results"), log.getvalue(), "",
                           time.perf_counter() - start)
    except Exception as exc:  # noqa: BLE001 - isolate every failure to its cell, with the traceback in its log
        log.write("\n" + traceback.format_exc())
        error = f"{type(exc).__name__}: {exc}".splitlines()[0][:500]
        return CellOutcome(name, path, "failed", b"", log.getvalue(), error, time.perf_counter() - start)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _zip(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                archive.write(file, file.relative_to(folder).as_posix())
    return buffer.getvalue()


def unpack_results(data: bytes, target: Path) -> None:
    """Write a cell's zipped results to `target` whole: extracted beside it, then renamed."""
    def fill(tmp: Path) -> None:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for member in archive.namelist():  # our own archive, but never write outside tmp
                if member.startswith("/") or ".." in Path(member).parts:
                    raise ValueError(f"unsafe path {member!r} in a cell's results")
            archive.extractall(tmp)

    write_folder(target, fill, force=True)  # the batch's own folder for this cell: a rerun replaces it
