"""A latent model's results folder: the same files `discover run` writes, so `discover report` and
`discover export` read it like any other (equations, metrics, held-out re-simulation, reports)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .._errors import DataError
from ..data import Trajectories
from ..distill import SparseDistiller
from ..equations import EquationSystem
from ..report import (
    candidate_record,
    check_output_dir,
    document_latex,
    equations_text,
    metrics_table,
    write_folder,
    write_reports,
)
from ..validate import resimulate, trajectory_metrics
from ._align import Alignment
from ._data import Population
from ._distill import field_skeleton, rate_r2
from ._fit import LatentODE


def write_latent_results(folder: str | Path, model: LatentODE, heldout: Population, alignment: Alignment,
                         system: EquationSystem, distillers: Mapping[str, SparseDistiller] | None = None,
                         *, force: bool = False) -> Path:
    """Write a results folder for distilled latent equations, validated on `heldout` trials.

    The held-out "data" are the latents the fitted network infers from the held-out counts, in
    the frame of `alignment`; the discovered equations re-simulate them from each trial's first
    inferred state (`predictions.npz`, metrics per state as for any model). metrics.json's
    `latent` record adds what only counts can tell: the rates' R² against the counts (and against
    the true rates, for synthetic data), for the network and for the discovered equations (their
    latents through the network's readout), and the alignment's R² per coordinate. `distillers`
    (from `distill_latent_field`) add each state's candidates and Pareto front. Written atomically;
    a non-empty `folder` is replaced only with `force`.
    """
    if not isinstance(system, EquationSystem):
        raise DataError("`system` must be the distilled EquationSystem (from distill_latent_field), got "
                        f"{type(system).__name__}.")
    if system.residuals:
        raise DataError(f"`system` still has residuals on {sorted(system.residuals)}: distil it first "
                        "(distill_latent_field) so every residual is replaced by terms.")
    check_output_dir(folder, force)  # before any work: a folder of the user's is refused at once
    latents, network = model._run(heldout)  # one pass of the network for both
    data = _trajectories(alignment.apply(latents), heldout.dt, tuple(system.states))
    predicted = resimulate(system, data)
    heldout_metrics = {"discovered": trajectory_metrics(predicted, data, time_unit=system.time_unit)}
    rates = _rate_record(network, heldout, alignment, predicted, model)
    record = {
        "heldout": heldout_metrics,
        "latent": rates,
        "distillation": {s: _distillation(d) for s, d in (distillers or {}).items()},
        "seconds": {"latent ODE": float(getattr(model, "fit_seconds_", 0.0))},
        "notes": ["held-out data: the latents the network infers from the held-out counts, in the aligned frame"],
    }
    known = _skeleton(system)

    def fill(out: Path) -> None:
        (out / "equations.json").write_text(json.dumps({"known": known.to_dict(), "discovered": system.to_dict()},
                                                       indent=2))
        (out / "equations.tex").write_text(document_latex(system, known))
        (out / "metrics.json").write_text(json.dumps(record, indent=2, default=float))
        (out / "summary.txt").write_text("\n".join([
            "Discovered latent equations:", equations_text(system, known), "",
            "Re-simulation of held-out trials' inferred latents:", metrics_table(heldout_metrics), "",
            "Rates (R²): " + ", ".join(f"{k} {v:.3f}" for k, v in rates.items() if k.startswith("rate")),
        ]) + "\n")
        data.save_npz(out / "data_heldout.npz")
        np.savez(out / "predictions.npz", names=np.array(["discovered"]), model_0=predicted)
        np.savez(out / "training.npz", loss_history=np.asarray(getattr(model, "loss_history_", []), dtype=float))
        write_reports(out, force=True)

    return write_folder(folder, fill, force)


def aligned_latents(model: LatentODE, data: Population, alignment: Alignment, names: tuple[str, ...]) -> Trajectories:
    """The latents `model` infers from `data`'s counts, in the frame of `alignment`, as `Trajectories`."""
    return _trajectories(alignment.apply(model.transform(data)), data.dt, names)


def _trajectories(x: np.ndarray, dt: float, names: tuple[str, ...]) -> Trajectories:
    if x.shape[-1] != len(names):
        raise DataError(f"the alignment gives {x.shape[-1]} coordinates but the system has states {list(names)}; "
                        "align to a frame of as many coordinates as the distilled system has states.")
    return Trajectories(np.arange(x.shape[1]) * dt, x, np.zeros((*x.shape[:2], 0)), names, ())


def discovered_rates(model: LatentODE, alignment: Alignment, latents: np.ndarray) -> np.ndarray:
    """Expected counts per bin of aligned latents `latents` through the network's readout (square
    alignments only)."""
    readout = model.model_.readout
    weight, bias = alignment.readout(readout.weight.detach().double().numpy(), readout.bias.detach().double().numpy())
    return np.exp(np.clip(np.asarray(latents) @ weight.T + bias, -50.0, 50.0))


def _rate_record(network: np.ndarray, heldout: Population, alignment: Alignment, predicted: np.ndarray,
                 model: LatentODE) -> dict:
    # a frame of fewer coordinates than latents does not determine the latents: no readout of it
    readable = alignment.matrix.shape[0] == alignment.matrix.shape[1]
    finite = readable and bool(np.all(np.isfinite(predicted)))
    discovered = discovered_rates(model, alignment, predicted) if finite else None
    out = {"rate_r2_counts_network": rate_r2(network, heldout.counts),
           "trials": heldout.n_trials, "bins": heldout.counts.shape[1], "neurons": heldout.n_neurons}
    if np.all(np.isfinite(alignment.r2)):  # a canonical frame has no reference to explain (NaN is not JSON)
        out["alignment_r2"] = [float(v) for v in alignment.r2]
    if readable:  # a blown-up re-simulation scores -inf, last, as in trajectory_metrics
        out["rate_r2_counts_discovered"] = rate_r2(discovered, heldout.counts) if discovered is not None \
            else float("-inf")
    if heldout.rates is not None:  # synthetic data: against the truth too
        out["rate_r2_true_network"] = rate_r2(network, heldout.rates)
        if readable:
            out["rate_r2_true_discovered"] = rate_r2(discovered, heldout.rates) if discovered is not None \
                else float("-inf")
    return out


def _distillation(d: SparseDistiller) -> dict:
    return {"chosen": str(d.expression_), "reason": "knee of the sparse regression's front on the aligned field",
            "front": [{**candidate_record(c), "score": c.error} for c in d.front_],
            "all_candidates": [candidate_record(c) for c in d.candidates_]}


def _skeleton(system: EquationSystem) -> EquationSystem:
    """`system` before distillation: each discovered state's right-hand side a residual alone."""
    return field_skeleton(system.states, system.discovered, name=system.name, time_unit=system.time_unit)
