"""Closed forms of gates (`discover.distill._kinetics`): fitted to curves, refitted on recordings,
written into the system every later stage reads."""

import numpy as np
import pytest
import sympy as sp

from discover import Trajectories, simulate
from discover.data import Step
from discover.distill._kinetics import GateForm, candidate, fit_to_curves
from discover.distill._kinetics_fit import gate_system, refit_on_data, tau_positive
from discover.export import export
from discover.models import get_model
from discover.ude._gates import DrivenWindows


def by_label(label):
    return candidate(label)


def hh_n_curves(v):
    alpha = 0.01 * (v + 55) / (1 - np.exp(-(v + 55) / 10))
    beta = 0.125 * np.exp(-(v + 65) / 80)
    return alpha / (alpha + beta), 1 / (alpha + beta)


def test_curves_of_hh_n_are_fitted_exactly_by_its_own_rate_forms():
    v = np.linspace(-80, 30, 200)
    x_inf, tau = hh_n_curves(v)
    p, error = fit_to_curves(by_label("alpha expo-linear, beta exponential"), v, x_inf, tau)
    assert error < 1e-6
    fx, ft = by_label("alpha expo-linear, beta exponential").curves(v, p, np)
    np.testing.assert_allclose(fx, x_inf, rtol=1e-5)
    assert p[:3] == pytest.approx([0.1, -55.0, 10.0], rel=1e-4)  # rate, midpoint, scale as NeuroML writes them
    _, boltzmann = fit_to_curves(by_label("x_inf Boltzmann, tau bell"), v, x_inf, tau)
    assert boltzmann > 100 * error  # n_inf is not a Boltzmann


def test_a_boltzmann_with_a_bell_is_morris_lecars_w():
    v = np.linspace(-60, 40, 200)
    x_inf, tau = (1 + np.tanh((v - 2) / 30)) / 2, 25 / np.cosh((v - 2) / 60)
    p, error = fit_to_curves(by_label("x_inf Boltzmann, tau bell"), v, x_inf, tau)
    assert error < 1e-6
    assert p == pytest.approx([2.0, 15.0, 25.0, 2.0, 60.0], rel=1e-4)


def morris_lecar_windows():
    system = get_model("morris_lecar")
    t = np.arange(0, 400, 0.5)
    data = simulate(system, np.array([[-60.0, 0.0]]), t, {"I": Step(100, 50, 350, 10)(t)[None]}, noise=0.01)
    return system, DrivenWindows(system, Trajectories(t, data.y[..., :1], data.u, ("V",), ("I",)), "w", "V", 8)


def test_a_refit_on_the_recording_returns_to_the_generating_parameters():
    system, windows = morris_lecar_windows()
    candidate = by_label("x_inf Boltzmann, tau bell")
    rows = np.arange(0, len(windows.starts), 2)
    p, loss = refit_on_data(candidate, np.array([-5.0, 12.0, 20.0, -10.0, 45.0]), windows, rows)
    assert np.isfinite(loss)
    assert p[[0, 3]] == pytest.approx([2.0, 2.0], abs=1.5)  # V_h, V_t (mV)
    assert p[[1, 2, 4]] == pytest.approx([15.0, 25.0, 60.0], rel=0.05)  # k, tau_max, width


def ml_form():
    values = {"Vh": 2.0, "k": 15.0, "tau_max": 25.0, "tau_V": 2.0, "tau_s": 60.0}
    return GateForm("steady state", ("Boltzmann", "bell"), values, dict.fromkeys(values, 0.0), 0.0, 0.0)


def test_the_gate_system_carries_the_form_with_units_and_drops_the_replaced_kinetics():
    system = get_model("morris_lecar")
    closed = gate_system(system, "w", "V", by_label("x_inf Boltzmann, tau bell"), ml_form())
    names = closed.parameter_names
    assert {"w_Vh", "w_k", "w_tau_max", "w_tau_V", "w_tau_s"} <= set(names)
    assert not {"phi", "V3", "V4"} & set(names)  # only w's old equation used them
    units = {p.name: p.unit for p in closed.parameters}
    assert units["w_Vh"] == "mV" and units["w_tau_max"] == "ms"
    t = np.linspace(0, 300, 601)
    ours = simulate(closed, [[-40.0, 0.1]], t, {"I": 90.0}).y[0]
    theirs = simulate(system, [[-40.0, 0.1]], t, {"I": 90.0}).y[0]
    np.testing.assert_allclose(ours, theirs, atol=1e-5)  # the same gate, written another way
    w, v = sp.symbols("w V", real=True)
    assert closed.discovered["w"] == closed.equation("w")


def test_a_gate_system_exports_with_its_gate(tmp_path):
    closed = gate_system(get_model("morris_lecar"), "w", "V", by_label("x_inf Boltzmann, tau bell"), ml_form())
    files = export(closed, "python", tmp_path, y0=[-40.0, 0.1], inputs={"I": 90.0}, duration=100.0)
    text = files[0].read_text()
    assert "w_tau_max" in text and "cosh" in text


def test_tau_is_checked_over_the_data_s_own_voltages_whatever_their_unit():
    """A bell in volts (Morris-Lecar's, scaled) is positive over its voltages; the check once swept
    -200..200 (mV), where a volts-scaled form overflows, and rejected it. A negative floor is refused."""
    bell = by_label("x_inf Boltzmann, tau bell")
    assert tau_positive(bell, np.array([0.002, 0.015, 25.0, 0.002, 0.06]), (-0.065, 0.035))
    assert tau_positive(bell, np.array([2.0, 15.0, 25.0, 2.0, 60.0]), (-65.0, 35.0))
    floor = by_label("x_inf Boltzmann, tau bell with floor")
    assert not tau_positive(floor, np.array([2.0, 15.0, -30.0, 25.0, 2.0, 60.0]), (-65.0, 35.0))
