"""discover: find the governing equations of neurons and circuits from recordings.

Known dynamics + a neural-network residual (a universal differential equation), trained on
trajectories, distilled into closed-form terms, validated by re-simulation.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Names are imported on first use (PEP 562), so `discover --version`, `--help` and config errors do not wait
# seconds for torch, sympy and matplotlib to load.
_PUBLIC = {
    "RunConfig": "._config", "config_from_dict": "._config", "load_config": "._config",
    "ConfigError": "._errors", "DataError": "._errors", "DiscoverError": "._errors", "EquationError": "._errors",
    "FitError": "._errors",
    "Discovery": "._discovery", "discover": "._pipeline",
    "Trajectories": ".data", "example_data": ".data", "simulate": ".data",
    "SparseDistiller": ".distill",
    "EquationSystem": ".equations", "Parameter": ".equations",
    "write_results": ".report",
    "UDE": ".ude",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'discover' has no attribute {name!r}")
    value = getattr(importlib.import_module(_PUBLIC[name], __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC})


if TYPE_CHECKING:  # what type checkers and editors see
    from ._config import RunConfig as RunConfig, config_from_dict as config_from_dict, load_config as load_config
    from ._discovery import Discovery as Discovery
    from ._errors import (
        ConfigError as ConfigError,
        DataError as DataError,
        DiscoverError as DiscoverError,
        EquationError as EquationError,
        FitError as FitError,
    )
    from ._pipeline import discover as discover
    from .data import Trajectories as Trajectories, example_data as example_data, simulate as simulate
    from .distill import SparseDistiller as SparseDistiller
    from .equations import EquationSystem as EquationSystem, Parameter as Parameter
    from .report import write_results as write_results
    from .ude import UDE as UDE
