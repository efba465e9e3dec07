"""Library of known neuron models, each an `EquationSystem` with default parameters and units."""

from ._conductance import hodgkin_huxley as hodgkin_huxley, morris_lecar as morris_lecar
from ._library import LIBRARY as LIBRARY, get_model as get_model
from ._membrane import adex as adex, izhikevich as izhikevich, passive_membrane as passive_membrane
from ._oscillators import (
    fitzhugh_nagumo as fitzhugh_nagumo,
    hindmarsh_rose as hindmarsh_rose,
    lotka_volterra as lotka_volterra,
    van_der_pol as van_der_pol,
)
from ._rate import ltc as ltc, wilson_cowan as wilson_cowan

__all__ = [
    "LIBRARY", "adex", "fitzhugh_nagumo", "get_model", "hindmarsh_rose", "hodgkin_huxley", "izhikevich",
    "lotka_volterra", "ltc", "morris_lecar", "passive_membrane", "van_der_pol", "wilson_cowan",
]
