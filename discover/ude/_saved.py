"""A fitted UDE on disk: its networks' tensors and, as JSON text, the system and settings that
rebuild them. Read back with `torch.load(weights_only=True)`: nothing in the file can run code."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from .._errors import DataError, EquationError, FitError
from ..equations import EquationSystem
from ..integrate import torch_settings
from ._checkpoint import save_checkpoint
from ._hybrid import HybridODE, MLPResidual

FILE = "ude.pt"
"""The name of the saved UDE in a results folder."""

FORMAT = "discover.UDE/1"
# how a run was driven, not what it learned: a loaded model starts with progress off and no checkpoint
_NOT_SAVED = ("system", "progress", "checkpoint", "resume")
_LEARNED = ("loss_history_", "phases_", "fit_seconds_", "constant_features_", "recoveries_", "resumed_from_",
            "stride_", "stride_error_", "hidden_")


def save_ude(ude, path: str | Path) -> Path:
    """Write `ude`'s networks (state_dict), system, settings and learned attributes to `path`, atomically."""
    if not hasattr(ude, "model_"):
        raise FitError("this UDE is not fitted yet: call fit(data) before save(path).")
    settings = {k: v for k, v in vars(ude).items() if not k.endswith("_") and k not in _NOT_SAVED}
    learned = {k: getattr(ude, k) for k in _LEARNED if hasattr(ude, k)}
    state = {
        "format": FORMAT,
        "system": ude.system.to_json(),
        "settings": json.dumps(settings, default=_plain),
        "learned": json.dumps(learned, default=_plain),
        "model": {k: v.detach().cpu() for k, v in ude.model_.state_dict().items()},
    }
    path = Path(path)
    save_checkpoint(path, state)
    return path


def load_ude(cls, path: str | Path):
    """The fitted `cls` (a `UDE`) saved at `path`, or in the results folder `path`."""
    path = _saved_file(Path(path))
    try:
        state = torch.load(path, weights_only=True, map_location="cpu")  # a GPU-trained UDE loads anywhere
    except Exception as exc:  # a damaged or foreign file: say which, never unpickle it
        raise DataError(f"{str(path)!r} cannot be read safely as a saved UDE ({type(exc).__name__}: "
                        f"{str(exc)[:200]}); give a file written by UDE.save or a results folder's {FILE}.") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        found = state.get("format") if isinstance(state, dict) else type(state).__name__
        raise DataError(f"{str(path)!r} is not a UDE saved by this version of discover (format {found!r}, expected "
                        f"{FORMAT!r}); give a file written by UDE.save.")
    try:
        system = EquationSystem.from_dict(json.loads(state["system"]))
        ude = cls(system, progress=False, **json.loads(state["settings"]))
        ude.check_settings()
        ude.model_ = _networks(ude, state["model"])
        for key, value in json.loads(state["learned"]).items():
            setattr(ude, key, _restored(key, value))
    except (KeyError, TypeError, ValueError, RuntimeError, EquationError, FitError) as exc:
        raise DataError(f"{str(path)!r} holds a damaged UDE ({type(exc).__name__}: {str(exc)[:200]}); "
                        "save it again from the fitted model, or rerun discover.") from None
    return ude


def _saved_file(path: Path) -> Path:
    if path.is_dir():
        if not (path / FILE).is_file():
            raise DataError(f"results folder {str(path)!r} holds no {FILE}: no network was trained (the run took the "
                            "direct route only), or the folder was written before discover saved its UDE.")
        return path / FILE
    if not path.is_file():
        raise DataError(f"saved UDE {str(path)!r} does not exist; give a file written by UDE.save or a results folder.")
    return path


def _networks(ude, weights: dict) -> HybridODE:
    """The UDE's networks, shaped by its settings and system, holding `weights`."""
    system = ude.system
    with torch_settings(ude.threads, getattr(torch, ude.dtype)):  # the dtype the networks were trained in
        sizes = [len(system.residual_features(s)) for s in system.residuals]
        nets = [MLPResidual(np.zeros(n), np.ones(n), 1.0, ude.width, ude.depth) for n in sizes]
        model = HybridODE(system, nets)
    model.load_state_dict(weights)  # strict: a missing or misshapen tensor is an error
    return model


def _plain(x):
    """JSON for numpy scalars a setting may hold (np.int64 seeds)."""
    if isinstance(x, np.generic):
        return x.item()
    raise TypeError(f"{type(x).__name__} is not JSON serialisable")


def _restored(key: str, value):
    """A learned attribute as `fit` leaves it (JSON turned its tuples into lists)."""
    if key in ("phases_", "recoveries_"):
        return tuple(tuple(v) for v in value) if key == "phases_" else [tuple(v) for v in value]
    if key in ("hidden_", "constant_features_"):
        return tuple(value)
    return value
