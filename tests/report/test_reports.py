import dataclasses
import json
import shutil
import subprocess

import numpy as np
import pytest

from discover import ConfigError
from discover.cli import main
from discover.report import load_results, write_results
from discover.report._documents import REPORTS
from tests.helpers import golden_copy


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """The golden results folder of the small FitzHugh–Nagumo run (tests/golden/), its reports rebuilt."""
    return golden_copy(tmp_path_factory.mktemp("run") / "results")


def test_results_folder_holds_three_reports_and_labelled_figures(results):
    for name in REPORTS:
        assert (results / name).stat().st_size > 1000, name
    for stem in ("resimulation", "residual_v", "pareto_v", "phase", "loss"):
        for ext in ("png", "svg"):
            assert (results / "figures" / f"{stem}.{ext}").stat().st_size > 1000, (stem, ext)
    md = (results / "report.md").read_text()
    assert "dv/dt = I - w + [" in md and "| discovered | v |" in md and "figures/pareto_v.png" in md
    html = (results / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 5
    assert "http://" not in html and "https://" not in html and "<script" not in html  # self-contained
    tex = (results / "report.tex").read_text()
    assert r"\toprule" in tex and r"\underbrace" in tex and "figures/resimulation.png" in tex
    svg = (results / "figures" / "pareto_v.svg").read_text()
    assert "complexity" in svg and "re-simulation error" in svg  # axes are labelled: the score candidates had


def metrics_routes(folder):
    return set(json.loads((folder / "metrics.json").read_text())["routes"]["routes"])


def test_results_read_back_without_pickles(results):
    r = load_results(results)
    metrics = json.loads((results / "metrics.json").read_text())
    # route auto (the default) ran both routes: the one not chosen is re-simulated too
    other = {"ude": "direct route", "direct": "UDE route"}[metrics["routes"]["chosen"]]
    assert set(r.predictions) == {"known only", "UDE", "discovered", f"{other}, not chosen"}
    assert metrics_routes(results) == {"ude", "direct"}
    assert r.discovered.discovered.keys() == {"v"}
    assert r.loss_history.size > 100 and r.loss_history[-1] == metrics["final_training_loss"]
    assert {"rmse", "nrmse", "r2", "horizon"} <= set(metrics["heldout"]["UDE"]["v"])


@pytest.mark.slow  # the small FitzHugh–Nagumo discovery (session fixture, ~30 s)
def test_results_written_from_a_discovery_read_back_as_it_was(small_fhn_discovery, tmp_path):
    from discover import UDE

    d = small_fhn_discovery
    folder = write_results(d, tmp_path / "results")
    r = load_results(folder)
    other = {"ude": "direct route", "direct": "UDE route"}[d.routes["chosen"]]
    assert set(r.predictions) == {"known only", "UDE", "discovered", f"{other}, not chosen"}
    assert r.discovered.discovered == d.discovered.discovered
    assert r.loss_history.size == len(d.ude.loss_history_)
    for name, prediction in d.predictions.items():
        np.testing.assert_array_equal(r.predictions[name], prediction)
    # ude.pt re-simulates as the run's UDE did, to the last digits on the machine that trained it
    np.testing.assert_allclose(UDE.load(folder).simulate(r.heldout), d.predictions["UDE"], rtol=0, atol=1e-12)


def test_report_command_rebuilds_and_never_replaces_without_force(results, capsys):
    (results / "report.md").write_text("my notes")
    assert main(["report", str(results)]) == 2
    assert "--force" in capsys.readouterr().err
    assert (results / "report.md").read_text() == "my notes"
    assert main(["report", str(results), "--force", "--quiet"]) == 0
    assert (results / "report.md").read_text().startswith("# Discovered model")


def test_report_of_a_folder_that_is_not_results_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_results(tmp_path / "nope")
    with pytest.raises(ConfigError, match="equations.json, metrics.json, data_heldout.npz, predictions.npz missing"):
        load_results(tmp_path)


def test_latex_report_compiles_with_pdflatex(results, tmp_path):
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex not found: install Debian's texlive-latex-base and texlive-latex-recommended "
                    "(.ci/run does)")
    folder = shutil.copytree(results, tmp_path / "tex")
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "report.tex"],
                          cwd=folder, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:]
    assert (folder / "report.pdf").stat().st_size > 10_000


def test_markdown_report_keeps_user_text_literal(results, tmp_path):
    """A name or description from a config is text: a `|` must not split a table row, HTML must not
    reach a Markdown renderer as markup, a newline must not end the row."""
    from discover.report import write_reports

    folder = shutil.copytree(results, tmp_path / "copy")
    saved = json.loads((folder / "equations.json").read_text())
    saved["discovered"]["name"] = "cell <script>alert(1)</script>"
    saved["discovered"]["parameters"][0]["description"] = "half | activation\n<b>*mV*</b>"
    (folder / "equations.json").write_text(json.dumps(saved))
    write_reports(folder, force=True)
    text = (folder / "report.md").read_text()
    assert "<script>" not in text and "<b>" not in text
    assert text.startswith("# Discovered model: cell \\<script\\>alert(1)\\</script\\>\n")
    row = next(line for line in text.splitlines() if line.startswith("| a |"))
    assert row.count(" | ") == 3 and "half \\| activation \\<b\\>\\*mV\\*\\</b\\>" in row


def test_results_folder_keeps_the_trained_ude(results):
    """ude.pt re-simulates the held-out data as the run's UDE did (issue 29: it was deleted, and pickling failed)."""
    from discover import UDE

    r = load_results(results)
    # to the last digits: the golden folder may have been written on another machine (other BLAS)
    np.testing.assert_allclose(UDE.load(results).simulate(r.heldout), r.predictions["UDE"], rtol=0, atol=1e-9)
    assert [name for name, _ in r.loss_phases] == ["pre-fit", "Adam", "L-BFGS"]


@pytest.mark.slow  # the small FitzHugh–Nagumo discovery (session fixture, ~30 s)
def test_direct_route_results_have_no_ude_file(small_fhn_discovery, tmp_path):
    d = dataclasses.replace(small_fhn_discovery, ude=None, routes={**small_fhn_discovery.routes, "chosen": "direct"})
    folder = write_results(d, tmp_path / "direct")
    assert not (folder / "ude.pt").exists() and (folder / "report.html").is_file()
    assert not (folder / "figures" / "loss.png").exists()  # no network, no training loss


def test_metrics_front_is_non_dominated_and_the_figure_draws_it(results):
    from discover.report._figures import pareto_data

    record = json.loads((results / "metrics.json").read_text())["distillation"]["v"]
    front = [(c["complexity"], c["score"]) for c in record["front"]]
    assert front and all(c in record["scored"] for c in record["front"])
    # each point simpler than the next, and strictly worse: consecutive pairs, so one fewer than the points
    assert all(a[0] < b[0] and a[1] > b[1] for a, b in zip(front, front[1:], strict=False))
    assert pareto_data(record)["front"] == front
    assert any(c["expression"] == record["chosen"] for c in record["scored"])


def test_report_command_says_what_it_wrote_in_one_line(results, capsys):
    assert main(["report", str(results), "--force"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and "report.html" in out[0] and "figures" in out[0]


def test_a_damaged_or_incomplete_results_archive_is_a_clear_error(results, tmp_path):
    """A cut predictions.npz or one without the arrays the writer writes: a DataError naming the
    file or the array, not numpy's BadZipFile or KeyError."""
    from discover import DataError

    damaged = tmp_path / "damaged"
    shutil.copytree(results, damaged)
    data = (damaged / "predictions.npz").read_bytes()
    (damaged / "predictions.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="predictions.npz"):
        load_results(damaged)
    incomplete = tmp_path / "incomplete"
    shutil.copytree(results, incomplete)
    np.savez(incomplete / "predictions.npz", names=np.array(["UDE"]))
    with pytest.raises(DataError, match="model_0 is not a file in the archive"):
        load_results(incomplete)
