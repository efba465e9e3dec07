"""The committed golden results folder (tests/golden/fhn/) is what the pipeline writes today.

The report, export and docs tests of the fast tier read that folder instead of training; the slow test
here writes it again from the same small FitzHugh–Nagumo discovery and fails when the committed one is stale
(regenerate it with `python -m tests.golden.make` and commit it). Training is seeded, so on one machine
the numbers are identical; across machines (other BLAS, other CPU) they may differ in the last digits,
hence the tolerance. The discovered equations must be the same text.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.golden.make import write_golden
from tests.helpers import GOLDEN

RTOL = 1e-2  # numbers (JSON, text) within 1 % of the committed ones, arrays within 1 % of their largest value
VARIES = {"seconds", "fit_seconds_"}  # wall times: never the same twice
_NUMBER = re.compile(r"([-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?)")


@pytest.mark.slow  # a whole discovery (~30 s), shared with the other slow tests through the session fixture
def test_committed_golden_folder_is_what_the_pipeline_writes_today(small_fhn_discovery, tmp_path):
    fresh = write_golden(small_fhn_discovery, tmp_path / "fhn")
    problems = folder_differences(fresh, GOLDEN)
    assert not problems, ("tests/golden/fhn is stale: regenerate it with `python -m tests.golden.make` and commit it.\n"
                          + "\n".join(problems[:30]))


def test_the_comparison_sees_a_changed_equation_a_new_key_and_a_far_number(tmp_path):
    """The staleness check is real: it fails on what a stale folder would hold."""
    changed = _copy(tmp_path / "changed")
    saved = json.loads((changed / "equations.json").read_text())
    saved["discovered"]["discovered"]["v"] = "-0.3*v**3 + 1.0*v"
    (changed / "equations.json").write_text(json.dumps(saved))
    metrics = json.loads((changed / "metrics.json").read_text())
    metrics["new key"] = 1
    metrics["selection"]["fraction"] *= 1.5
    metrics["seconds"] = {k: 2 * v for k, v in metrics["seconds"].items()}  # wall times may differ
    (changed / "metrics.json").write_text(json.dumps(metrics))
    (changed / "extra.txt").write_text("")
    problems = "\n".join(folder_differences(changed, GOLDEN))
    assert "equations.json: discovered.discovered: written" in problems
    assert "metrics.json: keys" in problems and "new key" in problems
    assert "metrics.json: selection.fraction" in problems
    assert "seconds" not in problems
    assert "files" in problems and "extra.txt" in problems
    assert folder_differences(_copy(tmp_path / "same"), GOLDEN) == []


def _copy(path: Path) -> Path:
    return Path(shutil.copytree(GOLDEN, path))


def folder_differences(fresh: Path, golden: Path) -> list[str]:
    """What differs between two golden folders, one line each; [] when they agree."""
    written, committed = ({p.name for p in folder.iterdir()} for folder in (fresh, golden))
    problems = [] if written == committed else [
        f"files: only written {sorted(written - committed)}, only committed {sorted(committed - written)}"]
    for name in sorted(written & committed):
        a, b = _read(fresh / name), _read(golden / name)
        problems += [f"{name}: {p}" for p in _differences(a, b, "")]
    # the discovered equations are the same text, not merely close numbers
    equations = [json.loads((f / "equations.json").read_text())["discovered"]["discovered"] for f in (fresh, golden)]
    if equations[0] != equations[1]:
        problems.append(f"equations.json: discovered.discovered: written {equations[0]}, committed {equations[1]}")
    return problems


def _read(path: Path):
    """A file of the folder as plain data: JSON parsed, arrays by name, a saved UDE's JSON text parsed and
    its tensors as arrays, text as lines (less the wall time)."""
    if path.suffix == ".json":
        return json.loads(path.read_text())
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as f:
            return dict(f)
    if path.suffix == ".pt":
        state = torch.load(path, weights_only=True)
        return {k: json.loads(v) if isinstance(v, str) and v[:1] in "{[" else v for k, v in state.items()}
    return [line for line in path.read_text().splitlines() if not line.startswith("Wall time")]


def _differences(a, b, where: str) -> list[str]:
    """`a` (written) against `b` (committed): the same keys, lengths and words, numbers within RTOL."""
    if isinstance(a, dict) and isinstance(b, dict):
        keys = [] if set(a) == set(b) else [f"{where + ' ' if where else ''}keys: only written "
                                            f"{sorted(map(str, set(a) - set(b)))}, "
                                            f"only committed {sorted(map(str, set(b) - set(a)))}"]
        return keys + [p for k in a if k in b and k not in VARIES
                       for p in _differences(a[k], b[k], f"{where}.{k}" if where else k)]
    if isinstance(a, (np.ndarray, torch.Tensor)) and isinstance(b, (np.ndarray, torch.Tensor)):
        return _array_differences(np.asarray(a), np.asarray(b), where)
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{where}: {len(a)} items written, {len(b)} committed"]
        return [p for k, (x, y) in enumerate(zip(a, b, strict=True)) for p in _differences(x, y, f"{where}[{k}]")]
    if isinstance(a, str) and isinstance(b, str):
        return _text_differences(a, b, where)
    if _is_number(a) and _is_number(b):
        return [] if _close(float(a), float(b)) else [f"{where}: written {a}, committed {b}"]
    return [] if a == b else [f"{where}: written {a!r}, committed {b!r}"]


def _array_differences(a: np.ndarray, b: np.ndarray, where: str) -> list[str]:
    if a.shape != b.shape or a.dtype.kind != b.dtype.kind:
        return [f"{where}: written {a.dtype} {a.shape}, committed {b.dtype} {b.shape}"]
    if a.dtype.kind not in "fc":
        return [] if np.array_equal(a, b) else [f"{where}: written {a}, committed {b}"]
    finite = np.isfinite(b)
    scale = float(np.abs(b[finite]).max()) if finite.any() else 0.0
    if np.array_equal(np.isfinite(a), finite) and np.allclose(a[finite], b[finite], rtol=0, atol=RTOL * scale):
        return []
    return [f"{where}: largest difference {np.nanmax(np.abs(a - b)):.3g}, largest value {scale:.3g}"]


def _text_differences(a: str, b: str, where: str) -> list[str]:
    """Text with numbers in it (provenance, reasons, LaTeX, tables): the same words, the numbers close
    (give or take one in the last digit printed)."""
    x, y = _NUMBER.split(a), _NUMBER.split(b)
    if len(x) == len(y) and x[::2] == y[::2] and all(_close(float(p), float(q), _last_digit(p) + _last_digit(q))
                                                     for p, q in zip(x[1::2], y[1::2], strict=True)):
        return []
    return [f"{where}: written {a[:200]!r}, committed {b[:200]!r}"]


def _last_digit(text: str) -> float:
    """One unit in the last digit of a printed decimal: 0.01 for "1.23", 1e-5 for "1.2e-4"."""
    mantissa, _, exponent = text.lower().partition("e")
    if "." not in mantissa and not exponent:
        return 0.0  # an integer is a count: exactly the same
    return 10.0 ** (int(exponent or 0) - len(mantissa.partition(".")[2]))


def _is_number(x) -> bool:
    return isinstance(x, (int, float, np.number)) and not isinstance(x, bool)


def _close(a: float, b: float, slack: float = 0.0) -> bool:
    if np.isnan(a) or np.isnan(b):
        return np.isnan(a) and np.isnan(b)
    return a == b or abs(a - b) <= RTOL * max(abs(a), abs(b)) + slack
