"""Which torch device a fit runs on: `device = "auto" | "cpu" | "cuda"`."""

from __future__ import annotations

import torch

from .._errors import FitError

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(device: str, owner: str = "") -> torch.device:
    """The torch device `device` names: "cpu"; "cuda", the GPU (a `FitError` naming the fix where
    torch sees none); or "auto", the GPU when torch sees one, else the CPU. `owner` prefixes the
    argument's name in the message ("UDE", "LatentODE")."""
    name = f"{owner} `device`".strip()
    if not isinstance(device, str) or device not in DEVICES:
        raise FitError(f"{name} must be one of {list(DEVICES)}, got {device!r}; \"auto\" uses a GPU when torch "
                       "sees one.")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        build = "a CPU-only build" if torch.version.cuda is None else f"built for CUDA {torch.version.cuda}"
        raise FitError(f"{name} is 'cuda' but torch sees no GPU (torch {torch.__version__}, {build}); use "
                       "device='cpu', or 'auto' (the GPU when there is one, else the CPU), or install a CUDA "
                       "build of torch on a machine with an NVIDIA GPU and its driver.")
    return torch.device(device)


__all__ = ["DEVICES", "resolve_device"]
