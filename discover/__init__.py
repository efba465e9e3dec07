"""discover: find the governing equations of neurons and circuits from recordings.

Known dynamics + a neural-network residual (a universal differential equation), trained on
trajectories, distilled into closed-form terms, validated by re-simulation.
"""

__version__ = "0.1.0"

from ._config import RunConfig as RunConfig, config_from_dict as config_from_dict, load_config as load_config
from ._errors import (
    ConfigError as ConfigError,
    DataError as DataError,
    DiscoverError as DiscoverError,
    EquationError as EquationError,
    FitError as FitError,
)
from ._pipeline import Discovery as Discovery, discover as discover
from .data import Trajectories as Trajectories, example_data as example_data, simulate as simulate
from .distill import SparseDistiller as SparseDistiller
from .equations import EquationSystem as EquationSystem, Parameter as Parameter
from .report import write_results as write_results
from .ude import UDE as UDE

__all__ = [
    "ConfigError", "DataError", "DiscoverError", "Discovery", "EquationError", "EquationSystem", "FitError",
    "Parameter", "RunConfig", "SparseDistiller", "Trajectories", "UDE", "config_from_dict", "discover",
    "example_data", "load_config", "simulate", "write_results",
]
