"""Conductance-based models (mV, ms, uA/cm**2, uF/cm**2, mS/cm**2)."""

from __future__ import annotations

from ..equations import EquationSystem, Parameter

# NeuroML-style rate forms with x = (V - midpoint)/scale; the expo-linear one is written with
# exprel so it stays finite at its 0/0 point.
_EXP = "{p}_rate*exp((V - {p}_mid)/{p}_scale)"
_SIGMOID = "{p}_rate/(1 + exp(-(V - {p}_mid)/{p}_scale))"
_EXPLINEAR = "{p}_rate/exprel(-(V - {p}_mid)/{p}_scale)"
_HH_RATES = {  # name: (form, rate 1/ms, midpoint mV, scale mV)
    "am": (_EXPLINEAR, 1.0, -40.0, 10.0), "bm": (_EXP, 4.0, -65.0, -18.0),
    "ah": (_EXP, 0.07, -65.0, -20.0), "bh": (_SIGMOID, 1.0, -35.0, 10.0),
    "an": (_EXPLINEAR, 0.1, -55.0, 10.0), "bn": (_EXP, 0.125, -65.0, -80.0),
}


def hodgkin_huxley() -> EquationSystem:
    """Hodgkin–Huxley squid giant axon (resting potential -65 mV convention).

        C dV/dt = I - g_Na*m**3*h*(V - E_Na) - g_K*n**4*(V - E_K) - g_L*(V - E_L)
        dx/dt = a_x(V)*(1 - x) - b_x(V)*x   for x in m, h, n
    a_m = 0.1 (V+40)/(1 - exp(-(V+40)/10)), b_m = 4 exp(-(V+65)/18), a_h = 0.07 exp(-(V+65)/20),
    b_h = 1/(1 + exp(-(V+35)/10)), a_n = 0.01 (V+55)/(1 - exp(-(V+55)/10)),
    b_n = 0.125 exp(-(V+65)/80), each held as (rate, midpoint, scale) parameters as in NeuroML;
    the expo-linear rates use exprel, finite at V = -40 and -55 mV.
    Hodgkin & Huxley, J. Physiol. 117 (1952) 500.
    """
    rate = {name: form.format(p=name) for name, (form, *_rest) in _HH_RATES.items()}
    gate = "d{x}/dt = ({a})*(1 - {x}) - ({b})*{x}"
    rate_params = []
    for name, (_form, r, mid, scale) in _HH_RATES.items():
        rate_params += [
            Parameter(f"{name}_rate", r, "1/ms", f"{name} rate"),
            Parameter(f"{name}_mid", mid, "mV", f"{name} midpoint"),
            Parameter(f"{name}_scale", scale, "mV", f"{name} scale"),
        ]
    return EquationSystem.from_text(
        [
            "dV/dt = (I - g_Na*m**3*h*(V - E_Na) - g_K*n**4*(V - E_K) - g_L*(V - E_L))/C",
            *(gate.format(x=x, a=rate["a" + x], b=rate["b" + x]) for x in "mhn"),
        ],
        inputs=["I"],
        parameters=(
            Parameter("C", 1.0, "uF/cm**2", "membrane capacitance"),
            Parameter("g_Na", 120.0, "mS/cm**2", "sodium conductance"),
            Parameter("g_K", 36.0, "mS/cm**2", "potassium conductance"),
            Parameter("g_L", 0.3, "mS/cm**2", "leak conductance"),
            Parameter("E_Na", 50.0, "mV", "sodium reversal"),
            Parameter("E_K", -77.0, "mV", "potassium reversal"),
            Parameter("E_L", -54.387, "mV", "leak reversal"),
            *rate_params,
        ),
        units={"V": "mV", "m": "1", "h": "1", "n": "1", "I": "uA/cm**2"}, time_unit="ms",
        name="hodgkin_huxley", provenance=("Hodgkin–Huxley 1952",),
    )


def morris_lecar() -> EquationSystem:
    """Morris–Lecar barnacle muscle fibre model (Rinzel–Ermentrout parameters, Hopf regime).

        C dV/dt = I - g_L*(V - E_L) - g_Ca*m_inf(V)*(V - E_Ca) - g_K*w*(V - E_K)
        dw/dt = phi*(w_inf(V) - w)*cosh((V - V3)/(2*V4))
    m_inf = (1 + tanh((V - V1)/V2))/2, w_inf = (1 + tanh((V - V3)/V4))/2.
    Morris & Lecar, Biophys. J. 35 (1981) 193; Rinzel & Ermentrout (1998).
    """
    return EquationSystem.from_text(
        [
            "dV/dt = (I - g_L*(V - E_L) - g_Ca*(1 + tanh((V - V1)/V2))/2*(V - E_Ca) - g_K*w*(V - E_K))/C",
            "dw/dt = phi*((1 + tanh((V - V3)/V4))/2 - w)*cosh((V - V3)/(2*V4))",
        ],
        inputs=["I"],
        parameters=(
            Parameter("C", 20.0, "uF/cm**2", "membrane capacitance"),
            Parameter("g_L", 2.0, "mS/cm**2", "leak conductance"),
            Parameter("g_Ca", 4.4, "mS/cm**2", "calcium conductance"),
            Parameter("g_K", 8.0, "mS/cm**2", "potassium conductance"),
            Parameter("E_L", -60.0, "mV", "leak reversal"),
            Parameter("E_Ca", 120.0, "mV", "calcium reversal"),
            Parameter("E_K", -84.0, "mV", "potassium reversal"),
            Parameter("V1", -1.2, "mV", "m_inf midpoint"), Parameter("V2", 18.0, "mV", "m_inf slope"),
            Parameter("V3", 2.0, "mV", "w_inf midpoint"), Parameter("V4", 30.0, "mV", "w_inf slope"),
            Parameter("phi", 0.04, "1/ms", "potassium rate"),
        ),
        units={"V": "mV", "w": "1", "I": "uA/cm**2"}, time_unit="ms", name="morris_lecar",
        provenance=("Morris–Lecar 1981, Rinzel–Ermentrout parameters",),
    )
