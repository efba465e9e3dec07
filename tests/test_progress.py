"""Progress lines where there is no terminal, bars where there is one, nothing with --quiet."""

import io

from discover._progress import QUIET, Progress


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_without_a_terminal_each_stage_and_long_loop_writes_lines_with_elapsed_time():
    out = io.StringIO()
    progress = Progress(stream=out, every=0.0)
    with progress.stage("distilling dv/dt"):
        loop = progress.loop(range(3), "training UDE")
        for i in loop:
            loop.set_postfix(loss=f"{i:.1e}")
    lines = out.getvalue().splitlines()
    assert lines[0].endswith("distilling dv/dt ...") and lines[0].startswith("[")
    assert "training UDE: 1/3" in lines[1] and "training UDE: 3/3 (done in" in lines[-2]
    assert "loss 2.0e+00" in lines[-2]
    assert "distilling dv/dt: done in" in lines[-1]


def test_in_a_terminal_a_loop_is_a_bar_and_quiet_writes_nothing():
    term = _Terminal()
    assert type(Progress(stream=term).loop(range(2), "x")).__module__.startswith("tqdm")
    quiet = io.StringIO()
    silent = Progress(enabled=False, stream=quiet)
    with silent.stage("a"):
        list(silent.loop(range(2), "b"))
    assert quiet.getvalue() == "" and not QUIET.enabled


def test_a_run_reports_every_stage_when_the_output_is_a_file():
    # a log file stayed empty for minutes: training bars print nothing there, and distillation said nothing at all
    from discover import discover, example_data
    from tests.helpers import fhn_known

    train, heldout = example_data("fitzhugh_nagumo", n_train=2, n_heldout=1, duration=20.0, noise=0.01, seed=0)
    out = io.StringIO()
    discover(train, fhn_known(), heldout, training={"iterations": 3, "prefit_iterations": 3, "lbfgs_iterations": 0},
             distill={"route": "ude", "backends": ["sparse"], "joint": False, "prune": False},
             progress=Progress(stream=out, every=0.0))
    text = out.getvalue()
    for stage in ("training the UDE ...", "training UDE (Adam): 3/3 (done in", "training the UDE: done in",
                  "dv/dt: sparse regression on", "dv/dt: scoring", "refitting the discovered coefficients",
                  "rounding the coefficients", "validating"):
        assert stage in text, f"no line for {stage!r} in:\n{text}"
    assert all(line.startswith("[") for line in text.splitlines())
