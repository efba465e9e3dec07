"""Every library model simulates and matches an independent hand-written reference (scipy, tight tolerance)."""

import re

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from discover import simulate
from discover.models import LIBRARY, get_model


def sig(x):
    return 1 / (1 + np.exp(-x))


def hh_rates(V):
    # The textbook forms, with the removable singularities avoided by the test's initial state.
    am = 0.1 * (V + 40) / (1 - np.exp(-(V + 40) / 10))
    bm = 4 * np.exp(-(V + 65) / 18)
    ah = 0.07 * np.exp(-(V + 65) / 20)
    bh = 1 / (1 + np.exp(-(V + 35) / 10))
    an = 0.01 * (V + 55) / (1 - np.exp(-(V + 55) / 10))
    bn = 0.125 * np.exp(-(V + 65) / 80)
    return am, bm, ah, bh, an, bn


def hh(t, y, i):
    V, m, h, n = y
    am, bm, ah, bh, an, bn = hh_rates(V)
    dV = i - 120 * m**3 * h * (V - 50) - 36 * n**4 * (V + 77) - 0.3 * (V + 54.387)
    return [dV, am * (1 - m) - bm * m, ah * (1 - h) - bh * h, an * (1 - n) - bn * n]


def morris_lecar(t, y, i):
    V, w = y
    m_inf = 0.5 * (1 + np.tanh((V + 1.2) / 18))
    w_inf = 0.5 * (1 + np.tanh((V - 2) / 30))
    dV = (i - 2 * (V + 60) - 4.4 * m_inf * (V - 120) - 8 * w * (V + 84)) / 20
    return [dV, 0.04 * (w_inf - w) * np.cosh((V - 2) / 60)]


def wilson_cowan(t, y, P, Q):
    E, inh = y
    return [-E + (1 - E) * sig(1.3 * (16 * E - 12 * inh + P - 4)),
            -inh + (1 - inh) * sig(2 * (15 * E - 3 * inh + Q - 3.7))]


def ltc(t, y, i):
    f = sig(0.5 * y[0] + i)
    return [-(1 + f) * y[0] + f]


CASES = {  # model: (reference f(t, y, *inputs), y0, inputs, t_end)
    "passive_membrane": (lambda t, y, i: [(-10 * (y[0] + 70) + i) / 200], [-65.0], {"I": 150.0}, 100.0),
    "fitzhugh_nagumo": (lambda t, y, i: [y[0] - y[0] ** 3 / 3 - y[1] + i, (y[0] + 0.7 - 0.8 * y[1]) / 12.5],
                        [1.0, 0.0], {"I": 0.5}, 100.0),
    "van_der_pol": (lambda t, y, i: [y[1], (1 - y[0] ** 2) * y[1] - y[0] + i], [2.0, 0.0], {"I": 0.0}, 20.0),
    "hodgkin_huxley": (hh, [-64.0, 0.05, 0.6, 0.32], {"I": 10.0}, 50.0),
    "morris_lecar": (morris_lecar, [-60.0, 0.01], {"I": 90.0}, 300.0),
    "hindmarsh_rose": (lambda t, y, i: [y[1] - y[0] ** 3 + 3 * y[0] ** 2 - y[2] + i, 1 - 5 * y[0] ** 2 - y[1],
                                        0.006 * (4 * (y[0] + 1.6) - y[2])], [-1.5, -10.0, 2.0], {"I": 3.25}, 200.0),
    "wilson_cowan": (wilson_cowan, [0.1, 0.05], {"P": 1.25, "Q": 0.0}, 50.0),
    "izhikevich": (lambda t, y, i: [0.04 * y[0] ** 2 + 5 * y[0] + 140 - y[1] + i, 0.02 * (0.2 * y[0] - y[1])],
                   [-70.0, -14.0], {"I": 2.0}, 10.0),
    "adex": (lambda t, y, i: [(-30 * (y[0] + 70.6) + 60 * np.exp((y[0] + 50.4) / 2) - y[1] + i) / 281,
                              (4 * (y[0] + 70.6) - y[1]) / 144], [-70.6, 0.0], {"I": 400.0}, 100.0),
    "ltc": (ltc, [0.2], {"I": 0.5}, 10.0),
    "lotka_volterra": (lambda t, y: [1.3 * y[0] - 0.9 * y[0] * y[1], 0.8 * y[0] * y[1] - 1.8 * y[1]],
                       [0.44249296, 4.6280594], {}, 3.0),
}


def test_every_library_model_has_a_reference_case():
    assert set(CASES) == set(LIBRARY)


@pytest.mark.parametrize("name", sorted(CASES))
def test_model_matches_reference(name):
    reference, y0, inputs, t_end = CASES[name]
    model = get_model(name)
    assert model.__doc__ or LIBRARY[name].__doc__
    t = np.linspace(0, t_end, 501)
    ours = simulate(model, [y0], t, inputs, rtol=1e-11, atol=1e-12).y[0]
    args = tuple(inputs[k] for k in model.inputs)
    ref = solve_ivp(reference, (0, t_end), y0, t_eval=t, method="DOP853", rtol=1e-10, atol=1e-12, args=args).y.T
    scale = np.maximum(np.abs(ref).max(axis=0), 1e-3)
    np.testing.assert_allclose(ours / scale, ref / scale, atol=1e-5)
    assert np.ptp(ref, axis=0).max() > 1e-3  # the case exercises the dynamics, not a fixed point


@pytest.mark.parametrize("name", sorted(LIBRARY))
def test_models_document_equations_citation_and_units(name):
    doc = LIBRARY[name].__doc__
    assert "/dt = " in doc, "equations in the docstring"
    assert re.search(r"\((19|20)\d\d\)|(19|20)\d\d", doc), "a citation with its year"
    model = get_model(name)
    for p in model.parameters:
        assert isinstance(p.value, float) and p.unit


def test_hh_rates_are_finite_at_their_singular_points():
    from discover.equations import compile_numpy

    rhs = compile_numpy(get_model("hodgkin_huxley"))
    for V in (-40.0, -55.0):
        dy = rhs(np.array([[V, 0.1, 0.5, 0.3]]), np.array([[0.0]]))
        assert np.all(np.isfinite(dy))
        # limit of the expo-linear rate at its midpoint is rate * scale / scale = rate
    am_limit = rhs(np.array([[-40.0, 0.0, 0.5, 0.3]]), np.array([[0.0]]))[0, 1]
    assert am_limit == pytest.approx(1.0, rel=1e-9)  # a_m(-40) = 1/ms, m = 0
