"""Latent dynamics from population spike counts: data checks, alignment, training, distillation."""

import json

import numpy as np
import pytest
import sympy as sp

from discover import ConfigError, DataError, EquationSystem, FitError
from discover.export import export_results
from discover.latent import (
    LatentODE,
    Population,
    affine_align,
    canonical_frame,
    distill_latent_field,
    population_from_system,
    rate_r2,
    refit_latent_equations,
    write_latent_results,
)
from discover.report import load_results
from discover.validate import resimulate


def damped_rotation() -> EquationSystem:
    return EquationSystem.from_text(["dx/dt = -a*x - w*y", "dy/dt = w*x - a*y"], parameters={"a": 0.2, "w": 1.0},
                                    name="damped_rotation")


def rotation_population(n_trials: int) -> Population:
    """The damped rotation from random starts on the annulus 1 <= r <= 2, seen through 40 Poisson neurons."""
    rng = np.random.default_rng(0)
    angle, radius = rng.uniform(0, 2 * np.pi, n_trials), rng.uniform(1, 2, n_trials)
    y0 = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    return population_from_system(damped_rotation(), y0, n_neurons=40, n_trials=n_trials, n_bins=40, dt=0.1,
                                  mean_count=2.0, seed=1)


def test_population_refuses_what_is_not_spike_counts():
    good = np.ones((4, 10, 3))
    with pytest.raises(DataError, match="shape \\(n_trials, n_bins, n_neurons\\)"):
        Population(good[0], 0.1)
    with pytest.raises(DataError, match="whole numbers >= 0"):
        Population(good * 0.5, 0.1)
    with pytest.raises(DataError, match="whole numbers >= 0"):
        Population(-good, 0.1)
    with pytest.raises(DataError, match="bin width"):
        Population(good, 0.0)
    with pytest.raises(DataError, match="one row per trial and bin"):
        Population(good, 0.1, latents=np.zeros((4, 9, 2)))


def test_affine_align_recovers_a_known_map_and_canonical_frame_whitens():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(5, 40, 3))
    matrix, offset = rng.normal(size=(3, 3)), np.array([1.0, -2.0, 3.0])
    found = affine_align(z, z @ matrix + offset)
    assert np.allclose(found.matrix, matrix) and np.allclose(found.offset, offset) and np.allclose(found.r2, 1.0)
    assert np.allclose(found.velocity(np.eye(3)), matrix)
    frame = canonical_frame(z @ matrix + offset).apply(z @ matrix + offset).reshape(-1, 3)
    assert np.allclose(frame.mean(0), 0.0, atol=1e-9) and np.allclose(np.cov(frame.T, bias=True), np.eye(3))
    with pytest.raises(DataError, match="same trials and bins"):
        affine_align(z, z[:2])


def test_latent_ode_settings_and_order_of_calls_are_checked():
    data = Population(np.ones((4, 10, 3)), 0.1)
    with pytest.raises(FitError, match="not fitted yet"):
        LatentODE().transform(data)
    with pytest.raises(FitError, match="`iterations` must be a whole number"):
        LatentODE(iterations=-1).fit(data)
    with pytest.raises(FitError, match="`learning_rate`"):
        LatentODE(learning_rate=2.0).fit(data)
    with pytest.raises(DataError, match="discover.latent.Population"):
        LatentODE().fit(np.ones((4, 10, 3)))
    with pytest.raises(FitError, match="no inputs"):
        LatentODE(known=EquationSystem.from_text(["dx/dt = I"], inputs=["I"])).fit(data)
    model = LatentODE(1, iterations=1, progress=False).fit(data)
    start = EquationSystem.from_text(["dz1/dt = 0"]).with_residual("z1")
    start = start.replace_residuals({"z1": sp.exp(start.symbol("z1"))}, "test")
    alignment = affine_align(model.transform(data), model.transform(data))
    with pytest.raises(FitError, match="polynomials of degree <= 2"):
        refit_latent_equations(model, data, alignment, start)


@pytest.mark.slow  # about 2-3 minutes
def test_damped_rotation_is_rediscovered_from_spike_counts(tmp_path):
    """A damped rotation (dx/dt = -0.2 x - y, dy/dt = x - 0.2 y) seen only through 40 Poisson neurons,
    160 trials from random starts: the fitted rates match the truth, the latents are an affine map
    of the true ones, and the field, aligned to the true latents and distilled with a linear
    library, has exactly the four terms, each within 10 %, and re-simulates 40 held-out trials'
    inferred latents (results folder); so does the quadratic distillation once refit through the
    likelihood."""
    everything = rotation_population(200)
    data, heldout = everything.select(slice(0, 160)), everything.select(slice(160, None))
    model = LatentODE(2, iterations=1000, progress=False).fit(data)
    assert rate_r2(model.predict_rates(data), data.rates) > 0.95
    alignment = affine_align(model.transform(data), data.latents)
    assert np.all(alignment.r2 > 0.97), alignment.r2
    system, distillers = distill_latent_field(model, data, alignment, ["x", "y"], sparse={"degree": 1})
    folder = write_latent_results(tmp_path / "results", model, heldout, alignment, system, distillers)
    metrics = json.loads((folder / "metrics.json").read_text())
    assert all(m["r2"] > 0.9 for m in metrics["heldout"]["discovered"].values()), metrics["heldout"]
    assert metrics["latent"]["rate_r2_true_discovered"] > 0.9, metrics["latent"]
    x, y = sp.symbols("x y", real=True)
    expected = {"x": {x: -0.2, y: -1.0}, "y": {x: 1.0, y: -0.2}}
    for state, terms in expected.items():
        coefs = system.discovered[state].as_coefficients_dict()
        assert set(coefs) == set(terms), system.discovered
        for term, value in terms.items():
            assert float(coefs[term]) == pytest.approx(value, rel=0.1)
    # with quadratic terms allowed, the distilled field picks up small spurious ones; refitting through
    # the counts' likelihood with sequential thresholding removes them
    system, _ = distill_latent_field(model, data, alignment, ["x", "y"], sparse={"degree": 2})
    refit = refit_latent_equations(model, data, alignment, system, degree=2)
    for state, terms in expected.items():
        coefs = refit[state].as_coefficients_dict()
        assert set(coefs) == set(terms), refit
        for term, value in terms.items():
            assert float(coefs[term]) == pytest.approx(value, rel=0.1)


def test_latent_results_folder_is_one_that_report_and_export_read(tmp_path):
    """A briefly trained model: what is checked is the folder, not the fit. The held-out "data" are
    the aligned latents the network infers; the discovered equations in equations.json re-simulate
    them as predictions.npz holds; `discover export` writes the system and the Python export runs
    it as discover does; a folder holding files is not replaced without `force`."""
    everything = rotation_population(48)
    data, heldout = everything.select(slice(0, 40)), everything.select(slice(40, None))
    model = LatentODE(2, iterations=20, hidden=16, progress=False).fit(data)
    alignment = affine_align(model.transform(data), data.latents)
    system, distillers = distill_latent_field(model, data, alignment, ["x", "y"], sparse={"degree": 1})
    folder = write_latent_results(tmp_path / "out", model, heldout, alignment, system, distillers)
    r = load_results(folder)
    assert {s: str(e) for s, e in r.discovered.discovered.items()} == {s: str(e) for s, e in system.discovered.items()}
    assert r.heldout.y.shape == (8, 40, 2)
    np.testing.assert_allclose(r.predictions["discovered"], resimulate(r.discovered, r.heldout))
    assert set(r.metrics["latent"]) >= {"rate_r2_counts_network", "rate_r2_true_discovered", "alignment_r2"}
    assert set(r.metrics["distillation"]) == {"x", "y"} and r.loss_history.size == 20
    text = (folder / "summary.txt").read_text()
    assert "dx/dt = [" in text and "0 + [" not in text  # discovered alone, no empty known part
    assert {"report.html", "report.md", "report.tex"} <= {p.name for p in folder.iterdir()}
    report = (folder / "report.md").read_text()
    assert "Latent ODE training loss (Poisson" in report and "UDE training" not in report
    (script,) = export_results(folder, ["python"])
    namespace = {}
    exec(compile(script.read_text(), str(script), "exec"), namespace)  # our own export, just written
    t, y = namespace["simulate"]()
    expected = resimulate(r.discovered, type(r.heldout)(t, r.heldout.y[:1, :1].repeat(len(t), 1),
                                                         np.zeros((1, len(t), 0)), ("x", "y"), ()))
    np.testing.assert_allclose(y, expected[0], rtol=1e-4, atol=1e-6)
    with pytest.raises(ConfigError, match="already holds files"):
        write_latent_results(folder, model, heldout, alignment, system)
    undistilled = EquationSystem.from_text(["dx/dt = 0", "dy/dt = 0"]).with_residual("x", ["x", "y"])
    with pytest.raises(DataError, match=r"residuals on \['x'\]"):
        write_latent_results(tmp_path / "other", model, heldout, alignment, undistilled)
