import numpy as np
import pytest
import sympy as sp

from discover import FitError, SparseDistiller
from discover.distill import Candidate, choose, pareto_front

v, w = sp.symbols("v w", real=True)


def test_recovers_exact_polynomial_with_small_noise():
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(2000, 2))
    y = X[:, 0] - X[:, 0] ** 3 / 3 + 0.5 * X[:, 0] * X[:, 1] + 1e-3 * rng.normal(size=2000)
    d = SparseDistiller(degree=3).fit(X, y, ["v", "w"])
    terms = d.expression_.as_coefficients_dict()
    assert set(terms) == {v, v**3, v * w}
    assert terms[v] == pytest.approx(1, rel=0.01)
    assert terms[v**3] == pytest.approx(-1 / 3, rel=0.01)
    assert terms[v * w] == pytest.approx(0.5, rel=0.01)
    assert d.chosen_ in d.front_ and len(d.candidates_) >= len(d.front_)


def test_front_and_choice_rule():
    cands = [Candidate(sp.Integer(i), c, e, "t") for i, (c, e) in enumerate([(1, 0.5), (2, 0.01), (3, 0.02), (5, 0.008)])]
    front = pareto_front(cands)
    assert [c.complexity for c in front] == [1, 2, 5]
    assert choose(front, tolerance=2.0, floor=0.0).complexity == 2
    assert choose(front, tolerance=1.0, floor=0.0).complexity == 5


def test_mismatched_inputs_are_errors():
    with pytest.raises(FitError, match="do not match"):
        SparseDistiller().fit(np.zeros((10, 2)), np.zeros(9), ["v", "w"])
