"""Fast simulation of a fitted GIF-type model: exact between spikes, one spike at a time.

Between spikes every part of the model is linear in the current or decays (the membrane, the
spike-triggered currents and threshold jumps), and the voltage-following threshold is a low-pass
of max(0, V - knee), which depends on V but not back: so a stretch of samples is computed by a few
`lfilter` calls, and the next spike found in it, deterministic (V reaches the threshold) or
stochastic (escape noise: a spike in each sample with probability 1 - exp(-dt exp((V - theta) / DV))).
A 10 s stimulus, 100 stochastic runs, takes about a second, where the general RK4 loop of
`discover.validate.spike_trains` takes minutes; `tests/cell/test_gif.py` checks both give the same
spike times on the same model.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from ._gif import CellFit

CHUNK = 2000
"""Samples computed at a time while looking for the next spike."""


def simulate_gif(fit: CellFit, i: np.ndarray, dt: float, *, v0: float | None = None, offset: float = 0.0,
                 stochastic: bool = False, runs: int = 1, seed: int = 0) -> tuple[list[np.ndarray], np.ndarray | None]:
    """Spike times (ms, at the end of the sample they happened in) of `runs` runs driven by the
    current `i` (pA per sample, held over each sample), and for `runs == 1` the voltage trace (the
    reset value through each refractory period). `offset` moves the threshold (mV), as the
    deterministic placement of `gif_system` does."""
    rng = np.random.default_rng(seed)
    trains, trace = [], None
    for _ in range(runs):
        times, v = _run(fit, np.asarray(i, dtype=float), dt, fit.membrane.EL if v0 is None else v0, offset,
                        stochastic, rng, keep=runs == 1)
        trains.append(times)
        trace = v
    return trains, trace


def _run(fit: CellFit, i: np.ndarray, dt: float, v0: float, offset: float, stochastic: bool,
         rng: np.random.Generator, keep: bool):
    m, th = fit.membrane, fit.threshold
    n = i.size
    alpha = np.exp(-dt * m.gL / m.C)
    w_taus = np.array([t for t, _ in m.currents])
    w_amp = np.array([a for _, a in m.currents])
    j_taus = np.array([t for t, _ in th.jumps])
    j_amp = np.array([b for _, b in th.jumps])
    w, jumps, theta_v = np.zeros(w_taus.size), np.zeros(j_taus.size), 0.0
    tau_v, knee, slope = th.voltage if th.voltage is not None else (1.0, 0.0, 0.0)
    beta_v = np.exp(-dt / tau_v)
    hold = int(round(fit.refractory / dt))
    trace = np.empty(n) if keep else None
    spikes: list[float] = []
    k, v = 0, float(v0)
    if keep:
        trace[0] = v
    # each kernel's decay over 0..CHUNK-1 samples, once per run: every chunk starts at a spike or a
    # chunk's end and reads the first stop - k rows
    decay_w_all = np.exp(-np.outer(np.arange(CHUNK), dt / w_taus))
    decay_j_all = np.exp(-np.outer(np.arange(CHUNK), dt / j_taus))
    while k < n - 1:
        stop = min(n, k + CHUNK)
        steps = np.arange(stop - k)
        decay_w, decay_j = decay_w_all[:steps.size], decay_j_all[:steps.size]
        drive = i[k:stop] - decay_w @ (w_amp * w) + m.gL * m.EL
        # v[s] for s = k..stop-1, v[k] given: v[s+1] = alpha v[s] + (1 - alpha)/gL drive over the step,
        # the mean of its ends (the current is linear between samples, as integrate_spiking has it)
        v_seg = np.empty(steps.size)
        v_seg[0] = v
        if steps.size > 1:
            v_seg[1:], _ = lfilter([(1 - alpha) / m.gL], [1.0, -alpha], 0.5 * (drive[:-1] + drive[1:]),
                                   zi=[alpha * v])
        g = np.maximum(0.0, v_seg - knee)
        tv_seg = np.empty(steps.size)
        tv_seg[0] = theta_v
        if steps.size > 1:
            tv_seg[1:], _ = lfilter([1 - beta_v], [1.0, -beta_v], 0.5 * (g[:-1] + g[1:]), zi=[beta_v * theta_v])
        theta = th.VT + offset + decay_j @ (j_amp * jumps) + slope * tv_seg
        gap = v_seg[1:] - theta[1:]  # a spike is decided at the end of each sample, as integrate_spiking does
        if stochastic:
            chance = -np.expm1(-dt * np.exp(np.minimum(gap / th.DV, 50.0)))
            fired = np.flatnonzero(rng.random(gap.size) < chance)
        else:
            fired = np.flatnonzero(gap >= 0)
        if fired.size == 0:
            if keep:
                trace[k + 1:stop] = v_seg[1:]
            k, v, theta_v = stop - 1, v_seg[-1], tv_seg[-1]
            w, jumps = w * decay_w[-1], jumps * decay_j[-1]
            continue
        s = int(fired[0]) + 1  # the spike's sample, relative to k
        spikes.append((k + s) * dt)
        end = min(n - 1, k + s + hold)
        if keep:
            trace[k + 1:k + s] = v_seg[1:s]
            trace[k + s:end + 1] = fit.reset
        # through the hold V sits at the reset: the traces decay, theta_V relaxes towards max(0, reset - knee)
        held = end - (k + s)
        w = (w * decay_w[s] + 1.0) * np.exp(-held * dt / w_taus)  # empty arrays where there are no kernels
        jumps = (jumps * decay_j[s] + 1.0) * np.exp(-held * dt / j_taus)
        target = max(0.0, fit.reset - knee)
        theta_v = target + (tv_seg[s] - target) * beta_v**held
        k, v = end, fit.reset
    return np.array(spikes), trace
