"""Candidates re-simulated as one batch and refit in lockstep give what one at a time gives."""

import dataclasses
import threading

import numpy as np
import pytest
import sympy as sp
import torch

from discover import EquationSystem, simulate
from discover.choose import _monomials
from discover.choose._batch import Batch, candidate_errors, fit_numbers
from discover.choose._lockstep import TOLERANCE_CHANGE, lbfgs_many
from discover.choose._monomials import Monomials, integrate, linear
from discover.choose._score import checked_error, checks
from discover.equations import Parameter, TorchRHS
from discover.integrate import Windows, integrate_windows
from discover.models import fitzhugh_nagumo
from discover.ude import HybridODE
from discover.ude._hybrid import MLPResidual
from tests.helpers import fhn_known

V, W = sp.symbols("v w", real=True)
F = sp.Float
T = np.arange(0, 20.0001, 0.1)


def lbfgs(values: torch.Tensor, loss, iterations: int) -> tuple[float, float]:
    """One problem's L-BFGS, the reference `lbfgs_many` must match: minimise `loss()` over
    `values` in place; returns (loss before, loss after), `after` = inf where a trial step blew up
    the solver (the refit that used it, before batching, kept what it had then)."""
    with torch.no_grad():
        before = loss().item()
    if not np.isfinite(before):
        return before, float("inf")
    opt = torch.optim.LBFGS([values], max_iter=iterations, line_search_fn="strong_wolfe",
                            tolerance_change=TOLERANCE_CHANGE)

    def closure() -> torch.Tensor:
        opt.zero_grad()
        value = loss() / (before if before > 0 else 1.0)  # in units of the start, as lbfgs_many does
        value.backward()
        return value

    try:
        opt.step(closure)
    except RuntimeError:
        return before, float("inf")
    with torch.no_grad():
        return before, loss().item()


@pytest.fixture(scope="module")
def data():
    y0 = np.random.default_rng(0).uniform([-2, -1], [2, 2], size=(2, 2))
    return simulate(fitzhugh_nagumo(), y0, T, {"I": 0.5}, noise=0.01, seed=0)


# sums of numbers x monomials (one shared evaluation), a tied number (0.3 twice), an integer
# coefficient, and two that are not (evaluated on their own)
CANDIDATES = [F(0.35) * W, F(-0.33) * V**3 + F(0.98) * V, F(0.3) * V - F(0.3) * V**3 + F(0.02),
              V - V**3 / 3 + F(0.01) * V * W**2, F(0.87) * sp.tanh(F(0.99) * W) - F(0.33),
              F(-0.3) * V**3 + F(1.1) * V * sp.exp(F(-0.01) * W)]


def _one_at_a_time(system, state, exprs, tests, nets=()):
    return [checked_error(HybridODE(system.replace_residuals({state: e}, how="test"), list(nets)).double(), tests, 1)
            for e in exprs]


def test_batched_errors_match_one_at_a_time(data):
    tests = checks(data, 40, 128, 0, data)
    batched = candidate_errors(Batch(fhn_known(), [{"v": e} for e in CANDIDATES]), tests, 1)
    assert batched == pytest.approx(_one_at_a_time(fhn_known(), "v", CANDIDATES, tests), rel=1e-9)


def test_batched_errors_match_with_a_network_and_a_nonpolynomial_known_part(data):
    """dw/dt still a network (the UDE route scores one state at a time), and a known part that is
    not a polynomial (so the known part is the system's compiled function)."""
    system = EquationSystem.from_text(["dv/dt = -w + I*exp(0*v)", "dw/dt = (v + a - b*w)/tau"], inputs=["I"],
                                      parameters={"a": 0.7, "b": 0.8, "tau": 12.5})
    system = system.with_residual("v", ["v", "w"]).with_residual("w", ["v"])
    torch.manual_seed(0)
    net = MLPResidual(np.zeros(1), np.ones(1), 0.05, 8, 1).double().requires_grad_(False)
    tests = checks(data, 20, 64, 0)
    batched = candidate_errors(Batch(system, [{"v": e} for e in CANDIDATES], [net]), tests, 1)
    assert batched == pytest.approx(_one_at_a_time(system, "v", CANDIDATES, tests, [net]), rel=1e-9)


def test_a_candidate_that_blows_up_scores_inf_and_leaves_the_others_alone(data):
    tests = checks(data, 40, 64, 0)
    exprs = [F(0.35) * W, F(5.0) * V**5, F(-0.33) * V**3 + F(0.98) * V]
    batched = candidate_errors(Batch(fhn_known(), [{"v": e} for e in exprs]), tests, 1)
    alone = _one_at_a_time(fhn_known(), "v", exprs, tests)
    assert batched[1] == np.inf == alone[1]
    assert [batched[0], batched[2]] == pytest.approx([alone[0], alone[2]], rel=1e-9)


def test_lockstep_refits_match_one_at_a_time(data):
    """Each candidate's numbers refit by its own L-BFGS, in lockstep, land where the refit of that
    candidate alone (through its compiled right-hand side) lands."""
    system, exprs = fhn_known(), [CANDIDATES[1], CANDIDATES[2], CANDIDATES[4]]
    windows = Windows(data, 40, torch.float64)
    idx = windows.sample(np.random.default_rng(1), 64)
    batched = fit_numbers(Batch(system, [{"v": e} for e in exprs]), range(3), windows, idx, 1, 30)
    for expr, (numbers, before, after) in zip(exprs, batched, strict=True):
        floats = sorted(expr.atoms(sp.Float), key=float)
        names = tuple(f"p{i}" for i in range(len(floats)))
        extra = tuple(Parameter(n, float(f)) for n, f in zip(names, floats, strict=True))
        symbols = dict(zip(floats, sp.symbols(names, real=True), strict=True))
        template = dataclasses.replace(system, parameters=(*system.parameters, *extra))
        rhs = TorchRHS(template.replace_residuals({"v": expr.xreplace(symbols)}, how="test"), free=names)
        # each number moves in units of its own size (none of these multiplies an exponential)
        starts = torch.tensor([float(str(f)) for f in floats], dtype=torch.float64)
        steps = torch.zeros_like(starts, requires_grad=True)
        alone = lbfgs(steps, lambda rhs=rhs, steps=steps, starts=starts: windows.loss(
            lambda y, u: rhs(y, u, None, starts + starts.abs() * steps), idx), 30)
        assert (before, after) == pytest.approx(alone, rel=1e-6)
        values = (starts + starts.abs() * steps).detach().tolist()
        assert [float(numbers[f]) for f in floats] == pytest.approx(values, rel=1e-4)


def test_lockstep_lbfgs_is_each_problem_s_own_lbfgs():
    """Independent problems, one of them starting where its loss is not finite: each ends where
    L-BFGS alone takes it; the non-finite one is left as it was (after = inf)."""
    targets = [torch.tensor([1.0, -2.0]), torch.tensor([3.0, 0.5]), torch.tensor([0.0, 0.0])]

    def loss(k, x):
        value = ((x - targets[k]) ** 4).sum() + (x[0] * x[1] - 1) ** 2
        return value + (torch.log(x[0]) if k == 2 else 0)  # log of a negative number: NaN from the start

    starts = [torch.tensor([0.5, 0.5]), torch.tensor([-1.0, 2.0]), torch.tensor([-1.0, 1.0])]
    values = [s.clone().double().requires_grad_(True) for s in starts]
    results = lbfgs_many(values, lambda ks: torch.stack([loss(k, values[k]) for k in ks]), 20)
    for k in (0, 1):
        alone = starts[k].clone().double().requires_grad_(True)
        assert results[k] == pytest.approx(lbfgs(alone, lambda k=k, alone=alone: loss(k, alone), 20), rel=1e-12)
        assert values[k].detach().tolist() == pytest.approx(alone.detach().tolist(), rel=1e-12)
    assert not np.isfinite(results[2][0]) and results[2][1] == np.inf
    assert values[2].detach().tolist() == starts[2].tolist()


def test_a_runtime_error_fails_only_the_problem_it_came_from():
    """As one problem's own L-BFGS would stop at a RuntimeError of its loss (after = inf), the
    others in the batch go on to where they would have gone alone."""
    values = [torch.zeros(2, dtype=torch.float64, requires_grad=True) for _ in range(2)]

    def loss(k):
        if k == 1 and torch.is_grad_enabled():
            raise RuntimeError("the solver blew up")
        return ((values[k] - torch.tensor([1.0, 2.0])) ** 4).sum()

    results = lbfgs_many(values, lambda ks: torch.stack([loss(k) for k in ks]), 10)
    alone = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    expected = lbfgs(alone, lambda: ((alone - torch.tensor([1.0, 2.0])) ** 4).sum(), 10)
    assert results[0] == pytest.approx(expected, rel=1e-12) and results[1] == (16 + 1.0, float("inf"))


def test_an_error_in_a_batched_evaluation_reaches_the_caller():
    values = [torch.zeros(2, dtype=torch.float64, requires_grad=True) for _ in range(2)]
    calls = []

    def losses(ks):
        calls.append(ks)
        if len(calls) > 1:
            raise KeyError("boom")
        return torch.stack([(values[k] - 1).pow(2).sum() for k in ks])

    threads = threading.active_count()
    with pytest.raises(KeyError):
        lbfgs_many(values, losses, 5)
    assert threading.active_count() == threads  # no worker left waiting for an evaluation


@pytest.mark.parametrize("substeps", [1, 2])
@pytest.mark.parametrize("keep", [True, False])
def test_polynomial_integration_gradient_is_rk4_s_own(substeps, keep, monkeypatch):
    """The integration of a polynomial right-hand side as one autograd node (its backward written
    out) gives the values and gradients autograd gives through `integrate_windows`, whether it
    keeps each stage's monomials for the backward or recomputes them."""
    monkeypatch.setattr(_monomials, "KEEP_BYTES", 2**28 if keep else 0)
    torch.manual_seed(0)
    keys = [(0, 0, 0), (1, 0, 0), (0, 1, 0), (3, 0, 0), (1, 1, 0), (0, 0, 1), (2, 0, 1)]
    plan = Monomials(keys, 2)
    coefficients = (0.3 * torch.randn(len(keys), 3, 2, dtype=torch.float64)).requires_grad_(True)
    y0 = torch.randn(12, 2, dtype=torch.float64, requires_grad=True)
    u = torch.randn(12, 7, 1, dtype=torch.float64)
    reference = integrate_windows(lambda y, v: linear(y, v, coefficients, plan), y0, u, 0.1, "rk4", substeps)
    fused = integrate(y0, u, 0.1, substeps, coefficients, plan)
    assert torch.equal(reference, fused)
    weights = torch.randn_like(reference)
    for a, b in zip(torch.autograd.grad((reference * weights).sum(), (y0, coefficients)),
                    torch.autograd.grad((fused * weights).sum(), (y0, coefficients)), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    assert torch.autograd.gradcheck(lambda y, c: integrate(y, u, 0.1, substeps, c, plan), (y0, coefficients))


def test_only_an_exponential_s_own_prefactor_is_refit_in_log_units():
    """c in c exp(b v) and in c v exp(b w) (a location in disguise) moves in log units; a sigmoid's
    amplitude, a constant and the numbers inside the functions move in units of their size."""
    expr = (F(2.5) * sp.exp(F(0.3) * V) + F(1.5) / (1 + sp.exp(-F(0.7) * W)) + F(0.25) * V * sp.exp(F(0.1) * W)
            - F(0.125))
    batch = Batch(fhn_known(), [{"v": expr}])
    marked = {float(f) for f, log in zip(batch.floats(0), batch.exp_prefactors(0), strict=True) if log}
    assert marked == {2.5, 0.25}
