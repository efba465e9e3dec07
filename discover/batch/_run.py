"""Many cells in parallel on a Dask distributed cluster: local by default, or an existing one."""

from __future__ import annotations

import asyncio
import dataclasses
import glob
import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._config import RunConfig
from .._errors import ConfigError
from .._population import PopulationConfig
from ._cell import CellOutcome, run_cell, unpack_results
from ._summary import cell_row, load_cell, term_frequencies, write_html, write_table


@dataclass(frozen=True)
class BatchResult:
    """`rows`: one summary row per input file (status "ok", "done earlier" or "failed");
    `terms`: how often each discovered term was found across finished cells; `out`: the folder."""

    out: Path
    rows: tuple[dict[str, Any], ...]
    terms: tuple[dict[str, Any], ...]

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(r["cell"] for r in self.rows if r["status"] == "failed")


def find_inputs(patterns: Sequence[str]) -> dict[str, Path]:
    """Cell name -> file for every file the glob `patterns` match (names are the file stems,
    or the path below the common folder where stems repeat)."""
    if isinstance(patterns, str):
        patterns = [patterns]
    files: list[Path] = []
    for pattern in patterns:
        matched = sorted(Path(p) for p in glob.glob(os.path.expanduser(pattern), recursive=True) if Path(p).is_file())
        if not matched:
            raise ConfigError(f"--inputs {pattern!r} matches no file; quote the pattern, e.g. --inputs 'cells/*.nwb'.")
        files += [f for f in matched if f not in files]
    stems = [f.stem for f in files]
    if len(set(stems)) == len(stems):
        return dict(zip(stems, files, strict=True))
    root = Path(os.path.commonpath([f.resolve().parent for f in files]))
    return {"__".join(f.resolve().relative_to(root).with_suffix("").parts): f for f in files}


def run_batch(
    config: RunConfig | PopulationConfig, inputs: Sequence[str], out: str | Path, *, scheduler: str | None = None,
    workers: int | None = None, force: bool = False, say: Callable[..., object] = print,
) -> BatchResult:
    """Run `config` on every file `inputs` match, each cell independently, in parallel.

    Layout of `out`: `cells/NAME/` (each cell's results folder, as `discover run` writes it),
    `logs/NAME.log`, `summary.csv`, `terms.csv` and `summary.html`. Cells whose results folder
    is complete are skipped (the batch resumes), unless `force`. A failing cell is recorded in
    the summary and its log; the others go on. `scheduler`: the address of a running Dask
    scheduler (its workers need discover installed and must be able to read the input paths);
    default: a local cluster of `workers` single-threaded processes (default: one per core).
    """
    if not isinstance(config, RunConfig):
        raise ConfigError("`discover batch` runs a recording's config on many cells; a [population] config runs "
                          "one population: use `discover run`.")
    if "path" not in config.data:
        raise ConfigError("a batch config needs [data] path = one of the recordings (each input replaces it); "
                          "its [data] uses `example`.")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ConfigError(f"--workers must be a positive number of processes, got {workers!r}.")
    files = find_inputs(inputs)
    # workers run elsewhere (other processes, other machines): give them absolute paths
    config = dataclasses.replace(config, base_dir=Path(config.base_dir).resolve())
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {str(out)!r} exists and is not a folder; choose another.")
    if (out / "equations.json").exists():  # never mix a batch into one run's results
        raise ConfigError(f"--out {str(out)!r} holds the results of a single `discover run`; give the batch "
                          "its own folder, e.g. --out results/batch.")
    cells, logs = out / "cells", out / "logs"
    done = {n for n in files if (cells / n / "metrics.json").is_file()} if not force else set()
    pending = {n: f for n, f in files.items() if n not in done}
    say(f"{len(files)} cells: {len(done)} finished earlier (skipped), {len(pending)} to run.")
    outcomes: dict[str, CellOutcome] = {}
    if pending:
        logs.mkdir(parents=True, exist_ok=True)
        with _Connection(scheduler, workers or os.cpu_count() or 1, len(pending)) as client:
            outcomes = _run_on(client, config, pending, cells, logs, say)
    return _summarise(out, files, done, outcomes)


class _Connection:
    """A distributed Client on the given scheduler, or on a LocalCluster it starts and stops."""

    def __init__(self, scheduler: str | None, workers: int, n_cells: int) -> None:
        self.scheduler, self.workers, self.n_cells = scheduler, workers, n_cells

    def __enter__(self):
        from distributed import Client, LocalCluster

        self.cluster = None
        try:
            if self.scheduler:
                self.client = Client(self.scheduler, timeout="20s")
            else:
                self.cluster = LocalCluster(n_workers=max(1, min(self.workers, self.n_cells)), threads_per_worker=1,
                                            processes=True, host="127.0.0.1", dashboard_address=None)
                self.client = Client(self.cluster)
        except (OSError, TimeoutError) as exc:
            where = f"the Dask scheduler at {self.scheduler!r}" if self.scheduler else "a local Dask cluster"
            raise ConfigError(f"could not connect to {where} ({type(exc).__name__}: {exc}); "
                              "check the address (tcp://HOST:8786) or leave out --scheduler.") from None
        return self.client

    def __exit__(self, *exc) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.sync(_close_workers, self.cluster, WORKER_EXIT_S)
            self.cluster.close()


WORKER_EXIT_S = 60.0
"""How long a local worker process may take to exit. One that has run a cell (torch, sympy, the
distillers imported) needs seconds to shut its interpreter down on a busy machine; the cluster's
own close allows each 4 s, then kills it with a "Worker process still alive after 4.0 seconds,
killing" warning. Closing the workers first, with this much time, lets them exit cleanly."""


async def _close_workers(cluster, timeout: float) -> None:
    """Close every worker of a LocalCluster (its nanny stops the process), all at once."""
    await asyncio.gather(*(worker.close(timeout=timeout) for worker in list(cluster.workers.values())))


def _run_on(client, config: RunConfig, pending: dict[str, Path], cells: Path, logs: Path,
            say) -> dict[str, CellOutcome]:
    from distributed import as_completed

    futures = {client.submit(run_cell, config, name, str(path.resolve()), key=f"discover-{name}-{uuid.uuid4().hex[:8]}",
                             pure=False): name for name, path in pending.items()}
    outcomes: dict[str, CellOutcome] = {}
    for i, future in enumerate(as_completed(futures), 1):
        name = futures[future]
        try:
            outcome = future.result()
        except Exception as exc:  # noqa: BLE001 - a worker that died (memory, signal) fails only its cell
            outcome = CellOutcome(name, str(pending[name]), "failed", b"", "", f"{type(exc).__name__}: {exc}", 0.0)
        (logs / f"{name}.log").write_text(outcome.log + (f"\n{outcome.error}\n" if outcome.error else ""))
        if outcome.status == "ok":
            unpack_results(outcome.results_zip, cells / name)
        outcomes[name] = outcome
        detail = f"{outcome.seconds:.0f} s" if outcome.status == "ok" else outcome.error
        say(f"[{i}/{len(futures)}] {name}: {outcome.status} ({detail})")
    return outcomes


def _summarise(out: Path, files: dict[str, Path], done: set[str], outcomes: dict[str, CellOutcome]) -> BatchResult:
    rows, finished = [], {}
    for name, path in files.items():
        outcome = outcomes.get(name)
        if outcome is not None and outcome.status == "failed":
            rows.append({"cell": name, "status": "failed", "file": str(path), "error": outcome.error})
            continue
        discovered, metrics = load_cell(out / "cells" / name)
        finished[name] = discovered
        status = "done earlier" if name in done else "ok"
        rows.append({"cell": name, "status": status, "file": str(path), **cell_row(name, discovered, metrics)})
    terms = term_frequencies(finished)
    out.mkdir(parents=True, exist_ok=True)
    write_table(rows, out / "summary.csv")
    write_table(terms, out / "terms.csv")
    write_html(rows, terms, out / "summary.html", f"discover batch: {len(files)} cells")
    return BatchResult(out, tuple(rows), tuple(terms))
