"""Write a run's results folder: equations (JSON, LaTeX, text), metrics, data, arrays and the reports."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._errors import ConfigError
from .._files import umask
from ._bundle import save_arrays
from ._documents import write_reports
from ._latex import document_latex
from ._text import equations_text, metrics_table

if TYPE_CHECKING:
    from .._discovery import Discovery
    from ..distill import Candidate


def check_output_dir(path: str | Path, force: bool) -> Path:
    """Refuse to overwrite a non-empty folder unless `force`; call before any long work."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"output {str(path)!r} exists and is not a folder; choose another with --out.")
    if path.is_dir() and any(path.iterdir()) and not force:
        raise ConfigError(
            f"output folder {str(path)!r} already holds files; choose another with --out, or pass --force to "
            "replace it."
        )
    return path


def write_results(discovery: Discovery, path: str | Path, force: bool = False) -> Path:
    """Write everything into `path` atomically: built in a temporary sibling, then renamed."""
    return write_folder(path, lambda folder: _write_all(discovery, folder), force)


def write_folder(path: str | Path, fill: Callable[[Path], None], force: bool = False) -> Path:
    """`fill` a temporary sibling of `path`, then rename it to `path`: an interruption or an error
    leaves the user's folder as it was, never half written (`force` to replace a non-empty one)."""
    path = check_output_dir(path, force)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}-", dir=path.parent))
    try:
        os.chmod(tmp, 0o777 & ~umask())  # mkdtemp's folder is private (0700); a results folder is not
        fill(tmp)
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def summary_text(discovery: Discovery) -> str:
    d = discovery
    lines = ["Discovered model:", _indent(equations_text(d.discovered, d.known)), ""]
    lines += ["Re-simulation of held-out trajectories (new initial conditions):", _indent(metrics_table(d.metrics))]
    lines += ["", "Wall time: " + ", ".join(f"{k} {v:.1f} s" for k, v in d.seconds.items())]
    lines += [f"Note: {n}" for n in d.notes]
    return "\n".join(lines)


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def _write_all(d, folder: Path) -> None:
    equations = {"known": d.known.to_dict(), "discovered": d.discovered.to_dict()}
    (folder / "equations.json").write_text(json.dumps(equations, indent=2))
    (folder / "equations.tex").write_text(document_latex(d.discovered, d.known))
    (folder / "summary.txt").write_text(summary_text(d) + "\n")
    candidates = {state: distillation_record(dist) for state, dist in d.distillation.items()}
    metrics = {"heldout": d.metrics, "seconds": d.seconds, "distillation": candidates, "refit": d.refit,
               "selection": d.selection, "notes": list(d.notes), "routes": d.routes,
               "final_training_loss": d.ude.loss_history_[-1] if d.ude else None}
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=2, default=_json_float))
    d.train.save_npz(folder / "data_train.npz")
    d.heldout.save_npz(folder / "data_heldout.npz")
    save_arrays(d, folder)
    if d.ude is not None:  # the trained networks, to re-simulate or compare later: UDE.load(folder)
        d.ude.save(folder / "ude.pt")
    write_reports(folder, force=True)  # a fresh folder: nothing of the user's to replace


def distillation_record(dist) -> dict:
    """One state's `StateDistillation` for metrics.json. `scored`: every candidate the choice rule
    scored, with its `score` (named by `score_name`); `front`: those of them no other beats in both
    complexity and score; `threshold`: the score the chosen one had to be within. (Older folders hold
    the scored candidates under `front` and have no `scored`; the report reads both.)"""
    from ..choose import nondominated

    scored = [{**candidate_record(c), "score": float(s)} for c, s in zip(dist.scored, dist.scores, strict=True)]
    on_front = nondominated([c.complexity for c in dist.scored], dist.scores)
    return {
        "chosen": str(dist.chosen.expression), "reason": dist.reason, "score_name": dist.score_name,
        "threshold": float(dist.threshold) if np.isfinite(dist.threshold) else None,
        "scored": scored, "front": [scored[k] for k in on_front],
        "all_candidates": [candidate_record(c) for c in dist.candidates],
    }


def candidate_record(c: Candidate) -> dict[str, Any]:
    out = {"expression": str(c.expression), "complexity": c.complexity, "heldout_residual_error": c.error,
           "aic": c.aic, "bic": c.bic, "source": c.source}
    if c.inclusion:
        out["inclusion_frequency"] = dict(c.inclusion)
    return out


def _json_float(x):
    return float(x) if isinstance(x, (np.floating,)) else str(x)

