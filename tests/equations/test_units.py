import dataclasses

import pytest

from discover import EquationError, EquationSystem
from discover.equations import Parameter
from discover.equations._units import parse_unit
from discover.models import LIBRARY, get_model


def test_unit_parsing():
    assert parse_unit("mV").scale == pytest.approx(1e-3) and parse_unit("mV").dims == parse_unit("V").dims
    assert parse_unit("mS/cm**2").same(parse_unit("mS*cm**-2"))
    assert (parse_unit("pA") / parse_unit("pF")).same(parse_unit("mV/ms"))
    assert (parse_unit("nS") * parse_unit("mV")).same(parse_unit("pA"))
    with pytest.raises(EquationError, match="Did you mean `mV`"):
        parse_unit("mv")
    with pytest.raises(EquationError, match="integer powers"):
        parse_unit("mV**x")


@pytest.mark.parametrize("name", sorted(LIBRARY))
def test_library_models_are_unit_consistent(name):
    get_model(name)  # construction runs the check; dimensional models must pass it


def test_prefix_mismatch_is_caught():
    model = get_model("passive_membrane")
    wrong = tuple(dataclasses.replace(p, unit="nF") if p.name == "C" else p for p in model.parameters)
    with pytest.raises(EquationError, match="prefix mismatch"):
        dataclasses.replace(model, parameters=wrong)


def test_dimension_mismatch_and_transcendental_arguments_are_caught():
    with pytest.raises(EquationError, match="different units"):
        EquationSystem.from_text(["dV/dt = (I - V)/C"], inputs=["I"], parameters=[Parameter("C", 1.0, "pF")],
                                 units={"V": "mV", "I": "pA"}, time_unit="ms")
    with pytest.raises(EquationError, match="argument of exp must be dimensionless"):
        EquationSystem.from_text(["dV/dt = exp(V)/tau"], parameters=[Parameter("tau", 1.0, "ms")],
                                 units={"V": "mV"}, time_unit="ms")


def test_numbers_added_to_voltages_take_their_unit():
    s = EquationSystem.from_text(["dV/dt = -(V + 65)/tau"], parameters=[Parameter("tau", 10.0, "ms")],
                                 units={"V": "mV"}, time_unit="ms")
    assert s.states == ("V",)


def test_residuals_and_discovered_terms_are_not_unit_checked():
    known = get_model("adex").without_terms("V", ["g_L*Delta_T*exp((V - V_T)/Delta_T)/C"]).with_residual("V")
    v = known.symbol("V")
    closed = known.replace_residuals({"V": 0.3 * v**2}, how="test")
    assert "V" in closed.discovered


def test_absolute_value_carries_its_arguments_unit():
    # max(0, V - V_knee) written as (x + |x|)/2 is in mV; Abs was treated as a transcendental function
    s = EquationSystem.from_text(["dh/dt = ((V - Vk + abs(V - Vk))/2 - h)/tau", "dV/dt = -V/tau"],
                                 parameters=[Parameter("tau", 1.0, "ms"), Parameter("Vk", -50.0, "mV")],
                                 units={"V": "mV", "h": "mV"}, time_unit="ms")
    assert s.states == ("h", "V")
    with pytest.raises(EquationError, match="different units"):
        EquationSystem.from_text(["dh/dt = (abs(V) - h)/tau", "dV/dt = -V/tau"],
                                 parameters=[Parameter("tau", 1.0, "ms")], units={"V": "mV", "h": "1"}, time_unit="ms")
