"""Run a configuration: the one path `discover run` and `discover batch` take from a config to results."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ._config import RunConfig, cell_model
from ._discovery import Discovery
from ._progress import Progress


def run_config(config: RunConfig, *, progress: bool | Progress = True, training: Mapping[str, Any] | None = None,
               say: Callable[..., None] = lambda *a: None) -> Discovery:
    """Prepare the data and model of `config`, discover and validate: a GIF-type cell by regression
    (`[cell] model = "gif"`), anything else through `discover()` (`training` overrides settings of
    `[training]`, e.g. a checkpoint). `say` prints what was prepared."""
    if config.cell is not None and cell_model(config.cell) == "gif":
        from .cell import CellSettings, discover_cell

        train, heldout = config.load_data()
        say(f"Data: {train.n_trajectories} training and {heldout.n_trajectories} held-out sweeps, "
            f"{train.t.size} samples each (dt = {train.dt:g} ms).")
        settings = CellSettings(slope=config.cell.get("slope"), runs=int(config.cell.get("runs", 100)))
        cell = discover_cell(train, heldout, electrode=config.load_electrode(), settings=settings, progress=progress)
        return cell.as_discovery()
    from ._pipeline import discover

    system, train, heldout = config.prepare()
    say("Known model with residual:")
    say("\n".join("  " + line for line in str(system).splitlines()))
    say(f"Data: {train.n_trajectories} training and {heldout.n_trajectories} held-out trajectories, "
        f"{train.t.size} samples each (dt = {train.dt:g}).")
    return discover(train, system, heldout, training={**config.training, **(training or {})},
                    distill=config.distill, progress=progress)

