"""Training checkpoints on disk: written atomically, read back with `weights_only=True`."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from .._errors import FitError


def save_checkpoint(path: str | Path, state: dict) -> None:
    """Write atomically (temporary file, then rename): an interruption never leaves half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: str | Path) -> dict | None:
    """The saved training state, or None if there is none. Tensors and plain data only:
    `weights_only=True` refuses anything that would run code on load."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        return torch.load(path, weights_only=True, map_location="cpu")  # load_state_dict moves it to the model
    except Exception as exc:  # a corrupt or foreign file: say which, never unpickle it
        raise FitError(
            f"checkpoint {str(path)!r} cannot be read safely ({type(exc).__name__}: {str(exc)[:200]}); "
            "delete it to start training afresh."
        ) from None
