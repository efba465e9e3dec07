"""FitzHugh–Nagumo: the two-variable reduction of Hodgkin–Huxley excitability."""

from __future__ import annotations

from ..equations import EquationSystem, Parameter

_PARAMETERS = (
    Parameter("a", 0.7, "1", "recovery offset"),
    Parameter("b", 0.8, "1", "recovery self-coupling"),
    Parameter("tau", 12.5, "1", "recovery time constant (in units of the fast time)"),
)


def fitzhugh_nagumo() -> EquationSystem:
    """FitzHugh–Nagumo model (dimensionless).

        dv/dt = v - v**3/3 - w + I
        dw/dt = (v + a - b w) / tau,   a = 0.7, b = 0.8, tau = 12.5

    v is the fast (membrane-potential-like) variable, w the slow recovery variable, I the
    injected current. FitzHugh, Biophys. J. 1 (1961) 445; Nagumo et al., Proc. IRE 50 (1962) 2061.
    """
    return EquationSystem.from_text(
        ["dv/dt = v - v**3/3 - w + I", "dw/dt = (v + a - b*w)/tau"],
        inputs=["I"],
        parameters=_PARAMETERS,
        name="fitzhugh_nagumo",
        provenance=("FitzHugh–Nagumo, FitzHugh 1961",),
    )
