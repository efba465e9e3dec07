"""The benchmark's bookkeeping is right (the runs themselves are benchmarks, not tests)."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

_PATH = Path(__file__).parents[1] / "benchmarks" / "missing_terms.py"
_spec = importlib.util.spec_from_file_location("missing_terms", _PATH)
bench = importlib.util.module_from_spec(_spec)
sys.modules["missing_terms"] = bench  # dataclasses look their module up there
_spec.loader.exec_module(bench)


def test_at_least_ten_cases_whose_removed_terms_are_found_in_the_library_models():
    from discover import UDE
    from discover._errors import check_keywords
    from discover.distill import check_distill_options

    assert len(bench.CASES) >= 10
    for case in bench.CASES:
        check_distill_options(case.distill)  # a typo here would fail every run of the case
        check_keywords("training", case.training, UDE)
        true, reduced = bench.truth(case)
        assert all(expr != 0 for expr in true.values()), case.name
        for state, features in case.features.items():
            reduced.with_residual(state, features)


def test_truth_of_fhn_case_is_the_cubic():
    case = next(c for c in bench.CASES if c.name == "fhn_cubic")
    v = sp.Symbol("v", real=True)
    assert bench.truth(case)[0] == {"v": v - v**3 / 3}


def test_score_counts_structure_and_coefficient_error():
    v = sp.Symbol("v", real=True)
    true = {"v": v - v**3 / 3}
    exact, err = bench.score({"v": 1.01 * v - 0.33 * v**3}, true)
    assert exact and abs(err - 0.01) < 1e-9
    exact, err = bench.score({"v": 1.0 * v}, true)
    assert not exact and err == 1.0


@pytest.mark.slow  # ten stiff simulations, ~10 s: the default tier's largest test
def test_data_for_every_case_simulates():
    for case in bench.CASES:
        train, heldout = bench.make_data(case, 0.01, seed=0, n_train=1, n_heldout=1)
        assert np.all(np.isfinite(train.y)) and heldout.n_trajectories == 1


def test_structure_accepts_equivalent_forms_and_rejects_spurious_or_missing_terms():
    from discover.data import Trajectories

    V = sp.Symbol("V", real=True)
    grid = np.linspace(-60, 20, 300)
    data = Trajectories(np.arange(300.0), grid.reshape(1, -1, 1), np.zeros((1, 300, 0)), ("V",), ())
    true = {"V": 0.22 * (1 + sp.tanh((V + 1.2) / 18)) / 2 * (V - 120)}
    as_sigmoid = 0.22 * (V - 120) / (1 + sp.exp(-2 * (V + 1.2) / 18))
    assert bench.structure({"V": as_sigmoid}, true, data)[0]
    assert bench.structure({"V": 1.02 * as_sigmoid}, true, data)[1] == pytest.approx(0.02, rel=1e-3)
    assert not bench.structure({"V": as_sigmoid + 0.01 * V**2}, true, data)[0]  # spurious
    assert not bench.structure({"V": 0.22 * V / (1 + sp.exp(-2 * (V + 1.2) / 18))}, true, data)[0]  # missing
    # a look-alike on a narrow range: a + b*v spans 0.04*v**2 there, but it is not the structure
    v = sp.Symbol("v", real=True)
    narrow = Trajectories(np.arange(100.0), np.linspace(-75, -55, 100).reshape(1, -1, 1), np.zeros((1, 100, 0)),
                          ("v",), ())
    assert not bench.structure({"v": 115.98 - 32.853 * v}, {"v": 0.04 * v**2}, narrow)[0]


def test_pysindy_direct_baseline_recovers_clean_fhn():
    case = next(c for c in bench.CASES if c.name == "fhn_cubic")
    true, reduced = bench.truth(case)
    train, _ = bench.make_data(case, 0.0, seed=0, n_train=2, n_heldout=1)
    found = bench.pysindy_direct(case, reduced, train)
    ok, error = bench.structure(found, true, train)
    assert ok and error < 0.02, found


def _load(name):
    spec = importlib.util.spec_from_file_location(name, Path(__file__).parents[1] / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_no_prior_benchmark_has_twelve_systems_of_one_to_three_states_with_150_samples():
    no_prior = _load("no_prior")
    assert len(no_prior.SYSTEMS) >= 12
    assert {len(s.equations) for s in no_prior.SYSTEMS} == {1, 2, 3}
    for system in no_prior.SYSTEMS:
        _, train, test = no_prior.make_data(system, 0.05, seed=0)
        assert train.n_trajectories == 1 and train.t.size == 150
        assert np.all(np.isfinite(train.y)) and np.all(np.isfinite(test.y))
        assert not np.allclose(train.y[0, 0], test.y[0, 0]), system.name  # the test start is unseen
        assert all(rhs == 0 for rhs in no_prior.no_prior(train.states).without_residuals().rhs)  # nothing known


def test_no_prior_table_counts_successes_and_each_benchmark_replaces_only_its_own_section(tmp_path):
    no_prior = _load("no_prior")
    row = {"system": "s", "states": 1, "found": "", "baseline": "", "route": "direct", "seconds": 1.0,
           "baseline_seconds": 0.1}
    rows = [{**row, "noise": 0.01, "r2": 0.95, "baseline_r2": float("-inf")},
            {**row, "noise": 0.05, "r2": 0.5, "baseline_r2": 0.91}]
    text = no_prior.table(rows)
    assert "1% noise: ours 1 of 1, PySINDy-alone 0 of 1" in text
    assert "5% noise: ours 0 of 1, PySINDy-alone 1 of 1" in text
    assert "diverged" in text
    results = tmp_path / "RESULTS.md"
    results.write_text("# Missing-term benchmark\n\nkept\n\n# No-prior benchmark\n\nold table\n\n# Later\n\nkept too\n")
    bench.write_section(results, "# No-prior benchmark\n\nnew table\n\n")
    assert results.read_text() == ("# Missing-term benchmark\n\nkept\n\n# No-prior benchmark\n\nnew table\n\n"
                                   "# Later\n\nkept too\n")


def test_latent_benchmark_scores_terms_of_the_true_equations():
    latent = _load("latent")
    x, y, z = sp.symbols("x y z", real=True)
    lorenz = {"x": 10 * (y - x), "y": x * (28 - z) - y, "z": x * y - sp.Rational(8, 3) * z}
    assert latent.score("lorenz", lorenz)["terms"] == "7/7" and latent.score("lorenz", lorenz)["spurious"] == 0
    wrong = {**lorenz, "z": x**2 + y**2 - z}  # xy missing, x**2 and y**2 spurious
    assert latent.score("lorenz", wrong) == {**latent.score("lorenz", wrong), "terms": "6/7", "spurious": 2}
    row = {"system": "lorenz", "dim": 3, "neurons": 100, "trials": 4, "bins": 5, "iterations": 1, "batch": 4,
           "lr": 0.01, "rate_r2": 0.95,
           "align_r2": 0.9, "distilled": latent.score("lorenz", lorenz), "refit": latent.score("lorenz", wrong),
           "seconds": 1.0}
    assert "| lorenz | 3 | 100 | 4 x 5 | 1 x 4, 0.01 | 0.950 | 0.900 | 7/7 | 0 | 6/7 | 2 | 1 |" in latent.table([row])


def test_gate_benchmark_reads_the_generating_curves_off_each_gate_equation():
    """x_inf and tau, which the table's errors are measured against, are those of the generating gates."""
    gates = _load("gates")
    v = np.linspace(-80, 30, 23)
    x_inf, tau = gates.true_curves(gates.CASES[2].system, "w", v)  # Morris-Lecar
    np.testing.assert_allclose(x_inf, (1 + np.tanh((v - 2) / 30)) / 2, rtol=1e-12)
    np.testing.assert_allclose(tau, 1 / (0.04 * np.cosh((v - 2) / 60)), rtol=1e-12)
    x_inf, tau = gates.true_curves(gates.CASES[3].system, "b", v)  # the A-type inactivation
    np.testing.assert_allclose(x_inf, 1 / (1 + np.exp((v + 70) / 6)), rtol=1e-12)
    np.testing.assert_allclose(tau, 5 + 30 / (1 + np.exp((v + 50) / 10)), rtol=1e-12)
    from discover.distill._kinetics import candidate

    for case in gates.CASES:  # each expected form is one distill_gate can choose
        assert candidate(case.expected).label == case.expected
