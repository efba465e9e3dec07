"""The peer of the cell benchmark: a plain GIF fitted the standard way (Pozzorini et al. 2015).

Fixed form, nothing selected: C dV/dt = -gL (V - EL) + I - eta * S (the spike-triggered current
eta on rectangular basis functions spaced logarithmically over 1 s), escape rate
lambda = (1/ms) exp((V - VT - gamma * S) / DV) (gamma on its own rectangular basis), reset to Vr
for a fixed refractory period. Subthreshold parameters by least squares of dV/dt away from spikes
(5 ms before each to the end of its refractory period), the threshold by maximising the
likelihood of the recorded spike train with the subthreshold model's voltage, spikes forced at
the recorded times; predictions are stochastic. This mirrors GIFFittingToolbox's `GIF.fit` (whose
own code is Python 2 and does not run here); the basis follows its defaults (eta bins from 0.5 ms,
gamma bins from 2 ms, growing to 500 ms, 1 s long). Used only by benchmarks/cells.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter

from discover.cell._regression import least_squares, poisson_glm


def log_bins(first: float, largest: float, length: float, growth: float = 1.5) -> np.ndarray:
    """Edges (ms) of rectangular basis functions: width `first`, growing by `growth`, at most `largest`."""
    edges, width = [0.0], first
    while edges[-1] < length:
        edges.append(min(edges[-1] + width, length))
        width = min(width * growth, largest)
    return np.array(edges)


def basis(onsets: np.ndarray, n: int, dt: float, edges: np.ndarray) -> np.ndarray:
    """(n, bins): how many spikes fell in each window [t - edges[k+1], t - edges[k]) before t
    (spikes strictly before t)."""
    train = np.zeros(n + 1)
    np.add.at(train, np.asarray(onsets, dtype=int) + 1, 1.0)
    count = np.concatenate([[0.0], np.cumsum(train[:n])])  # count[k] = spikes at samples < k
    index = np.arange(n)
    out = np.empty((n, len(edges) - 1))
    for j, (a, b) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
        hi = np.clip(index - int(round(a / dt)) + 1, 0, n)
        lo = np.clip(index - int(round(b / dt)) + 1, 0, n)
        out[:, j] = count[hi] - count[lo]
    return out


@dataclass(frozen=True)
class PlainGIF:
    C: float
    gL: float
    EL: float
    eta: np.ndarray
    eta_edges: np.ndarray
    VT: float
    DV: float
    gamma: np.ndarray
    gamma_edges: np.ndarray
    reset: float
    refractory: float


def fit(vs, currents, onsets_per_sweep, dt: float, reset: float, refractory: float,
        settle: float = 1000.0) -> PlainGIF:
    """The standard fit on one or more sweeps (lists of voltage, current and onset indices)."""
    eta_edges, gamma_edges = log_bins(0.5, 500.0, 1000.0), log_bins(2.0, 500.0, 1000.0)
    rows, targets = [], []
    for v, i, onsets in zip(vs, currents, onsets_per_sweep, strict=True):
        keep = _far(v.size, onsets, dt, 5.0, refractory, settle)
        rows.append(np.column_stack([v, i, np.ones(v.size), basis(onsets, v.size, dt, eta_edges)])[keep])
        targets.append(np.gradient(v, dt)[keep])
    coef = least_squares(np.concatenate(rows), np.concatenate(targets))
    C = 1 / coef[1]
    gL = -coef[0] * C
    EL = coef[2] * C / gL
    eta = -coef[3:] * C
    rows, spikes = [], []
    for v, i, onsets in zip(vs, currents, onsets_per_sweep, strict=True):
        n = v.size
        model = forced(C, gL, EL, basis(onsets, n, dt, eta_edges) @ eta, i, onsets, dt, v[0], reset, refractory)
        free = _far(n, onsets, dt, -dt, refractory, settle)
        y = np.zeros(n)
        y[onsets] = 1.0
        rows.append(np.column_stack([model, np.ones(n), basis(onsets, n, dt, gamma_edges)])[free])
        spikes.append(y[free])
    beta = poisson_glm(np.concatenate(rows), np.concatenate(spikes))
    DV = 1 / beta[0]
    return PlainGIF(C, gL, EL, eta, eta_edges, (np.log(dt) - beta[1]) * DV, DV, -beta[2:] * DV, gamma_edges,
                    reset, refractory)


def _far(n: int, onsets, dt: float, before: float, after: float, settle: float) -> np.ndarray:
    """Samples more than `before` ms before and `after` ms after every onset, past the first `settle` ms
    (at most a tenth of the sweep). `before` = -dt keeps each onset sample itself."""
    keep = np.ones(n, bool)
    for s in onsets:
        keep[max(0, s - int(round(before / dt))):s + int(round(after / dt)) + 1] = False
        if before < 0:
            keep[s] = True
    keep[:int(min(settle, 0.1 * n * dt) / dt)] = False
    return keep


def forced(C, gL, EL, eta_current, i, onsets, dt, v0, reset, refractory) -> np.ndarray:
    """Forward Euler of the subthreshold model with spikes forced at `onsets` (held at `reset`)."""
    n = i.size
    held = np.zeros(n, bool)
    for s in onsets:
        held[s + 1:s + 1 + int(round(refractory / dt))] = True
    drive = dt / C * (gL * EL + i - eta_current)
    decay = 1 - dt * gL / C
    out = np.empty(n)
    out[0] = v0
    edges = [1, *(np.flatnonzero(np.diff(held[1:].astype(int))) + 2), n]
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        if held[a]:
            out[a:b] = reset
        else:
            out[a:b], _ = lfilter([1.0], [1.0, -decay], drive[a - 1:b - 1], zi=[decay * out[a - 1]])
    return out


def simulate(model: PlainGIF, i: np.ndarray, dt: float, runs: int, seed: int = 0) -> list[np.ndarray]:
    """Spike times (ms) of `runs` stochastic runs driven by `i` (pA), from rest."""
    rng = np.random.default_rng(seed)
    n = i.size
    steps_eta = np.round(model.eta_edges / dt).astype(int)
    steps_gamma = np.round(model.gamma_edges / dt).astype(int)
    kernel_eta = np.repeat(model.eta, np.diff(steps_eta))  # per-sample kernels, lag 1 sample on
    kernel_gamma = np.repeat(model.gamma, np.diff(steps_gamma))
    eta_sum = np.zeros((runs, n + kernel_eta.size + 1))
    gamma_sum = np.zeros((runs, n + kernel_gamma.size + 1))
    v = np.full(runs, model.EL)
    hold = np.zeros(runs, dtype=int)
    spikes: list[list[float]] = [[] for _ in range(runs)]
    ref = int(round(model.refractory / dt))
    for k in range(n):
        theta = model.VT + gamma_sum[:, k]
        free = hold == 0
        rate = dt * np.exp(np.clip((v - theta) / model.DV, -50, 50))
        fire = free & (rng.random(runs) < 1 - np.exp(-rate))
        for r in np.flatnonzero(fire):
            spikes[r].append(k * dt)
            eta_sum[r, k + 1:k + 1 + kernel_eta.size] += kernel_eta
            gamma_sum[r, k + 1:k + 1 + kernel_gamma.size] += kernel_gamma
            hold[r] = ref
        step = v + dt / model.C * (-model.gL * (v - model.EL) + i[k] - eta_sum[:, k])
        held = hold > 0
        v = np.where(held, model.reset, step)
        hold = np.maximum(hold - held, 0)
    return [np.array(s) for s in spikes]
