"""The generated right-hand sides (one compiled function per system) against the tree-walking oracle."""

import dataclasses

import numpy as np
import pytest
import sympy as sp
import torch

from discover import EquationError, EquationSystem, Parameter
from discover.equations import SpikeRule, TorchRHS, compile_numpy
from discover.equations._functions import exprel_numpy
from discover.models import LIBRARY
from tests.equations.tree_walk import tree_walk_rhs
from tests.helpers import fhn_known


def _inputs(system, batch=64, seed=0):
    """Random states and inputs in each model's working range (membrane potentials in mV)."""
    rng = np.random.default_rng(seed)
    def column(name):
        mv = system.units.get(name) == "mV"
        return rng.uniform(-80.0, -20.0, batch) if mv else rng.uniform(-1.5, 1.5, batch)
    y = np.stack([column(n) for n in system.states], -1)
    u = np.stack([column(n) for n in system.inputs], -1) if system.inputs else np.zeros((batch, 0))
    return y, u


def _value_and_gradients(rhs, y, u, free=None):
    y, u = torch.tensor(y, requires_grad=True), torch.tensor(u, requires_grad=True)
    leaves = [y, u] + ([free.detach().clone().requires_grad_()] if free is not None else [])
    out = rhs(y, u, None, leaves[2] if free is not None else None)
    weights = torch.linspace(0.5, 1.5, out.numel(), dtype=out.dtype).reshape(out.shape)
    grads = torch.autograd.grad((out * weights).sum(), leaves, allow_unused=True)
    return out.detach(), [torch.zeros_like(x) if g is None else g for x, g in zip(leaves, grads, strict=True)]


def _assert_same(new, old):
    (a, grads_a), (b, grads_b) = new, old
    torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12, equal_nan=True)
    for ga, gb in zip(grads_a, grads_b, strict=True):
        torch.testing.assert_close(ga, gb, rtol=1e-9, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("name", sorted(LIBRARY))
def test_generated_torch_matches_tree_walk_with_gradients(name):
    system = LIBRARY[name]()
    y, u = _inputs(system)
    _assert_same(_value_and_gradients(TorchRHS(system), y, u), _value_and_gradients(tree_walk_rhs(system), y, u))
    # every parameter free: the refits' path (values passed per row, gradients to them)
    free = system.parameter_names
    values = torch.tensor([system.parameter_values[n] for n in free], dtype=torch.float64).expand(len(y), -1)
    _assert_same(_value_and_gradients(TorchRHS(system, free=free), y, u, values),
                 _value_and_gradients(tree_walk_rhs(system, free=free), y, u, values))


@pytest.mark.parametrize("name", sorted(LIBRARY))
def test_generated_numpy_matches_lambdify(name):
    system = LIBRARY[name]()
    y, u = _inputs(system, seed=1)
    symbols = [system.symbol(n) for n in (*system.states, *system.inputs)]
    columns = [y[:, i] for i in range(y.shape[1])] + [u[:, j] for j in range(u.shape[1])]
    expected = np.stack([np.broadcast_to(sp.lambdify(symbols, r, modules=[{"exprel": exprel_numpy}, "numpy"])(*columns),
                                         len(y)) for r in system.substituted()], -1)
    np.testing.assert_allclose(compile_numpy(system)(y, u), expected, rtol=1e-10, atol=1e-12)


def test_residuals_spike_cap_constants_and_powers_match_tree_walk():
    system = _spiking_with_residual()
    rhs, oracle = TorchRHS(system), tree_walk_rhs(system)
    assert rhs.residual_states == ("V",)
    y = torch.tensor([[-70.0, 0.5, 0.0], [-50.0, -0.2, 0.0], [-40.0, 1.0, 0.0], [-10.0, 2.0, 1.0]],
                     dtype=torch.float64, requires_grad=True)
    u = torch.tensor([[0.5], [0.0], [1.0], [2.0]], dtype=torch.float64)
    r = torch.tensor([[0.1], [0.2], [0.3], [0.4]], dtype=torch.float64, requires_grad=True)
    a, b = rhs(y, u, r), oracle(y, u, r)
    torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    assert a[2, 0] == 0 and a[3, 0] == 0  # at and above the threshold the spiking state stands still
    ga = torch.autograd.grad(a.sum(), (y, r))
    gb = torch.autograd.grad(oracle(y, u, r).sum(), (y, r))
    for x1, x2 in zip(ga, gb, strict=True):
        torch.testing.assert_close(x1, x2, rtol=1e-12, atol=1e-12)
    assert torch.isfinite(ga[0]).all()  # exprel's 0/0 point (V = -50) has a finite gradient


def _spiking_with_residual():
    """A spiking system with a residual, constants (pi, exp(2)), integer, negative and non-integer powers."""
    system = EquationSystem.from_text(
        ["dV/dt = -(V + 65) + 2*exp((V + 50)/2) - w + I", "dw/dt = (V + 80)**1.5/10 + exprel(V + 50) - pi",
         "ds/dt = exp(2) + sqrt(w**2 + 1) - 1/w**3"], inputs=["I"])
    spiking = dataclasses.replace(system, spike=SpikeRule("V", threshold=-40.0, reset=-65.0))
    return spiking.with_residual("V", ["V", "w"])


def test_float32_stays_float32_and_constant_rhs_broadcast():
    system = EquationSystem.from_text(["dx/dt = exp(2)*x - pi", "dy/dt = 3"])
    y, u = torch.rand(5, 2, dtype=torch.float32), torch.zeros(5, 0, dtype=torch.float32)
    out = TorchRHS(system)(y, u)
    assert out.dtype == torch.float32 and out.shape == (5, 2)
    torch.testing.assert_close(out[:, 1], torch.full((5,), 3.0))
    torch.testing.assert_close(out[:, 0], float(np.exp(2)) * y[:, 0] - float(np.pi))
    # numpy: any leading shape, a constant right-hand side filled in everywhere
    f = compile_numpy(system)
    yn = np.random.default_rng(0).normal(size=(3, 4, 2))
    res = f(yn, np.zeros((3, 4, 0)))
    assert res.shape == (3, 4, 2)
    np.testing.assert_allclose(res[..., 1], 3.0)
    np.testing.assert_allclose(res[..., 0], np.exp(2) * yn[..., 0] - np.pi, rtol=1e-14)


def test_free_parameter_vector_broadcasts_over_the_batch():
    system = EquationSystem.from_text(["dx/dt = -k*x", "dy/dt = k**2"], parameters={"k": 0.5})
    k = torch.tensor([2.0], dtype=torch.float64, requires_grad=True)
    y = torch.ones(4, 2, dtype=torch.float64)
    out = TorchRHS(system, free=("k",))(y, torch.zeros(4, 0, dtype=torch.float64), None, k)
    torch.testing.assert_close(out, torch.tensor([[-2.0, 4.0]] * 4, dtype=torch.float64))
    (grad,) = torch.autograd.grad(out.sum(), k)
    assert grad.item() == pytest.approx(4 * -1.0 + 4 * 4.0)


@pytest.mark.parametrize("expr", [sp.erf(sp.Symbol("x", real=True)), sp.Symbol("x", real=True) * sp.I,
                                  sp.Piecewise((1, sp.Symbol("x", real=True) > 0), (0, True)),
                                  sp.Function("U_x")(sp.Symbol("x", real=True)) + 1])
def test_unsupported_node_is_an_equation_error(expr):
    system = EquationSystem(states=("x",), rhs=(expr,))
    with pytest.raises(EquationError, match="cannot compile .* is not supported|residual placeholders"):
        compile_numpy(system)
    if not system.residuals:
        with pytest.raises(EquationError, match="to torch: .* is not supported"):
            TorchRHS(system)


def test_names_never_reach_the_generated_source():
    """States and parameters named like Python built-ins are printed as our own variable names."""
    system = EquationSystem.from_text(["d__import__/dt = -exec*__import__ + open"], inputs=["open"],
                                      parameters={"exec": 2.0})
    rhs = TorchRHS(system, free=("exec",))
    assert "__import__" not in rhs.source and "exec" not in rhs.source and "open" not in rhs.source
    out = rhs(torch.tensor([[1.0]]), torch.tensor([[0.5]]), None, torch.tensor([[2.0]]))
    assert out.item() == pytest.approx(-1.5)
    assert compile_numpy(system)(np.array([[1.0]]), np.array([[0.5]]))[0, 0] == pytest.approx(-1.5)


def test_long_sums_and_deep_nests_compile():
    x = sp.Symbol("x", real=True)
    long_sum = sum(sp.Float(k + 1) * x**k for k in range(400))
    deep = x
    for _ in range(60):  # 120 nested parentheses as printed: hoisted into temporaries
        deep = sp.tanh(deep + 1)
    system = EquationSystem(states=("x", "y"), rhs=(long_sum, deep))
    y = np.array([[0.5, 0.0]])
    value = 0.5
    for _ in range(60):
        value = np.tanh(value + 1)
    expected = [sum((k + 1) * 0.5**k for k in range(400)), value]
    np.testing.assert_allclose(compile_numpy(system)(y, np.zeros((1, 0)))[0], expected, rtol=1e-12)
    np.testing.assert_allclose(TorchRHS(system)(torch.tensor(y), torch.zeros(1, 0)).numpy()[0], expected, rtol=1e-12)


def test_hybrid_residual_system_compiles_like_the_tree_walk():
    system = fhn_known()
    y, u = _inputs(system, batch=16)
    r = torch.linspace(-1, 1, 16, dtype=torch.float64)[:, None]
    torch.testing.assert_close(TorchRHS(system)(torch.tensor(y), torch.tensor(u), r),
                               tree_walk_rhs(system)(torch.tensor(y), torch.tensor(u), r))


def test_every_function_and_power_has_the_tree_walks_gradient_from_one_fused_node():
    system = EquationSystem.from_text(
        ["dx/dt = exp(-x) + log(y) + sqrt(y) + tanh(x*y) + sinh(x/2) - cosh(x/3) + sin(2*x) * cos(y) + abs(x - y)",
         "dy/dt = exprel(x - 0.5) + y**1.7 - 3/y**2 + k*x**3/y - 1/sqrt(y)"],
        inputs=["k"])
    rng = np.random.default_rng(3)
    y = np.stack([rng.uniform(-2, 2, 50), rng.uniform(0.2, 3.0, 50)], -1)
    y[0] = [0.5, 1.0]  # exprel's 0/0 point
    u = rng.uniform(-1, 1, (50, 1))
    rhs = TorchRHS(system)
    _assert_same(_value_and_gradients(rhs, y, u), _value_and_gradients(tree_walk_rhs(system), y, u))
    out = rhs(torch.tensor(y, requires_grad=True), torch.tensor(u))
    assert type(out.grad_fn).__name__ == "_FusedBackward"


def test_exprel_derivative_matches_autograd_through_both_branches():
    from discover.equations._compile import exprel_prime_torch
    from discover.equations._functions import exprel_torch

    x = torch.tensor([-30.0, -1.0, -1.1e-4, -0.9e-4, 0.0, 1e-6, 0.9e-4, 1.1e-4, 0.3, 20.0], dtype=torch.float64,
                     requires_grad=True)
    (expected,) = torch.autograd.grad(exprel_torch(x).sum(), x)
    torch.testing.assert_close(exprel_prime_torch(x.detach()), expected, rtol=1e-12, atol=0.0)


def test_variable_exponent_is_differentiated_by_autograd():
    """sympy writes d(x**k)/dx as k*x**k/x, 0/0 at x = 0 where torch gives 0: those systems keep autograd."""
    system = EquationSystem.from_text(["dx/dt = -x**k", "dy/dt = x - y"], parameters={"k": 1.5})
    y = np.array([[0.0, 1.0], [0.5, 2.0], [2.0, 0.1]])
    k = torch.tensor([[1.5]] * 3, dtype=torch.float64)
    new = _value_and_gradients(TorchRHS(system, free=("k",)), y, np.zeros((3, 0)), k)
    _assert_same(new, _value_and_gradients(tree_walk_rhs(system, free=("k",)), y, np.zeros((3, 0)), k))
    assert torch.isfinite(new[1][0]).all()


def test_float32_gradients_stay_float32_and_second_derivatives_are_refused():
    system = fhn_known().without_residuals()  # dv/dt = -w + I, dw/dt = (v + 0.7 - 0.8 w)/12.5
    y = torch.rand(8, 2, dtype=torch.float32, requires_grad=True)
    u = torch.rand(8, 1, dtype=torch.float32)
    out = TorchRHS(system)(y, u)
    assert out.dtype == torch.float32
    (grad,) = torch.autograd.grad(out.sum(), y)
    assert grad.dtype == torch.float32
    torch.testing.assert_close(grad, torch.tensor([[1 / 12.5, -1 - 0.8 / 12.5]] * 8))
    with pytest.raises(RuntimeError, match="first derivatives only"):
        torch.autograd.grad(TorchRHS(system)(y, u).sum(), y, create_graph=True)


def test_a_number_kept_to_six_digits_is_the_decimal_it_shows():
    """Refits store sp.Float(v, 6): its value is the 0.200153 that reports show and results save."""
    x = sp.Symbol("x", real=True)
    system = EquationSystem(states=("x",), rhs=(sp.Float(0.2001534567, 6) * x,))
    assert compile_numpy(system)(np.array([[1.0]]), np.zeros((1, 0)))[0, 0] == 0.200153
    assert TorchRHS(system)(torch.ones(1, 1, dtype=torch.float64), torch.zeros(1, 0)).item() == 0.200153


def test_a_symbol_without_the_real_assumption_is_the_declared_name():
    """Systems are checked by names: a term built elsewhere may hold `V` without real=True."""
    v_real, v_plain, g = sp.Symbol("V", real=True), sp.Symbol("V"), sp.Symbol("g")
    system = EquationSystem(states=("V",), rhs=(-0.3 * v_real - g * v_plain,), parameters=(Parameter("g", 0.05),))
    assert compile_numpy(system)(np.array([[2.0]]), np.zeros((1, 0)))[0, 0] == pytest.approx(-0.7)
    assert TorchRHS(system)(torch.tensor([[2.0]]), torch.zeros(1, 0)).item() == pytest.approx(-0.7)
