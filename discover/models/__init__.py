"""Library of known neuron models, each an `EquationSystem` with default parameters."""

from collections.abc import Callable

from .._errors import ConfigError, did_you_mean
from ..equations import EquationSystem
from ._fitzhugh_nagumo import fitzhugh_nagumo as fitzhugh_nagumo

LIBRARY: dict[str, Callable[[], EquationSystem]] = {"fitzhugh_nagumo": fitzhugh_nagumo}


def get_model(name: str) -> EquationSystem:
    """The library model called `name` (see `LIBRARY`)."""
    if name not in LIBRARY:
        raise ConfigError(f"no library model {name!r}; available: {sorted(LIBRARY)}.{did_you_mean(name, LIBRARY)}")
    return LIBRARY[name]()


__all__ = ["LIBRARY", "fitzhugh_nagumo", "get_model"]
