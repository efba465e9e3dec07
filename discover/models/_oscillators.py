"""Dimensionless oscillator and burster models."""

from __future__ import annotations

from ..equations import EquationSystem, Parameter


def fitzhugh_nagumo() -> EquationSystem:
    """FitzHugh–Nagumo model (dimensionless).

        dv/dt = v - v**3/3 - w + I
        dw/dt = (v + a - b*w) / tau,   a = 0.7, b = 0.8, tau = 12.5

    v is the fast (membrane-potential-like) variable, w the slow recovery variable, I the
    injected current. FitzHugh, Biophys. J. 1 (1961) 445; Nagumo et al., Proc. IRE 50 (1962) 2061.
    """
    return EquationSystem.from_text(
        ["dv/dt = v - v**3/3 - w + I", "dw/dt = (v + a - b*w)/tau"],
        inputs=["I"],
        parameters=(
            Parameter("a", 0.7, "1", "recovery offset"),
            Parameter("b", 0.8, "1", "recovery self-coupling"),
            Parameter("tau", 12.5, "1", "recovery time constant (in units of the fast time)"),
        ),
        name="fitzhugh_nagumo",
        provenance=("FitzHugh–Nagumo, FitzHugh 1961",),
    )


def van_der_pol() -> EquationSystem:
    """Van der Pol relaxation oscillator (dimensionless), forced by I.

        dx/dt = y
        dy/dt = mu*(1 - x**2)*y - x + I,   mu = 1

    van der Pol, Phil. Mag. 2 (1926) 978.
    """
    return EquationSystem.from_text(
        ["dx/dt = y", "dy/dt = mu*(1 - x**2)*y - x + I"],
        inputs=["I"],
        parameters=(Parameter("mu", 1.0, "1", "nonlinear damping"),),
        name="van_der_pol",
        provenance=("Van der Pol, van der Pol 1926",),
    )


def hindmarsh_rose() -> EquationSystem:
    """Hindmarsh–Rose burster (dimensionless).

        dx/dt = y - a*x**3 + b*x**2 - z + I
        dy/dt = c - d*x**2 - y
        dz/dt = r*(s*(x - x_R) - z)
    a = 1, b = 3, c = 1, d = 5, r = 0.006, s = 4, x_R = -1.6 (bursting at I = 3.25).
    Hindmarsh & Rose, Proc. R. Soc. Lond. B 221 (1984) 87.
    """
    return EquationSystem.from_text(
        ["dx/dt = y - a*x**3 + b*x**2 - z + I", "dy/dt = c - d*x**2 - y", "dz/dt = r*(s*(x - x_R) - z)"],
        inputs=["I"],
        parameters=(
            Parameter("a", 1.0), Parameter("b", 3.0), Parameter("c", 1.0), Parameter("d", 5.0),
            Parameter("r", 0.006, "1", "slow adaptation rate"), Parameter("s", 4.0),
            Parameter("x_R", -1.6, "1", "adaptation reference"),
        ),
        name="hindmarsh_rose",
        provenance=("Hindmarsh–Rose, Hindmarsh & Rose 1984",),
    )


def lotka_volterra() -> EquationSystem:
    """Lotka–Volterra predator–prey model: the UDE benchmark of Rackauckas et al. (2020).

        dx/dt = alpha*x - beta*x*y
        dy/dt = gamma*x*y - delta*y,   alpha = 1.3, beta = 0.9, gamma = 0.8, delta = 1.8

    Not a neuron model; kept as the reference case for missing interaction terms.
    Rackauckas et al., arXiv:2001.04385 (2020).
    """
    return EquationSystem.from_text(
        ["dx/dt = alpha*x - beta*x*y", "dy/dt = gamma*x*y - delta*y"],
        parameters=(Parameter("alpha", 1.3), Parameter("beta", 0.9), Parameter("gamma", 0.8), Parameter("delta", 1.8)),
        name="lotka_volterra",
        provenance=("Lotka–Volterra, Rackauckas et al. 2020 parameters",),
    )
