"""Library of known neuron models, each an `EquationSystem` with default parameters and units."""

from collections.abc import Callable

from .._errors import ConfigError, did_you_mean
from ..equations import EquationSystem
from ._conductance import hodgkin_huxley as hodgkin_huxley, morris_lecar as morris_lecar
from ._membrane import adex as adex, izhikevich as izhikevich, passive_membrane as passive_membrane
from ._oscillators import (
    fitzhugh_nagumo as fitzhugh_nagumo,
    hindmarsh_rose as hindmarsh_rose,
    lotka_volterra as lotka_volterra,
    van_der_pol as van_der_pol,
)
from ._rate import ltc as ltc, wilson_cowan as wilson_cowan

LIBRARY: dict[str, Callable[[], EquationSystem]] = {
    f.__name__: f
    for f in (
        passive_membrane, fitzhugh_nagumo, van_der_pol, hodgkin_huxley, morris_lecar, hindmarsh_rose,
        wilson_cowan, izhikevich, adex, ltc, lotka_volterra,
    )
}


def get_model(name: str) -> EquationSystem:
    """The library model called `name` (see `LIBRARY`)."""
    if name not in LIBRARY:
        raise ConfigError(f"no library model {name!r}; available: {sorted(LIBRARY)}.{did_you_mean(name, LIBRARY)}")
    return LIBRARY[name]()


__all__ = [
    "LIBRARY", "adex", "fitzhugh_nagumo", "get_model", "hindmarsh_rose", "hodgkin_huxley", "izhikevich",
    "lotka_volterra", "ltc", "morris_lecar", "passive_membrane", "van_der_pol", "wilson_cowan",
]
