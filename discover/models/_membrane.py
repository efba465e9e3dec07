"""Membrane-equation models with physical units (mV, ms, pA, pF, nS)."""

from __future__ import annotations

from ..equations import EquationSystem, Parameter


def passive_membrane() -> EquationSystem:
    """Passive membrane / leaky integrator.

        C dV/dt = -g_L*(V - E_L) + I
    C = 200 pF, g_L = 10 nS, E_L = -70 mV (membrane time constant 20 ms). Lapicque (1907);
    see Gerstner et al., Neuronal Dynamics (2014), ch. 1.
    """
    return EquationSystem.from_text(
        ["dV/dt = (-g_L*(V - E_L) + I)/C"],
        inputs=["I"],
        parameters=(
            Parameter("C", 200.0, "pF", "membrane capacitance"),
            Parameter("g_L", 10.0, "nS", "leak conductance"),
            Parameter("E_L", -70.0, "mV", "leak reversal potential"),
        ),
        units={"V": "mV", "I": "pA"}, time_unit="ms", name="passive_membrane",
        provenance=("passive membrane, Lapicque 1907",),
    )


def adex() -> EquationSystem:
    """Adaptive exponential integrate-and-fire, subthreshold (continuous) part.

        C dV/dt = -g_L*(V - E_L) + g_L*Delta_T*exp((V - V_T)/Delta_T) - w + I
        tau_w dw/dt = a*(V - E_L) - w
    C = 281 pF, g_L = 30 nS, E_L = -70.6 mV, V_T = -50.4 mV, Delta_T = 2 mV, tau_w = 144 ms,
    a = 4 nS. The spike reset (V -> V_r, w -> w + b) is not part of the continuous system.
    Brette & Gerstner, J. Neurophysiol. 94 (2005) 3637.
    """
    return EquationSystem.from_text(
        [
            "dV/dt = (-g_L*(V - E_L) + g_L*Delta_T*exp((V - V_T)/Delta_T) - w + I)/C",
            "dw/dt = (a*(V - E_L) - w)/tau_w",
        ],
        inputs=["I"],
        parameters=(
            Parameter("C", 281.0, "pF", "membrane capacitance"),
            Parameter("g_L", 30.0, "nS", "leak conductance"),
            Parameter("E_L", -70.6, "mV", "leak reversal potential"),
            Parameter("V_T", -50.4, "mV", "threshold slope factor midpoint"),
            Parameter("Delta_T", 2.0, "mV", "slope factor"),
            Parameter("tau_w", 144.0, "ms", "adaptation time constant"),
            Parameter("a", 4.0, "nS", "subthreshold adaptation"),
        ),
        units={"V": "mV", "w": "pA", "I": "pA"}, time_unit="ms", name="adex",
        provenance=("AdEx, Brette & Gerstner 2005",),
    )


def izhikevich() -> EquationSystem:
    """Izhikevich simple model, continuous part (regular spiking parameters).

        dv/dt = 0.04*v**2 + 5*v + 140 - u + I
        du/dt = a*(b*v - u),   a = 0.02, b = 0.2
    v is in mV and t in ms by convention, but the fitted constants carry hidden units, so the
    system is declared dimensionless. The reset (v >= 30: v -> c, u -> u + d) is not included.
    Izhikevich, IEEE Trans. Neural Netw. 14 (2003) 1569.
    """
    return EquationSystem.from_text(
        ["dv/dt = 0.04*v**2 + 5*v + 140 - u + I", "du/dt = a*(b*v - u)"],
        inputs=["I"],
        parameters=(Parameter("a", 0.02, "1", "recovery rate"), Parameter("b", 0.2, "1", "recovery sensitivity")),
        name="izhikevich",
        provenance=("Izhikevich simple model, Izhikevich 2003",),
    )
