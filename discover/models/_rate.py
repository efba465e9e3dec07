"""Rate and liquid-time-constant models (dimensionless)."""

from __future__ import annotations

from ..equations import EquationSystem, Parameter


def wilson_cowan() -> EquationSystem:
    """Wilson–Cowan excitatory–inhibitory population model (limit-cycle parameters).

        tau_E dE/dt = -E + (1 - r*E)*sigmoid(a_E*(c1*E - c2*I + P - theta_E))
        tau_I dI/dt = -I + (1 - r*I)*sigmoid(a_I*(c3*E - c4*I + Q - theta_I))
    c1 = 16, c2 = 12, c3 = 15, c4 = 3, a_E = 1.3, theta_E = 4, a_I = 2, theta_I = 3.7, r = 1.
    E and I are population activities; P and Q are external inputs.
    Wilson & Cowan, Biophys. J. 12 (1972) 1.
    """
    return EquationSystem.from_text(
        [
            "dE/dt = (-E + (1 - r*E)*sigmoid(a_E*(c1*E - c2*I + P - theta_E)))/tau_E",
            "dI/dt = (-I + (1 - r*I)*sigmoid(a_I*(c3*E - c4*I + Q - theta_I)))/tau_I",
        ],
        inputs=["P", "Q"],
        parameters=(
            Parameter("c1", 16.0), Parameter("c2", 12.0), Parameter("c3", 15.0), Parameter("c4", 3.0),
            Parameter("a_E", 1.3), Parameter("theta_E", 4.0), Parameter("a_I", 2.0), Parameter("theta_I", 3.7),
            Parameter("r", 1.0, "1", "refractoriness"),
            Parameter("tau_E", 1.0), Parameter("tau_I", 1.0),
        ),
        name="wilson_cowan",
        provenance=("Wilson–Cowan 1972",),
    )


def ltc() -> EquationSystem:
    """Liquid time-constant (LTC) neuron with one sigmoidal gate.

        dx/dt = -(1/tau + f)*x + f*A,   f = gamma*sigmoid(w_x*x + w_I*I + mu)
    tau = 1, A = 1, gamma = 1, w_x = 0.5, w_I = 1, mu = 0. The gate f makes the effective time
    constant depend on the state and input. Hasani et al., AAAI 35 (2021) 7657.
    """
    f = "gamma*sigmoid(w_x*x + w_I*I + mu)"
    return EquationSystem.from_text(
        [f"dx/dt = -(1/tau + {f})*x + {f}*A"],
        inputs=["I"],
        parameters=(
            Parameter("tau", 1.0, "1", "leak time constant"), Parameter("A", 1.0, "1", "reversal/bias"),
            Parameter("gamma", 1.0), Parameter("w_x", 0.5), Parameter("w_I", 1.0), Parameter("mu", 0.0),
        ),
        name="ltc",
        provenance=("liquid time-constant neuron, Hasani et al. 2021",),
    )
