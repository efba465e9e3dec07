"""What the report figures draw, read from their matplotlib artists, and how a results folder is written."""

import os
import stat

import numpy as np
import pytest
import sympy as sp

from discover import Trajectories
from discover.choose import StateDistillation, nondominated
from discover.distill import Candidate
from discover.report import Results
from discover.report._documents import atomic_write, markdown_report, reason_sentences
from discover.report._figures import loss_plot, pareto_data, pareto_plot, resimulation_plot
from discover.report._results import distillation_record, write_folder
from tests.helpers import fhn_known

V, W = sp.symbols("v w")
# (expression, complexity, score): 0.035*v*w is more complex than 0.35*w and scores worse (dominated),
# the demo's case; the cubic is the best and is chosen
SCORED = [(sp.Float(0.35) * W, 3, 0.14), (sp.Float(0.13) * V, 3, 0.26), (sp.Float(0.035) * V * W, 4, 0.21),
          (sp.Float(0.61) * W - sp.Float(0.33), 5, 0.064), (-sp.Float(0.33) * V**3 + V, 9, 2.5e-4),
          (-sp.Float(0.33) * V**3 + V + sp.Float(1e-3) * W, 12, 2.6e-4)]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def distillation() -> StateDistillation:
    scored = tuple(Candidate(e, n, 0.5, "sparse (test)") for e, n, _ in SCORED)
    symbolic = Candidate(sp.tanh(W), 4, 0.4, "symbolic (test)")
    return StateDistillation("v", (*scored, symbolic), scored, tuple(s for _, _, s in SCORED), scored[4], "test",
                             score_name="window re-simulation error", threshold=1.5 * 2.5e-4 + 1e-4)


def test_front_leaves_out_dominated_candidates_and_unscored_ones():
    complexity, scores = [n for _, n, _ in SCORED], [s for _, _, s in SCORED]
    assert nondominated(complexity, scores) == [0, 3, 4]  # not v (same complexity, worse), not v*w, not 12 nodes
    assert nondominated([1, 2, 3], [0.5, float("nan"), 0.1]) == [0, 2]
    assert nondominated([2, 2], [0.1, 0.1]) == [0, 1]  # a tie beats neither
    d = distillation()
    assert [c.complexity for c in d.pareto] == [3, 5, 9]


def test_metrics_record_separates_the_scored_candidates_from_their_front():
    record = distillation_record(distillation())
    assert [c["score"] for c in record["scored"]] == [s for _, _, s in SCORED]
    assert [c["expression"] for c in record["front"]] == [str(SCORED[k][0]) for k in (0, 3, 4)]
    assert record["score_name"] == "window re-simulation error" and record["threshold"] == pytest.approx(4.75e-4)
    assert len(record["all_candidates"]) == len(SCORED) + 1


def drawn(fig, label):
    return [line for line in fig.axes[0].get_lines() if line.get_label() == label]


def test_pareto_figure_draws_every_scored_candidate_the_true_front_and_the_choice():
    data = pareto_data(distillation_record(distillation()))
    fig = pareto_plot(data, "v")
    points = drawn(fig, "sparse candidates")[0]
    assert sorted(zip(points.get_xdata(), points.get_ydata(), strict=True)) == sorted((n, s) for _, n, s in SCORED)
    (front,) = drawn(fig, "non-dominated front")
    assert list(front.get_xdata()) == [3, 5, 9] and list(front.get_ydata()) == [0.14, 0.064, 2.5e-4]
    assert np.all(np.diff(front.get_ydata()) < 0)  # a front only goes down
    (chosen,) = drawn(fig, "chosen")
    assert (chosen.get_xdata()[0], chosen.get_ydata()[0]) == (9, 2.5e-4)
    (threshold,) = drawn(fig, "choice threshold")
    assert threshold.get_ydata()[0] == pytest.approx(4.75e-4)
    assert fig.axes[0].get_ylabel() == "window re-simulation error"


def test_pareto_figure_of_an_older_folder_reads_its_scored_front():
    """Older metrics.json held the scored candidates under `front`, with `score`; no `scored`."""
    record = distillation_record(distillation())
    old = {"chosen": record["chosen"], "front": record["scored"], "all_candidates": record["all_candidates"],
           "reason": "fewest constants (2), then lowest error, of 6 candidates whose held-out window "
                     "re-simulation error (0.00025) is within 1.5x the best"}
    data = pareto_data(old)
    assert data["front"] == [(3, 0.14), (5, 0.064), (9, 2.5e-4)] and data["chosen"] == (9, 2.5e-4)
    assert len(data["points"]) == len(SCORED) and data["threshold"] is None
    assert data["score_name"] == "held-out window re-simulation error"


def results(tmp_path, loss=None, phases=(), metrics=None) -> Results:
    t = np.linspace(0, 10, 101)
    y = np.stack([np.stack([np.sin(t + k), np.cos(t + k)], -1) for k in range(2)])
    heldout = Trajectories(t, y, np.zeros((2, t.size, 1)), ("v", "w"), ("I",))
    predictions = {"known only": y * 0.5, "UDE": y, "discovered": y * 1.01}
    known = fhn_known()
    loss = np.zeros(0) if loss is None else loss
    return Results(tmp_path, known, known, metrics or {}, heldout, predictions, {}, loss, phases)


def test_resimulation_legend_is_outside_every_axes(tmp_path):
    fig = resimulation_plot(results(tmp_path))
    fig.tight_layout()
    fig.canvas.draw()
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    assert legends, "the figure has a legend"
    for legend in legends:
        box = legend.get_window_extent()
        assert not any(box.overlaps(ax.get_window_extent()) for ax in fig.axes), "a legend covers a plot"
        # and it is on the page
        assert 0 <= box.x0 and box.x1 <= fig.bbox.x1


def test_loss_figure_marks_where_each_training_phase_begins(tmp_path):
    phases = (("pre-fit", 0), ("Adam", 300), ("L-BFGS", 900))
    fig = loss_plot(results(tmp_path, np.geomspace(1, 1e-3, 930), phases))
    ax = fig.axes[0]
    marks = [line.get_xdata()[0] for line in ax.get_lines() if line.get_linestyle() == ":"]
    assert marks == [300.5, 900.5]  # between the last loss of one phase (iteration k) and the next (k + 1)
    (top,) = ax.child_axes  # the phases' names, on a top axis outside the plot
    names = dict(zip((label.get_text() for label in top.get_xticklabels()), top.get_xticks(), strict=True))
    assert names == {"pre-fit": 0.5, "Adam": 300.5, "L-BFGS": 900.5}
    # an older folder without phases: the loss alone, no marks
    assert not loss_plot(results(tmp_path, np.geomspace(1, 1e-3, 30))).axes[0].child_axes


def test_how_each_term_was_chosen_is_a_short_list(tmp_path):
    reason = ("18 of the 33 candidates scored by held-out window re-simulation error (the residual-error Pareto "
              "front and the sparse candidates off it); 3 of them within 1.5x the best score (0.000251) + 0.0001; "
              "of those, the one with the fewest constants (2), then the lowest score (0.000251)")
    assert reason_sentences(reason)[1] == "3 of them within 1.5x the best score (0.000251) + 0.0001."
    metrics = {"distillation": {"v": {"chosen": "-0.33*v**3 + v", "reason": reason}}}
    text = markdown_report(results(tmp_path, metrics=metrics), {}, [])
    section = text.split("## How each term was chosen")[1].split("## Figures")[0]
    items = [line for line in section.splitlines() if line.startswith("- ")]
    assert len(items) == 3 and all(len(item.split()) <= 25 for item in items)
    assert "dv/dt: `-0.33*v**3 + v`" in section


@pytest.fixture
def umask():
    def set_mask(mask):
        os.umask(mask)
    old = os.umask(0o022)
    yield set_mask
    os.umask(old)


@pytest.mark.parametrize(("mask", "folder_mode", "file_mode"), [(0o022, 0o755, 0o644), (0o077, 0o700, 0o600)])
def test_results_folder_and_reports_follow_the_umask(tmp_path, umask, mask, folder_mode, file_mode):
    umask(mask)

    def fill(folder):
        atomic_write(folder / "report.md", "# report\n")
        (folder / "figures").mkdir()

    out = write_folder(tmp_path / "results", fill)
    for path, mode in ((out, folder_mode), (out / "figures", folder_mode), (out / "report.md", file_mode)):
        assert stat.S_IMODE(path.stat().st_mode) == mode, path

