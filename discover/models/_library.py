"""Every library model by name, and the look-up that suggests a close name for a typo."""

from __future__ import annotations

from collections.abc import Callable

from .._errors import ConfigError, did_you_mean
from ..equations import EquationSystem
from ._conductance import hodgkin_huxley, morris_lecar
from ._membrane import adex, izhikevich, passive_membrane
from ._oscillators import fitzhugh_nagumo, hindmarsh_rose, lotka_volterra, van_der_pol
from ._rate import ltc, wilson_cowan

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
