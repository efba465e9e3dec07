"""`discover run` on a [population] config: spike counts in, distilled latent equations and a results folder out."""

import json

import numpy as np
import pytest
import sympy as sp

from discover import ConfigError, DataError, EquationSystem
from discover._config import config_from_dict
from discover.cli import main
from discover.latent import Population, population_from_system
from discover.report import load_results


def rotation_counts(path, n_trials: int = 48):
    """A damped rotation (dx/dt = -0.2 x - y, dy/dt = x - 0.2 y) from random starts seen through 40
    Poisson neurons, saved as a population .npz with its true latents."""
    rotation = EquationSystem.from_text(["dx/dt = -a*x - w*y", "dy/dt = w*x - a*y"],
                                        parameters={"a": 0.2, "w": 1.0}, name="rotation")
    rng = np.random.default_rng(0)
    angle, radius = rng.uniform(0, 2 * np.pi, n_trials), rng.uniform(1, 2, n_trials)
    y0 = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    data = population_from_system(rotation, y0, n_neurons=40, n_trials=n_trials, n_bins=40, dt=0.1,
                                  mean_count=2.0, seed=1)
    return data.save_npz(path)


def write_config(folder, population: dict, latent: dict, extra: str = "", name: str = "population.toml"):
    def toml(table):
        return "\n".join(f"{k} = {json.dumps(v)}" for k, v in table.items())

    path = folder / name
    path.write_text(f"[population]\n{toml(population)}\n\n[latent]\n{toml(latent)}\n\n{extra}")
    return path


def test_population_npz_round_trips_and_bad_files_are_refused(tmp_path):
    path = rotation_counts(tmp_path / "counts.npz", 6)
    data = Population.load_npz(path)
    assert data.counts.shape == (6, 40, 40) and data.dt == 0.1 and data.latent_names == ("x", "y")
    assert data.latents.shape == (6, 40, 2) and data.rates.shape == (6, 40, 40)
    np.savez(tmp_path / "rates.npz", rates=data.rates)
    with pytest.raises(DataError, match="needs `counts`.*and `dt`"):
        Population.load_npz(tmp_path / "rates.npz")
    (tmp_path / "text.npz").write_text("not an archive")
    with pytest.raises(DataError, match="not an .npz archive"):
        Population.load_npz(tmp_path / "text.npz")
    with pytest.raises(DataError, match="does not exist"):
        Population.load_npz(tmp_path / "none.npz")
    good = path.read_bytes()  # a cut copy: the one opener's error naming it, never zipfile's BadZipFile
    (tmp_path / "cut.npz").write_bytes(good[: len(good) // 2])
    with pytest.raises(DataError, match="cut.npz"):
        Population.load_npz(tmp_path / "cut.npz")


@pytest.mark.parametrize("raw, message", [
    ({"population": {}}, "exactly one of `example`"),
    ({"population": {"example": "lorenz", "path": "a.npz"}}, "exactly one of `example`"),
    ({"population": {"example": "lorentz"}}, "Did you mean `lorenz`"),
    ({"population": {"path": "a.npz", "n_trials": 20}}, "do nothing with `path`"),
    ({"population": {"example": "lorenz", "heldout": 0.9}}, "heldout = 0.9"),
    ({"population": {"example": "lorenz", "align": "true"}}, "Did you mean `truth`"),
    ({"population": {"example": "lorenz", "names": "x y z"}}, "names = 'x y z'"),
    ({"population": {"example": "lorenz", "n_trails": 20}}, "Did you mean `n_trials`"),
    ({"population": {"example": "lorenz", "names": ["v", "w"]}}, "names 2 states; the model has 3"),
    ({"population": {"example": "lorenz"}, "latent": {"iteration": 5}}, "Did you mean `iterations`"),
    ({"population": {"example": "lorenz"}, "latent": {"progress": False}}, "unknown \\[latent\\] option"),
    ({"population": {"example": "lorenz"}, "model": {"library": "fitzhugh_nagumo"}}, "remove \\[model\\]"),
    ({"population": {"example": "lorenz"}, "distill": {"route": "ude"}}, "route"),
    ({"population": {"example": "lorenz"}, "distill": {"sparse": {"degre": 2}}}, "Did you mean `degree`"),
    ({"data": {"example": "fitzhugh_nagumo"}, "model": {"library": "fitzhugh_nagumo"},
      "residual": {"v": ["v"]}, "latent": {"iterations": 5}}, "add \\[population\\]"),
])
def test_population_config_mistakes_are_named(raw, message):
    with pytest.raises(ConfigError, match=message):
        config_from_dict(raw)


def test_population_run_from_the_cli_writes_a_folder_report_and_export_read(tmp_path, capsys):
    """Briefly trained: what is checked is the run's plumbing. Aligned to the file's true latents,
    the states keep their names; the held-out trials are the file's last fifth; the folder is refused
    the second time without --force; `batch` and `--resume` say what to do instead."""
    rotation_counts(tmp_path / "counts.npz")
    config = write_config(tmp_path, {"path": "counts.npz", "heldout": 0.25}, {"latent_dim": 2, "iterations": 5,
                                                                              "hidden": 16})
    out = tmp_path / "out"
    assert main(["run", str(config), "--quiet", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Discovered latent equations:" in printed and "dx/dt = [" in printed and "dy/dt = [" in printed
    r = load_results(out)
    assert r.heldout.states == ("x", "y") and r.heldout.y.shape == (12, 40, 2)
    assert set(r.metrics["latent"]) >= {"alignment_r2", "rate_r2_true_discovered"}
    assert main(["export", str(out), "--to", "python"]) == 0
    assert main(["run", str(config), "--quiet", "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["run", str(config), "--quiet", "--out", str(tmp_path / "again"), "--resume"]) == 2
    three = write_config(tmp_path, {"path": "counts.npz", "align": "truth"}, {"latent_dim": 3, "iterations": 5},
                         name="three.toml")
    assert main(["run", str(three), "--quiet", "--out", str(tmp_path / "three")]) == 2  # refused before training
    assert "found 2 states" in capsys.readouterr().err and not (tmp_path / "three").exists()
    assert main(["batch", str(config), "--inputs", str(tmp_path / "counts.npz"), "--quiet"]) == 2
    assert "use `discover run`" in capsys.readouterr().err


def test_population_run_in_the_canonical_frame_names_states_z(tmp_path):
    rotation_counts(tmp_path / "counts.npz")
    config = write_config(tmp_path, {"path": "counts.npz", "align": "canonical"}, {"latent_dim": 2, "iterations": 3,
                                                                                    "hidden": 8})
    assert main(["run", str(config), "--quiet", "--out", str(tmp_path / "out")]) == 0
    r = load_results(tmp_path / "out")
    assert r.heldout.states == ("z1", "z2") and "alignment_r2" not in r.metrics["latent"]


@pytest.mark.slow  # about 3 minutes
def test_population_run_rediscovers_the_damped_rotation(tmp_path):
    """160 training trials, 1000 steps, a linear library: through the command line, the field in the
    true latents' frame has exactly the rotation's four terms, each within 10 %."""
    rotation_counts(tmp_path / "counts.npz", 200)
    config = write_config(tmp_path, {"path": "counts.npz"}, {"latent_dim": 2, "iterations": 1000},
                          "[distill.sparse]\ndegree = 1\n")
    assert main(["run", str(config), "--quiet", "--out", str(tmp_path / "out")]) == 0
    r = load_results(tmp_path / "out")
    x, y = sp.symbols("x y", real=True)
    expected = {"x": {x: -0.2, y: -1.0}, "y": {x: 1.0, y: -0.2}}
    for state, terms in expected.items():
        coefs = r.discovered.discovered[state].as_coefficients_dict()
        assert set(coefs) == set(terms), r.discovered
        for term, value in terms.items():
            assert float(coefs[term]) == pytest.approx(value, rel=0.1)
