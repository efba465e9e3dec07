"""Every script in examples/ runs in its --fast mode (small data, few iterations), as a user would
start it, and finds what it says it finds; the config examples run whole where that is affordable."""

import runpy
import shutil
import sys
from pathlib import Path

import pytest
import sympy as sp

EXAMPLES = Path(__file__).parents[1] / "examples"
# each script and the test of its fast mode (test_every_example_runs_in_ci checks none is missing)
FAST_MODE_TESTS = {
    "quickstart.py": "test_quickstart_runs_and_recovers_cubic",
    "hodgkin_huxley.py": "test_hodgkin_huxley_example_recovers_the_potassium_current",
    "current_clamp_cell.py": "test_current_clamp_example_fits_the_real_cell_and_reports_held_out_gamma",
    "no_prior.py": "test_no_prior_example_finds_every_right_hand_side",
    "export_simulators.py": "test_export_example_agrees_with_brian2_and_neuron",
    "noise_driven_cell.py": "test_noise_driven_cell_example_predicts_the_test_repeats",
    "hidden_gate.py": "test_hidden_gate_example_recovers_morris_lecars_w_from_v_alone",
}


def run_example(name: str, tmp_path: Path, monkeypatch, *args: str) -> dict:
    """`python examples/NAME --fast --out TMP ARGS` in this interpreter; returns the script's globals."""
    out = tmp_path / "results"
    monkeypatch.setattr(sys, "argv", [str(EXAMPLES / name), "--fast", "--out", str(out), *args])
    namespace = runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    assert (out / "report.html").is_file() and (out / "metrics.json").is_file()  # results written
    return namespace


def test_every_example_runs_in_ci():
    assert {p.name for p in EXAMPLES.glob("*.py")} == set(FAST_MODE_TESTS)
    assert all(test in globals() for test in FAST_MODE_TESTS.values())
    for script in EXAMPLES.glob("*.py"):
        assert "--fast" in script.read_text(), f"{script.name} has no --fast mode"


@pytest.mark.slow  # a whole discovery: ~30-45 s on 2 cores
def test_quickstart_runs_and_recovers_cubic(tmp_path, monkeypatch, capsys):
    namespace = run_example("quickstart.py", tmp_path, monkeypatch)
    v = sp.Symbol("v", real=True)
    assert set(namespace["result"].discovered.discovered["v"].as_coefficients_dict()) == {v, v**3}
    assert "held-out R² of v" in capsys.readouterr().out


@pytest.mark.slow  # about 1 minute
def test_hodgkin_huxley_example_recovers_the_potassium_current(tmp_path, monkeypatch):
    """Fast mode (two 25 ms trajectories): the removed current comes back as exactly its two terms."""
    result = run_example("hodgkin_huxley.py", tmp_path, monkeypatch)["result"]
    V, n = sp.symbols("V n", real=True)
    coefs = result.discovered.discovered["V"].as_coefficients_dict()
    assert set(coefs) == {V * n**4, n**4}, result.discovered.discovered["V"]
    assert float(coefs[V * n**4]) == pytest.approx(-36.0, rel=0.05)
    assert float(coefs[n**4]) == pytest.approx(-36.0 * 77.0, rel=0.05)
    assert result.metrics["discovered"]["V"]["r2"] > 0.95


@pytest.mark.slow  # about 1 minute
@pytest.mark.simulators
def test_export_example_agrees_with_brian2_and_neuron(tmp_path, monkeypatch):
    pytest.importorskip("brian2", reason="Brian2 is not installed (pip install -e '.[dev]' installs it)")
    pytest.importorskip("neuron", reason="NEURON is not installed (pip install -e '.[dev]' installs it)")
    if shutil.which("nrnivmodl") is None:
        pytest.skip("nrnivmodl is not on PATH: NEURON's wheel provides it with a C compiler present")
    errors = run_example("export_simulators.py", tmp_path, monkeypatch)["errors"]
    assert set(errors) == {"brian2", "neuron"}
    assert all((e < 1e-3).all() for e in errors.values()), errors


@pytest.mark.slow  # about 2-5 minutes on 2 cores: three sweeps of a real recording at 10 kHz
def test_current_clamp_example_fits_the_real_cell_and_reports_held_out_gamma(tmp_path, monkeypatch, capsys):
    """The shared fast-spiking interneuron (ABF): the truth is unknown, so this checks the pipeline
    ran on it whole: plausible passive membrane, closed-form terms, Gamma on held-out sweeps."""
    namespace = run_example("current_clamp_cell.py", tmp_path, monkeypatch)
    result = namespace["result"]
    params = {p.name: p.value for p in result.discovered.parameters}
    assert 5 < params["C"] < 200 and 0.5 < params["gL"] < 50 and -80 < params["EL"] < -40  # pF, nS, mV
    assert not result.discovered.residuals and "V" in result.discovered.discovered
    gamma = {model: m["V"]["gamma"] for model, m in result.metrics.items()}
    # the final choice re-simulates whole training sweeps, the known part alone among the models, so
    # the discovered model does not lose the cell's spike times (the window-chosen term never spiked)
    assert result.refit["spike_times"]["gamma"]["known part only"] > 0  # the check ran on the training sweeps
    assert gamma["discovered"] >= gamma["known only"] - 0.05, gamma
    out = capsys.readouterr().out
    assert "Discovered membrane equation" in out and "held-out spike-time coincidence Gamma" in out
    assert "Chosen by spike times" in out


def assert_fitzhugh_nagumo_whole(result) -> None:
    """Both right-hand sides of FitzHugh-Nagumo (a=0.7, b=0.8, tau=12.5, I=0.5), every term within
    3 %, found with nothing known, and both routes ran."""
    v, w = sp.symbols("v w", real=True)
    expected = {"v": {v: 1.0, v**3: -1 / 3, w: -1.0, sp.Integer(1): 0.5},
                "w": {v: 0.08, w: -0.064, sp.Integer(1): 0.056}}
    for state, terms in expected.items():
        coefs = result.discovered.discovered[state].as_coefficients_dict()
        assert set(coefs) == set(terms), f"d{state}/dt: {result.discovered.discovered[state]}"
        for term, value in terms.items():
            assert float(coefs[term]) == pytest.approx(value, rel=0.03)
    assert set(result.routes["routes"]) == {"ude", "direct"}


@pytest.mark.slow  # about 2 minutes on 2 cores: both routes on two 40-time-unit trajectories
def test_no_prior_example_finds_every_right_hand_side(tmp_path, monkeypatch):
    """Fast mode, nothing known: both routes run, and the chosen model has all seven terms within 3 %."""
    result = run_example("no_prior.py", tmp_path, monkeypatch)["result"]
    assert_fitzhugh_nagumo_whole(result)


@pytest.mark.slow  # about 3-6 minutes on 2 cores: both routes on three 60-time-unit trajectories
def test_no_prior_example_rediscovers_fitzhugh_nagumo_whole(tmp_path):
    """Nothing known but the state names: both right-hand sides, every term, within 3 %."""
    from discover import discover, load_config

    config = load_config(EXAMPLES / "no_prior.toml")
    system, train, heldout = config.prepare()
    result = discover(train, system, heldout, training=config.training, distill=config.distill, progress=False)
    assert_fitzhugh_nagumo_whole(result)
    assert all(m["r2"] > 0.99 for m in result.metrics["discovered"].values())


@pytest.mark.slow  # a whole discovery with a hidden state: ~40-50 s
def test_voltage_only_example_recovers_the_cubic_with_w_hidden(tmp_path):
    """v recorded, w hidden (its known equation driven by v from a learned start): dv/dt's missing
    v - v**3/3 comes back as exactly those two terms, and held-out v is re-simulated from a fitted w."""
    from discover import discover, load_config, write_results

    config = load_config(EXAMPLES / "voltage_only.toml")
    system, train, heldout = config.prepare()
    assert train.states == heldout.states == ("v",)
    result = discover(train, system, heldout, training=config.training, distill=config.distill, progress=False)
    v = result.discovered.symbol("v")
    terms = sp.Poly((result.discovered.equation("v") - system.without_residuals().equation("v")).expand(), v)
    assert sorted(terms.monoms()) == [(1,), (3,)], result.discovered
    assert float(terms.coeff_monomial(v**3)) == pytest.approx(-1 / 3, abs=0.02)
    assert float(terms.coeff_monomial(v)) == pytest.approx(1.0, abs=0.05)
    assert set(result.metrics["discovered"]) == {"v"} and result.metrics["discovered"]["v"]["r2"] > 0.99
    assert result.heldout.states == ("v", "w") and any(n.startswith("w not recorded") for n in result.notes)
    # the report says what the folder holds for w: the estimate, not a recording
    report = (write_results(result, tmp_path / "out") / "report.md").read_text()
    assert "Grey dots for w: not recorded" in report


@pytest.mark.slow  # ~5 s: the default tier stays under 3 minutes
def test_lorenz_population_example_is_the_benchmark_setting_and_runs(tmp_path):
    """The config example claims the Lorenz benchmark's setting: its [latent] keywords and data are the
    benchmark's (`benchmarks/latent.py`); it runs end to end here on a few trials for a few steps (the
    whole run is the benchmark's ~45 minutes; what it finds is in benchmarks/RESULTS.md)."""
    import dataclasses

    from discover import load_config
    from discover._population import run_population
    from discover.report import load_results

    sys.path.insert(0, str(EXAMPLES.parent / "benchmarks"))
    try:
        import latent as benchmark
    finally:
        sys.path.remove(str(EXAMPLES.parent / "benchmarks"))
    config = load_config(EXAMPLES / "lorenz_population.toml")
    _, dim, data_keywords, settings, _, _ = benchmark.SYSTEMS["lorenz"]
    assert config.latent == {"latent_dim": dim, "iterations": benchmark.ITERATIONS["lorenz"], **settings}
    assert data_keywords == {"dt": 0.01} and config.population["example"] == "lorenz"
    train, heldout = config.load_data()
    assert (train.n_trials, train.counts.shape[1], train.n_neurons) == (400, 50, 100) and heldout.n_trials == 100
    brief = dataclasses.replace(config, latent={**config.latent, "iterations": 2},
                                population={**config.population, "n_trials": 10})
    folder = run_population(brief, tmp_path / "out", progress=False, say=lambda *a: None)
    assert load_results(folder).discovered.states == ("x", "y", "z")


@pytest.mark.slow  # 20 s of a real recording: ~25 s
def test_noise_driven_cell_example_predicts_the_test_repeats(tmp_path, monkeypatch, capsys):
    """Fast mode: the discovered model's threshold follows V (the form found, not given) and its spike
    trains match the cell's repeats far better than the passive membrane's (Md*)."""
    cell = run_example("noise_driven_cell.py", tmp_path, monkeypatch)["cell"]
    assert "theta_V" in dict(cell.discovered.spike.moving)
    md = {model: m["V"]["md_star"] for model, m in cell.metrics.items()}
    assert md["discovered (stochastic)"] > md["known only"] + 0.2 and md["discovered (stochastic)"] > 0.6
    assert "Md*" in capsys.readouterr().out


@pytest.mark.slow  # about 40 s on 2 cores
def test_hidden_gate_example_recovers_morris_lecars_w_from_v_alone(tmp_path, monkeypatch):
    """Fast mode: w's kinetics from V alone come back in the generating form, its numbers close."""
    namespace = run_example("hidden_gate.py", tmp_path, monkeypatch)
    chosen = namespace["distilled"].chosen
    assert chosen.label == "x_inf Boltzmann, tau bell"
    assert chosen.values["Vh"] == pytest.approx(2.0, abs=1.5) and chosen.values["k"] == pytest.approx(15.0, rel=0.05)
    assert chosen.values["tau_max"] == pytest.approx(25.0, rel=0.05)
    assert chosen.values["tau_s"] == pytest.approx(60.0, rel=0.05)
    assert (tmp_path / "results" / "figures" / "gate.png").is_file()
