import numpy as np
import pytest
import sympy as sp

from discover import EquationError, FitError
from discover.distill import SymbolicDistiller
from discover.distill._polish import polish

v, w = sp.symbols("v w", real=True)


def test_operon_recovers_cubic_after_polishing():
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(800, 2))
    y = X[:, 0] - X[:, 0] ** 3 / 3
    d = SymbolicDistiller(operators=("add", "sub", "mul"), max_evaluations=50_000, seed=0).fit(X, y, ["v", "w"])
    exact = [c for c in d.front_ if set(c.expression.as_coefficients_dict()) == {v, v**3}]
    assert exact, [str(c.expression) for c in d.front_]
    coefs = exact[0].expression.as_coefficients_dict()
    assert float(coefs[v]) == pytest.approx(1, rel=1e-3) and float(coefs[v**3]) == pytest.approx(-1 / 3, rel=1e-3)
    assert d.chosen_ in d.front_


def test_polish_prunes_near_cancelling_terms_and_refits():
    X = np.random.default_rng(1).uniform(-2, 2, size=(500, 1))
    y = X[:, 0] - X[:, 0] ** 3 / 3
    messy = (0.132499 * v + 0.229494) * (-2.515758 * v**2 + 4.357409 * v)  # as pyoperon printed it
    clean = polish(messy, X, y, ["v"], prune=1e-3)
    assert set(clean.as_coefficients_dict()) == {v, v**3}


def test_pysr_backend_without_julia_says_what_to_install():
    pytest.importorskip("numpy")
    try:
        import pysr  # noqa: F401
    except Exception:
        pass
    else:
        pytest.skip("PySR with Julia is installed here; the error path is not reachable")
    with pytest.raises(FitError, match="pip install pysr"):
        SymbolicDistiller(backend="pysr").fit(np.zeros((10, 1)), np.zeros(10), ["v"])


def test_unknown_backend_is_named():
    with pytest.raises(FitError, match="backend"):
        SymbolicDistiller(backend="gplearn").fit(np.zeros((10, 1)), np.zeros(10), ["v"])


def test_a_seeded_search_gives_the_same_front_with_the_same_thread_count():
    """Two threads are two seeded one-thread searches whose fronts are merged: the front repeats exactly,
    so a fixed `threads` keeps a run reproducible on any machine. (One pyoperon search on two threads
    did not under load: its threads share one budget in the order the OS runs them.)"""
    rng = np.random.default_rng(2)
    X = rng.uniform(-2, 2, size=(400, 2))
    y = X[:, 0] - X[:, 0] ** 3 / 3
    fronts = [[str(c.expression) for c in SymbolicDistiller(operators=("add", "sub", "mul"), max_evaluations=5_000,
                                                            threads=2, seed=0).fit(X, y, ["v", "w"]).front_]
              for _ in range(2)]
    assert fronts[0] == fronts[1]


def test_the_islands_fronts_merge_into_the_points_nothing_beats():
    """(-R^2, length, text): a point beaten on both by another island's is dropped; of two equal
    points the first island's is kept; the front comes back shortest first."""
    from discover.distill._symbolic import _merged_front

    first = [(-0.5, 3.0, "a"), (-0.9, 7.0, "b"), (-0.99, 11.0, "c")]
    second = [(-0.5, 3.0, "a2"), (-0.95, 7.0, "d"), (-0.97, 13.0, "e")]
    assert [text for _, _, text in _merged_front([first, second])] == ["a", "d", "c"]


@pytest.mark.parametrize("threads", [-1, 1.5, True])
def test_bad_thread_count_is_named_with_the_fix(threads):
    X = np.random.default_rng(0).uniform(-1, 1, size=(50, 1))
    with pytest.raises(FitError, match=r"`threads`=.* 1 \(the default\) or more; 0 uses every core"):
        SymbolicDistiller(threads=threads).fit(X, X[:, 0], ["v"])


def test_a_front_member_whose_constant_overflows_is_no_candidate_not_a_crash():
    """pyoperon's front on a Lotka-Volterra seed's derivative samples held exp(3155 - x), which
    parses to an infinite number: that member is left out, the rest of the front kept."""
    from discover.distill._symbolic import _parsed

    x = sp.Symbol("x", real=True)
    assert _parsed(["(-0.0127) + (0.985 * (exp((3154.97 - x))))", "2*x"], ["x"]) == [2 * x]
    with pytest.raises(EquationError, match="unknown"):  # what the parser lacks still says so
        _parsed(["nosuchfunction(x)"], ["x"])
