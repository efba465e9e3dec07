import numpy as np
import pytest
import sympy as sp
import torch

from discover import EquationError, EquationSystem
from discover.equations import SpikeRule, TorchRHS, compile_numpy
from discover.models import fitzhugh_nagumo
from tests.helpers import fhn_known


def test_rhs_count_and_undeclared_names_are_errors():
    with pytest.raises(EquationError, match="undeclared name `q`"):
        EquationSystem(states=("v",), rhs=(sp.Symbol("q", real=True),))
    with pytest.raises(EquationError, match="2 states"):
        EquationSystem(states=("v", "w"), rhs=(sp.Integer(0),))
    with pytest.raises(EquationError, match="more than once"):
        EquationSystem.from_text(["dv/dt = -v"], inputs=["v"])


def test_residual_placeholder_added_and_replaced():
    known = fhn_known()
    assert set(known.residuals) == {"v"}
    assert known.residual_features("v") == ("v", "w")
    v = known.symbol("v")
    closed = known.replace_residuals({"v": v - v**3 / 3}, how="test")
    full = fitzhugh_nagumo()
    assert all(sp.simplify(a - b) == 0 for a, b in zip(closed.rhs, full.rhs, strict=True))
    assert closed.discovered["v"] == v - v**3 / 3
    assert "test" in closed.provenance[-1]


def test_bad_residual_feature_is_named():
    with pytest.raises(EquationError, match="Did you mean `w`"):
        fitzhugh_nagumo().with_residual("v", ["v", "ww"])
    with pytest.raises(EquationError, match="unknown state 'x'"):
        fitzhugh_nagumo().with_residual("x")


def test_dict_round_trip_keeps_equations_and_placeholders():
    known = fhn_known().replace_residuals({}, how="noop")
    back = EquationSystem.from_dict(known.to_dict())
    assert back.states == known.states and back.inputs == known.inputs
    assert back.parameters == known.parameters
    assert all(sp.simplify(a - b) == 0 for a, b in zip(back.rhs, known.rhs, strict=True))
    assert set(back.residuals) == {"v"}


def test_numpy_and_torch_compilers_agree_with_hand_computation():
    system = fitzhugh_nagumo()
    y = np.array([[1.0, 0.5], [-1.5, 0.2]])
    u = np.array([[0.5], [0.0]])
    v, w, current = y[:, 0], y[:, 1], u[:, 0]
    expected = np.stack([v - v**3 / 3 - w + current, (v + 0.7 - 0.8 * w) / 12.5], -1)
    np.testing.assert_allclose(compile_numpy(system)(y, u), expected, rtol=1e-12)
    torch_out = TorchRHS(system)(torch.tensor(y), torch.tensor(u))
    np.testing.assert_allclose(torch_out.numpy(), expected, rtol=1e-12)


def test_compiling_with_open_residual_is_a_clear_error():
    with pytest.raises(EquationError, match="without_residuals"):
        compile_numpy(fhn_known())


def test_without_terms_removes_either_sign_and_names_missing_terms():
    s = fitzhugh_nagumo().without_terms("v", ["v", "v**3/3"])
    v, w, current = (s.symbol(n) for n in "vwI")
    assert s.rhs[0] == current - w
    with pytest.raises(EquationError, match="not in dv/dt; its terms are"):
        fitzhugh_nagumo().without_terms("v", ["v**2"])


def test_hh_potassium_current_removal():
    from discover.models import hodgkin_huxley

    hh = hodgkin_huxley()
    no_k = hh.without_terms("V", ["g_K*n**4*(V - E_K)/C"])
    g_K, n, V, E_K, C = (hh.symbol(x) for x in ("g_K", "n", "V", "E_K", "C"))
    assert sp.simplify(hh.rhs[0] - no_k.rhs[0] - (-g_K * n**4 * (V - E_K) / C)) == 0


def test_with_parameters_rejects_unknown_names():
    assert fitzhugh_nagumo().with_parameters({"a": 1.0}).parameter_values["a"] == 1.0
    with pytest.raises(EquationError, match="Did you mean `tau`"):
        fitzhugh_nagumo().with_parameters({"taw": 1.0})


def test_spike_rule_refuses_to_change_its_own_state_or_one_state_twice():
    with pytest.raises(EquationError, match="names 'V', the state the rule resets; .*`reset` \\(-58\\)"):
        SpikeRule("V", threshold=-30.0, reset=-58.0, add=(("V", 5.0),))
    with pytest.raises(EquationError, match=r"name \['w'\] more than once"):
        SpikeRule("V", threshold=-30.0, reset=-58.0, also=(("w", 0.0),), add=(("w", 1.0),))
    assert SpikeRule("V", threshold=-30.0, reset=-58.0, also=(("s", 0.0),), add=(("w", 1.0),)).effects() == \
        ", s -> 0, w += 1"
