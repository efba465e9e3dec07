"""A spike rule that compares another state with its threshold (`SpikeRule.watch`) and resets the
spiking one: the escape-noise median of a GIF, H integrating exp((V - VT)/DV) and firing at ln 2."""

import dataclasses
import json

import numpy as np
import pytest

from discover import EquationError, EquationSystem
from discover.data import simulate
from discover.equations import Parameter, SpikeRule, compile_numpy
from discover.report._latex import equations_latex
from discover.report._text import equations_text
from discover.validate import spike_trains

LN2 = float(np.log(2.0))
RULE = SpikeRule("V", threshold=LN2, reset=-60.0, refractory=2.0, also=(("H", 0.0),), watch="H")


def median_lif(rule=RULE):
    """A leaky membrane whose spikes are read off the integrated escape rate H."""
    return EquationSystem.from_text(
        ["dV/dt = (-gL*(V - EL) + I)/C", "dH/dt = rate_0*exp((V - VT)/DV)"], inputs=["I"],
        parameters=[Parameter("C", 100.0, "pF"), Parameter("gL", 5.0, "nS"), Parameter("EL", -65.0, "mV"),
                    Parameter("VT", -50.0, "mV"), Parameter("DV", 2.0, "mV"), Parameter("rate_0", 1.0, "1/ms")],
        units={"V": "mV", "I": "pA"}, time_unit="ms", name="median_lif", spike=rule)


@pytest.mark.parametrize(("changes", "message"), [
    ({"watch": "V"}, r"`watch` is 'V'; name a state other than 'V'"),
    ({"watch": 3}, r"`watch` is 3"),
    ({"moving": (("H", 1.0),)}, r"`moving` names 'H', the state that spikes"),
])
def test_a_bad_watched_state_is_refused_by_name(changes, message):
    with pytest.raises(EquationError, match=message):
        dataclasses.replace(RULE, **changes)


def test_the_watched_state_must_be_a_state_of_the_system():
    with pytest.raises(EquationError, match=r"spike rule `watch` names 'HH', which is not a state of \['V', 'H'\]"
                                            r".*Did you mean `H`\?"):
        median_lif(dataclasses.replace(RULE, watch="HH"))


def test_round_trip_keeps_the_watched_state_and_an_old_file_still_loads():
    system = median_lif()
    again = EquationSystem.from_dict(json.loads(system.to_json()))
    assert again.spike == system.spike and again.spike.watched == "H"
    old = system.to_dict()
    del old["spike"]["watch"]  # written before rules could watch another state
    old["spike"]["also"] = []
    assert EquationSystem.from_dict(old).spike.watched == "V"


def test_text_and_latex_compare_the_watched_state_and_reset_the_spiking_one():
    system = median_lif()
    assert "spike when H >= 0.693147: V -> -60, H -> 0, held for 2 ms" in str(system)
    assert "spike when H >= 0.693147: V -> -60, H -> 0" in equations_text(system)
    assert r"H \geq 0.693147:\ V \leftarrow -60" in equations_latex(system)


def test_both_simulators_fire_where_the_watched_state_crosses_and_reset_the_spiking_one():
    system, dt = median_lif(), 0.01
    t = np.arange(0.0, 200.0, dt)
    (rk4,) = spike_trains(compile_numpy(system), system.spike, 0, np.array([[-65.0, 0.0]]),
                          np.full((1, t.size, 1), 90.0), dt, 1, system.states)
    y = simulate(system, np.array([-65.0, 0.0]), t, {"I": 90.0}).y[0]
    # the event-based run's spike samples hold the threshold in H; V sits at the reset after them
    events = t[np.flatnonzero(np.isclose(y[:, 1], LN2))]
    assert len(rk4) >= 4 and len(events) == len(rk4)
    # RK4's spikes land at a step's end, up to dt after the crossing, and the lateness adds up
    np.testing.assert_allclose(events, rk4, atol=len(rk4) * dt / 2)
    # V passed VT (-50 mV at 90 pA: EL + I/gL = -47) before each spike: the rule did not watch V
    assert np.all(y[np.searchsorted(t, rk4) + 1, 0] <= -59.0)
