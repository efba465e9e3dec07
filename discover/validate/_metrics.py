"""Metrics for re-simulation against held-out data: errors, forecast horizon, rhythm, spikes."""

from __future__ import annotations

import numpy as np

from ..data import Trajectories
from ..equations import EquationSystem

HORIZON_THRESHOLD = 0.5  # pointwise error, in s.d. of the state, that ends a forecast
COINCIDENCE_WINDOW_MS = 4.0  # Kistler et al. 1997; Jolivet et al. 2008


def trajectory_metrics(
    predicted: np.ndarray, data: Trajectories, *, time_unit: str = "1", spike_threshold: dict | None = None
) -> dict[str, dict[str, float]]:
    """Per state: RMSE, NRMSE (RMSE over the data's s.d.), R², forecast horizon; where the data
    oscillate, period and amplitude errors; where a spike threshold is given for the state, the
    spike-time coincidence factor Gamma (±4 ms) and spike-count error.

    A prediction holding NaN (a model that blew up) scores RMSE = inf and R² = -inf, so it
    ranks last instead of crashing whatever compares models; its horizon ends at the blow-up.
    """
    spike_threshold = spike_threshold or {}
    out = {}
    for i, state in enumerate(data.states):
        obs, pred = data.y[..., i], predicted[..., i]
        m = {"horizon": forecast_horizon(data.t, obs, pred)}
        if not np.all(np.isfinite(pred)):
            m.update(rmse=float("inf"), nrmse=float("inf"), r2=float("-inf"))
        else:
            mse = float(np.mean((pred - obs) ** 2))
            var = float(np.var(obs)) or 1.0
            m.update(rmse=mse**0.5, nrmse=(mse / var) ** 0.5, r2=1.0 - mse / var)
        m.update(rhythm_errors(data.t, obs, pred))
        if state in spike_threshold:
            m.update(spike_metrics(data.t, obs, pred, spike_threshold[state], ms_per_unit(time_unit)))
        out[state] = m
    return out


def forecast_horizon(t: np.ndarray, obs: np.ndarray, pred: np.ndarray, threshold: float = HORIZON_THRESHOLD) -> float:
    """Mean over trajectories of the time until |prediction - data| first exceeds `threshold` s.d.

    The whole duration when it never does. A chaotic or phase-drifting model scores by how
    long it stays useful, which RMSE over the whole run hides.
    """
    scale = float(np.std(obs)) or 1.0
    horizons = []
    for o, p in zip(np.atleast_2d(obs), np.atleast_2d(pred), strict=True):
        bad = ~(np.abs(p - o) <= threshold * scale)  # NaN counts as bad
        horizons.append(float(t[np.argmax(bad)] - t[0]) if bad.any() else float(t[-1] - t[0]))
    return float(np.mean(horizons))


def rhythm_errors(t: np.ndarray, obs: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """Relative period and amplitude errors, averaged over trajectories that oscillate in the data.

    Measured after the first quarter of each trajectory (transients); a trajectory counts as
    oscillating when it crosses its mean upwards at least twice there. Empty when none does.
    """
    period_err, amp_err = [], []
    for o, p in zip(np.atleast_2d(obs), np.atleast_2d(pred), strict=True):
        half = slice(len(t) // 4, None)
        po = _period(t[half], o[half])
        if po is None:
            continue
        pp = _period(t[half], p[half]) if np.all(np.isfinite(p)) else None
        period_err.append(abs(pp - po) / po if pp is not None else 1.0)
        ao, ap = np.ptp(o[half]) / 2, np.ptp(p[half]) / 2 if np.all(np.isfinite(p)) else 0.0
        amp_err.append(abs(ap - ao) / ao if ao > 0 else 0.0)
    if not period_err:
        return {}
    return {"period_error": float(np.mean(period_err)), "amplitude_error": float(np.mean(amp_err))}


def _period(t: np.ndarray, x: np.ndarray) -> float | None:
    level = x.mean()
    up = np.flatnonzero((x[:-1] < level) & (x[1:] >= level))
    if len(up) < 2:
        return None
    # interpolate crossing times between samples, so the period is not quantised to dt
    times = t[up] + (level - x[up]) / (x[up + 1] - x[up]) * (t[up + 1] - t[up])
    return float(np.mean(np.diff(times)))


def spike_times(t: np.ndarray, v: np.ndarray, threshold: float) -> np.ndarray:
    """Times of upward threshold crossings (interpolated between samples)."""
    v = np.nan_to_num(v, nan=-np.inf)
    up = np.flatnonzero((v[:-1] < threshold) & (v[1:] >= threshold))
    finite = np.isfinite(v[up])
    frac = np.where(finite, (threshold - v[up]) / np.where(finite, v[up + 1] - v[up], 1.0), 0.0)
    return t[up] + frac * (t[up + 1] - t[up])


def coincidence_factor(data: np.ndarray, model: np.ndarray, duration: float, window: float) -> float:
    """Kistler et al. (1997) / Jolivet et al. (2008) coincidence factor Gamma.

    Gamma = (N_coinc - <N_coinc>) / (0.5 (N_data + N_model)) / (1 - 2 nu window), with
    <N_coinc> = 2 nu window N_data the coincidences expected by chance from a Poisson train of
    the model's rate nu. 1 is a perfect match, 0 is chance. Each data spike matches at most one
    model spike within ±`window` (same time unit as the trains).

    Undefined (NaN) where it has no meaning: when neither train holds a spike (nothing to
    predict), and when the model fires every 2 windows or faster (chance alone then explains
    every coincidence). Callers decide what those mean: `spike_metrics` leaves silent pairs out
    and counts a too-fast model as a failure.
    """
    if len(data) == 0 and len(model) == 0:
        return float("nan")
    if len(data) == 0 or len(model) == 0:
        return 0.0
    return gamma_from_counts(int(matched_spikes(data, model, window).sum()), len(data), len(model), duration, window)


def matched_spikes(data: np.ndarray, model: np.ndarray, window: float) -> np.ndarray:
    """Which `data` spikes have a `model` spike of their own within ±`window` (each model spike
    matches at most one, the nearest free one): the coincidences of `coincidence_factor`."""
    model = np.asarray(model)
    used = np.zeros(len(model), dtype=bool)
    hit = np.zeros(len(data), dtype=bool)
    for k, s in enumerate(data):
        near = np.flatnonzero(~used & (np.abs(model - s) <= window))
        if near.size:
            used[near[np.argmin(np.abs(model[near] - s))]] = hit[k] = True
    return hit


def gamma_from_counts(coincidences: float, n_data: float, n_model: float, duration: float, window: float) -> float:
    """Gamma from its counts (`coincidence_factor`'s formula), e.g. pooled over blocks of several
    sweeps; NaN where the model fires every 2 windows or faster, or neither train spikes."""
    if n_data + n_model == 0:
        return float("nan")
    nu = n_model / duration
    norm = 1 - 2 * nu * window
    if norm <= 0:
        return float("nan")
    return float((coincidences - 2 * nu * window * n_data) / (0.5 * (n_data + n_model)) / norm)


def sweep_gamma(data: np.ndarray, model: np.ndarray, duration: float, window: float) -> float:
    """Gamma of one sweep as a score: NaN only where neither train spikes (no spike to predict);
    a model too fast for Gamma to be defined scores 0, chance, because it predicted nothing."""
    value = coincidence_factor(data, model, duration, window)
    if np.isnan(value) and (len(data) or len(model)):
        return 0.0
    return value


def spike_metrics(t: np.ndarray, obs: np.ndarray, pred: np.ndarray, threshold: float,
                  ms_per_unit: float) -> dict[str, float]:
    """Gamma (±4 ms) and relative spike-count error over trajectories, and how many were silent.

    Gamma is the mean over the sweeps where the data or the model spike: a sweep where neither
    does says nothing about spike times (averaging it in as 1 let a model that never fires score
    0.17 on a cell firing on 5 of 6 sweeps), and a model firing too fast for Gamma scores 0 there,
    not 'missing'. `silent_sweeps` counts the sweeps left out; Gamma is NaN when every sweep is.
    The count error is |model - data| / data spikes per sweep (data spikes at least 1), averaged."""
    window = COINCIDENCE_WINDOW_MS / ms_per_unit
    gammas, counts = [], []
    for o, p in zip(np.atleast_2d(obs), np.atleast_2d(pred), strict=True):
        so, sp_ = spike_times(t, o, threshold), spike_times(t, p, threshold)
        gammas.append(sweep_gamma(so, sp_, float(t[-1] - t[0]), window))
        counts.append(abs(len(sp_) - len(so)) / max(len(so), 1))
    scored = [g for g in gammas if not np.isnan(g)]
    return {"gamma": float(np.mean(scored)) if scored else float("nan"),
            "spike_count_error": float(np.mean(counts)), "silent_sweeps": len(gammas) - len(scored)}


def spike_thresholds(system: EquationSystem, data: Trajectories) -> dict[str, float]:
    """-20 mV for membrane-voltage states (unit mV or V) whose held-out data cross it; else none."""
    out = {}
    for i, state in enumerate(data.states):
        level = {"mV": -20.0, "V": -0.02}.get(system.units.get(state, ""))
        if level is not None and any(len(spike_times(data.t, y, level)) for y in data.y[..., i]):
            out[state] = level
    return out


def ms_per_unit(time_unit: str) -> float:
    """Milliseconds in one `time_unit` ("ms", "s" or "us"; 1 for any other): spike windows are set in ms."""
    return {"ms": 1.0, "s": 1000.0, "us": 1e-3}.get(time_unit, 1.0)
