import json
import shutil
import subprocess

import pytest

from discover import ConfigError
from discover.cli import main
from discover.report import REPORTS, load_results, write_results


@pytest.fixture(scope="module")
def results(small_fhn_discovery, tmp_path_factory):
    return write_results(small_fhn_discovery, tmp_path_factory.mktemp("run") / "results")


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
    assert "complexity" in svg and "held-out residual error" in svg  # axes are labelled


def metrics_routes(folder):
    return set(json.loads((folder / "metrics.json").read_text())["routes"]["routes"])


def test_results_read_back_without_pickles(results, small_fhn_discovery):
    r = load_results(results)
    # route auto (the default) ran both routes: the one not chosen is re-simulated too
    other = {"ude": "direct route", "direct": "UDE route"}[small_fhn_discovery.routes["chosen"]]
    assert set(r.predictions) == {"known only", "UDE", "discovered", f"{other}, not chosen"}
    assert metrics_routes(results) == {"ude", "direct"}
    assert r.discovered.discovered.keys() == small_fhn_discovery.discovered.discovered.keys()
    assert r.loss_history.size == len(small_fhn_discovery.ude.loss_history_)
    metrics = json.loads((results / "metrics.json").read_text())
    assert {"rmse", "nrmse", "r2", "horizon"} <= set(metrics["heldout"]["UDE"]["v"])


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
        pytest.skip("pdflatex not found: install Debian's texlive-latex-base and texlive-latex-recommended (.ci/run does)")
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
