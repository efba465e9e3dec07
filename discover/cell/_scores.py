"""How well a cell model predicts held-out sweeps: spike times and the voltage between spikes.

Measures neuroscientists read (Jolivet et al. 2008, Naud et al. 2011, Pozzorini et al. 2015):
the coincidence factor Gamma (±4 ms) per sweep and the spike-count error; where the held-out
sweeps are repeats of one frozen current, Gamma against each repeat, the cell's intrinsic
reliability, their ratio and Md* (±8 ms, and ±4 ms); and the subthreshold voltage's RMSE,
NRMSE and variance explained (`rmse`, `nrmse`, `r2`) outside spike windows (from 5 ms before each
data or model spike to the end of its refractory period), where a reset model is not meant to
follow the spike itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..data import Trajectories
from ..validate import md_star, repeats_of_one_stimulus, score_repeats, sweep_gamma

BEFORE_SPIKE = 5.0
"""ms before a spike onset left out of the subthreshold scores (the upstroke a reset model skips)."""


def cell_metrics(heldout: Trajectories, onsets: Sequence[np.ndarray],
                 predictions: Mapping[str, tuple[np.ndarray, list[np.ndarray]]],
                 trains: Mapping[str, list[list[np.ndarray]]], spikes, settings,
                 forced: Mapping[str, np.ndarray] | None = None) -> dict:
    """model -> {"V": measures} for deterministic `predictions` ((sweeps, samples, 1) voltage traces
    and each sweep's spike times) and stochastic `trains` (per sweep, the runs' spike times),
    against the held-out sweeps and their spike `onsets`. `forced`: model -> voltage (sweeps,
    samples) with the spikes forced at the recorded onsets, scored as `r2_forced` (the subthreshold
    variance explained GIF papers report: the membrane judged apart from its spike times)."""
    dt, duration = heldout.dt, float(heldout.t[-1] - heldout.t[0]) + heldout.dt
    data = [np.asarray(o) * dt for o in onsets]
    repeats = heldout.n_trajectories > 1 and repeats_of_one_stimulus(heldout.u[..., 0])
    out = {}
    for name, (trace, found) in predictions.items():
        measures = {**_spike_scores(data, [[s] for s in found], duration, settings.window),
                    **_subthreshold(heldout, trace[..., 0], data, found, spikes.refractory)}
        if repeats:
            measures.update(_repeat_scores(data, [found[0]], duration, dt, settings))
        if forced is not None and name in forced:
            r2 = _subthreshold(heldout, forced[name], data, data, spikes.refractory)["r2"]
            measures["r2_forced"] = r2
        out[name] = {"V": measures}
    for name, runs in trains.items():
        measures = _spike_scores(data, runs, duration, settings.window)
        if repeats:
            measures.update(_repeat_scores(data, runs[0], duration, dt, settings))
        out[name] = {"V": measures}
    return out


def _spike_scores(data: list[np.ndarray], runs: list[list[np.ndarray]], duration: float, window: float) -> dict:
    """Gamma (mean over sweeps where the cell or the model spikes, each sweep's Gamma averaged over
    the runs) and the mean |model - data| / data spike count per sweep."""
    gammas, counts = [], []
    for cell, model in zip(data, runs, strict=True):
        per_run = [sweep_gamma(cell, m, duration, window) for m in model]
        if not all(np.isnan(per_run)):
            gammas.append(float(np.nanmean(per_run)))
        counts.append(abs(np.mean([len(m) for m in model]) - len(cell)) / max(len(cell), 1))
    return {"gamma": float(np.mean(gammas)) if gammas else float("nan"), "spike_count_error": float(np.mean(counts)),
            "silent_sweeps": len(data) - len(gammas), "spikes_data": int(sum(len(c) for c in data)),
            "spikes_model": float(sum(np.mean([len(m) for m in model]) for model in runs))}


def _subthreshold(heldout: Trajectories, v_model: np.ndarray, data: list[np.ndarray], found: list[np.ndarray],
                  refractory: float) -> dict:
    errors, values = [], []
    t = heldout.t - heldout.t[0]
    for v, model, cell_spikes, model_spikes_ in zip(heldout.y[..., 0], v_model, data, found, strict=True):
        keep = np.ones(t.size, dtype=bool)
        for s in (*cell_spikes, *model_spikes_):
            keep &= ~((t >= s - BEFORE_SPIKE) & (t <= s + refractory))
        errors.append((model - v)[keep])
        values.append(v[keep])
    error, value = np.concatenate(errors), np.concatenate(values)
    if error.size == 0 or not np.all(np.isfinite(error)):
        return {"rmse": float("inf"), "nrmse": float("inf"), "r2": float("-inf")}
    mse, var = float(np.mean(error**2)), float(np.var(value))
    return {"rmse": mse**0.5, "nrmse": (mse / var) ** 0.5, "r2": 1.0 - mse / var}


def _repeat_scores(data: list[np.ndarray], runs: list[np.ndarray], duration: float, dt: float, settings) -> dict:
    score = score_repeats(data, runs, duration, dt, window=settings.window, md_window=settings.md_window)
    fine = md_star(data, runs, duration, dt, settings.window)  # Md* at Gamma's window too, as GIF papers give it
    return {"gamma_ratio": score.ratio, "gamma_intrinsic": score.intrinsic, "md_star": score.md_star,
            f"md_star_{settings.window:g}ms": fine, "repeats": len(data)}
