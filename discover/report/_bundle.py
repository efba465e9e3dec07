"""A results folder, read back: what every report is made from.

Reports read only files (JSON and NPZ, never pickles), so `discover report DIR` rebuilds
them from a folder written on another machine or by an older run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import ConfigError, DataError
from .._npz import open_npz
from ..data import Trajectories
from ..equations import EquationSystem

REQUIRED = ("equations.json", "metrics.json", "data_heldout.npz", "predictions.npz")


@dataclass(frozen=True, eq=False)
class Results:
    """A results folder in memory.

    `metrics` is metrics.json as written (held-out metrics, distillation record, seconds,
    notes); `predictions`: model -> re-simulation of `heldout`; `residuals`: state ->
    {"t", "X", "features", "learned", "distilled"} along the first training trajectory;
    `loss_history`: the UDE's training loss per iteration; `loss_phases`: (phase, index of its
    first loss) of each training phase (pre-fit, Adam, L-BFGS), empty where the folder has none.
    """

    folder: Path
    known: EquationSystem
    discovered: EquationSystem
    metrics: Mapping[str, Any]
    heldout: Trajectories
    predictions: Mapping[str, np.ndarray]
    residuals: Mapping[str, Mapping[str, Any]]
    loss_history: np.ndarray
    loss_phases: tuple[tuple[str, int], ...] = ()

    @property
    def distilled_from_data(self) -> bool:
        """Whether the direct route was chosen: the residuals are then the data's smoothed derivative
        minus the known part, not a network's output."""
        return self.metrics.get("routes", {}).get("chosen") == "direct"


def load_results(folder: str | Path) -> Results:
    """Read a results folder written by `discover run` / `write_results`."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(f"results folder {str(folder)!r} does not exist; give the folder `discover run` wrote.")
    missing = [name for name in REQUIRED if not (folder / name).is_file()]
    if missing:
        raise ConfigError(
            f"{str(folder)!r} is not a complete results folder: {', '.join(missing)} missing. "
            "Give the folder `discover run` or `discover demo` wrote (it holds equations.json and metrics.json)."
        )
    try:
        equations = json.loads((folder / "equations.json").read_text())
        metrics = json.loads((folder / "metrics.json").read_text())
        known, discovered = (EquationSystem.from_dict(equations[k]) for k in ("known", "discovered"))
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise DataError(f"could not read the results in {str(folder)!r} ({type(exc).__name__}: {exc}).") from None
    try:
        predictions, residuals, loss, phases = _read_arrays(folder)
    except KeyError as exc:  # an archive without an array the writer always writes
        raise DataError(f"{str(folder)!r} holds an incomplete results archive ({exc.args[0]}); run `discover run` "
                        "again to write the whole folder.") from None
    heldout = Trajectories.load_npz(folder / "data_heldout.npz")
    return Results(folder, known, discovered, metrics, heldout, predictions, residuals, loss, phases)


Phases = tuple[tuple[str, int], ...]


def _read_arrays(folder: Path) -> tuple[dict[str, np.ndarray], dict[str, dict], np.ndarray, Phases]:
    """predictions.npz, residuals.npz and training.npz of `folder` (the last two optional), each
    through `open_npz` (a damaged archive is a `DataError` naming it)."""
    with open_npz(folder / "predictions.npz") as f:
        predictions = {str(name): f[f"model_{i}"] for i, name in enumerate(f["names"])}
    residuals = {}
    if (folder / "residuals.npz").is_file():
        with open_npz(folder / "residuals.npz") as f:
            for state in f["states"]:
                residuals[str(state)] = {
                    "t": f["t"], "X": f[f"X_{state}"], "features": [str(x) for x in f[f"features_{state}"]],
                    "learned": f[f"learned_{state}"], "distilled": f[f"distilled_{state}"],
                }
    loss = np.zeros(0)
    phases: Phases = ()
    if (folder / "training.npz").is_file():
        with open_npz(folder / "training.npz") as f:
            loss = f["loss_history"]
            if "phase_names" in f.files:  # older folders do not say where each phase starts
                phases = tuple((str(n), int(k)) for n, k in zip(f["phase_names"], f["phase_starts"], strict=True))
    return predictions, residuals, loss, phases


def save_predictions(predictions: Mapping[str, np.ndarray], folder: Path) -> None:
    """predictions.npz: each model's re-simulation of the held-out data, by name."""
    names = list(predictions)
    np.savez(folder / "predictions.npz", names=np.array(names, dtype=str),
             **{f"model_{i}": predictions[n] for i, n in enumerate(names)})  # type: ignore[arg-type]


def save_arrays(discovery, folder: Path) -> None:
    """The arrays a report needs beyond the JSON files: predictions, residual traces, loss."""
    d = discovery
    save_predictions(d.predictions, folder)
    phases = getattr(d.ude, "phases_", ())
    np.savez(folder / "training.npz", loss_history=np.asarray(d.ude.loss_history_ if d.ude else [], dtype=float),
             phase_names=np.array([p for p, _ in phases], dtype=str),
             phase_starts=np.array([k for _, k in phases], dtype=int))
    arrays: dict[str, np.ndarray] = {"t": d.train.t, "states": np.array(list(d.distillation), dtype=str)}
    z = np.concatenate([d.train.y[0], d.train.u[0]], axis=-1)
    columns = (*d.train.states, *d.train.inputs)
    # what the chosen route distilled: the network's residual, or (direct route) the data's derivative
    direct = d.ude is None or d.routes.get("chosen") == "direct"
    estimate = _derivative_estimate(d) if direct and d.distillation else {}
    for state in d.distillation:
        features = d.known.residual_features(state)
        X = z[:, [columns.index(f) for f in features]]
        arrays[f"X_{state}"] = X
        arrays[f"features_{state}"] = np.array(features, dtype=str)
        arrays[f"learned_{state}"] = estimate[state] if direct else d.ude.residual(state, X)
        arrays[f"distilled_{state}"] = _evaluate(d.discovered.discovered[state], X, features)
    np.savez(folder / "residuals.npz", **arrays)  # type: ignore[arg-type]  # numpy's stub: ** read as allow_pickle


def _derivative_estimate(d) -> dict[str, np.ndarray]:
    """What the direct route's distillers saw: the first training trajectory's smoothed derivative
    minus the known part."""
    from ..distill import derivative_samples

    first = d.train.select([0])
    return {s.state: s.y for s in derivative_samples(d.known, first, d.routes["smoothing"], max_samples=first.t.size)}


def _evaluate(expr, X: np.ndarray, names) -> np.ndarray:
    from ..equations import evaluate_expression

    with np.errstate(all="ignore"):
        return np.asarray(evaluate_expression(expr, X, names), dtype=float)
