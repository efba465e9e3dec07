"""Regenerate the golden results folder (tests/golden/fhn/) that the report, export and docs tests read:

    python -m tests.golden.make

It is the results folder of `tests.helpers.run_small_fhn_discovery()` (a whole FitzHugh–Nagumo discovery, ~30 s)
without its reports and figures, which the tests rebuild with `write_reports`. The slow test
tests/golden/test_golden.py writes it again in a temporary folder and fails when the committed one is stale:
regenerate it, and commit it, whenever the results-folder format or the pipeline's answer changes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from discover.report import write_results
from discover.report._documents import REPORTS
from tests.helpers import GOLDEN, run_small_fhn_discovery


def write_golden(discovery, path: Path, force: bool = False) -> Path:
    """`discovery`'s results folder at `path`, less what `write_reports` rebuilds (reports, figures)."""
    folder = write_results(discovery, path, force=force)
    for name in REPORTS:
        (folder / name).unlink()
    shutil.rmtree(folder / "figures")
    return folder


def main() -> None:
    folder = write_golden(run_small_fhn_discovery(), GOLDEN, force=True)
    sizes = {p.name: p.stat().st_size for p in sorted(folder.iterdir())}
    print(f"wrote {folder} ({sum(sizes.values()) / 1024:.0f} KiB): " + ", ".join(sizes))


if __name__ == "__main__":
    main()
