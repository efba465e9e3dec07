import numpy as np
import pytest
import sympy as sp

from discover import FitError, SparseDistiller
from discover.distill._library import inner_constants, refine_inner

V = sp.Symbol("V", real=True)


def _fn(expr, values):
    return sp.lambdify(V, expr, "numpy")(values)


def test_exp_library_recovers_spike_initiation_term():
    # AdEx: g_L*Delta_T/C*exp((V - V_T)/Delta_T), Delta_T = 2 mV, V_T = -50.4 mV
    rng = np.random.default_rng(0)
    v = rng.uniform(-70, -48, 1500)
    true = 30 * 2 / 281 * np.exp((v + 50.4) / 2)
    d = SparseDistiller(library=["polynomial", "exp"], degree=2).fit(
        np.c_[v, rng.uniform(0, 1, 1500)], true * (1 + 0.01 * rng.normal(size=1500)), ["V", "w"]
    )
    terms = sp.Add.make_args(d.expression_)
    assert len(terms) == 1 and d.expression_.has(sp.exp)
    slope = [float(a.args[0].coeff(V)) for a in d.expression_.atoms(sp.exp)]
    assert slope == [pytest.approx(0.5, rel=0.01)]  # 1/Delta_T
    assert _fn(d.expression_, np.array([-50.4]))[0] == pytest.approx(30 * 2 / 281, rel=0.02)


def test_sigmoid_library_recovers_gate_times_driving_force():
    # Morris-Lecar calcium current: g*(1 + tanh((V - V1)/V2))/2*(V - E) = g*sigmoid(2(V - V1)/V2)*(V - E)
    rng = np.random.default_rng(1)
    v = rng.uniform(-60, 20, 1500)
    true = 0.22 * (1 + np.tanh((v + 1.2) / 18)) / 2 * (v - 120)
    d = SparseDistiller(library=["polynomial", "sigmoid"], degree=1, criterion="bic").fit(
        np.c_[v], true + 0.01 * rng.normal(size=1500), ["V"]
    )
    two_terms = [c for c in d.front_ if len(sp.Add.make_args(c.expression)) == 2 and c.error < 1e-4]
    assert two_terms, [str(c.expression) for c in d.front_]
    grid = np.linspace(-60, 20, 200)
    reference = 0.22 * (1 + np.tanh((grid + 1.2) / 18)) / 2 * (grid - 120)
    got = _fn(two_terms[0].expression, grid)
    assert np.sqrt(np.mean((got - reference) ** 2)) < 0.02 * np.sqrt(np.mean(reference**2))


def test_bagging_reports_inclusion_frequencies_on_the_front():
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(1500, 2))
    y = X[:, 0] - X[:, 0] ** 3 / 3 + 1e-3 * rng.normal(size=1500)
    d = SparseDistiller(degree=3, n_bags=10).fit(X, y, ["v", "w"])
    assert d.chosen_.inclusion == {"v": 1.0, "v**3": 1.0}
    assert all(0 <= f <= 1 for c in d.front_ for f in c.inclusion.values())
    assert all(np.isfinite([c.aic, c.bic]).all() for c in d.candidates_)


def test_refine_inner_moves_a_misplaced_sigmoid():
    rng = np.random.default_rng(0)
    v = rng.uniform(-60, 20, 1000)
    y = 3.0 / (1 + np.exp(-(v + 10) / 5))
    start = 2.0 / (1 + sp.exp(-(V - sp.Float(0.0)) / sp.Float(8.0)))
    assert inner_constants(start)
    refined = refine_inner(start, v[:, None], y, ["V"])
    assert np.max(np.abs(_fn(refined, v) - y)) < 1e-3


def test_unknown_library_and_criterion_are_named():
    X, y = np.zeros((20, 1)), np.zeros(20)
    with pytest.raises(FitError, match="'sigmoidal'.*Did you mean `sigmoid`"):
        SparseDistiller(library=["sigmoidal"]).fit(X, y, ["V"])
    with pytest.raises(FitError, match="criterion"):
        SparseDistiller(criterion="aicc").fit(X, y, ["V"])


def test_trig_library_recovers_a_phase_difference_that_polynomials_only_mimic():
    # coupled phases interact through sin(x - y) (issue 34: it came back as 0.3 x - 0.36 y)
    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 3, size=(1500, 2))
    y = (-0.5 * X[:, 0] + 0.33 * np.sin(X[:, 0] - X[:, 1])) * (1 + 0.01 * rng.normal(size=1500))
    d = SparseDistiller(library=["polynomial", "trig"], degree=3).fit(X, y, ["x", "y"])
    x_, y_ = sp.symbols("x y", real=True)
    coefficients = d.expression_.as_coefficients_dict()
    assert set(coefficients) == {x_, sp.sin(x_ - y_)}, d.expression_
    assert float(coefficients[sp.sin(x_ - y_)]) == pytest.approx(0.33, rel=0.02)
    assert float(coefficients[x_]) == pytest.approx(-0.5, rel=0.02)


@pytest.mark.parametrize(("truth", "K"), [(lambda x: -0.9 * x**2 / (x**2 + 449), 449.0),  # Hill, n = 2
                                          (lambda x: 2.0 * x / (5.0 + x), 5.0)])  # Michaelis-Menten
def test_saturating_library_recovers_the_half_saturation_constant(truth, K):
    # issue 34: -0.9 x^2/(x^2 + 449) came back as -0.014 x from a polynomial library
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 40, 1500)
    d = SparseDistiller(library=["polynomial", "saturating"], degree=3).fit(
        x[:, None], truth(x) * (1 + 0.01 * rng.normal(size=1500)), ["x"])
    (term,) = sp.Add.make_args(d.expression_)
    found = [float(c) for c in inner_constants(term)]
    assert found == [pytest.approx(K, rel=0.02)], d.expression_
    grid = np.linspace(0, 40, 200)
    got = sp.lambdify(sp.Symbol("x", real=True), d.expression_, "numpy")(grid)
    assert np.max(np.abs(got - truth(grid))) < 0.02 * np.max(np.abs(truth(grid)))


def test_refinement_that_drives_two_terms_to_cancel_is_not_kept():
    # (1 + 0.05 V) e^(0.2 V) from two exponentials: refined freely, their slopes meet at 0.2 with
    # coefficients of -1.6e6 and +1.6e6 (a difference quotient 15,000 times its own size); the guard
    # keeps the unrefined sum instead
    rng = np.random.default_rng(0)
    v = rng.uniform(-60, -20, 1500)
    y = (1 + 0.05 * v) * np.exp(0.2 * v) * 1e3
    start = sp.Float(1.0) * sp.exp(sp.Float(0.19) * V) + sp.Float(1.0) * sp.exp(sp.Float(0.21) * V)
    out = refine_inner(start, v[:, None], y, ["V"])
    sizes = [np.sqrt(np.mean(_fn(t, v) ** 2)) for t in sp.Add.make_args(out)]
    assert sum(sizes) <= 100 * np.sqrt(np.mean(_fn(out, v) ** 2)), out
