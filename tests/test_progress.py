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
