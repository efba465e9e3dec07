"""Fast simulation of a fitted GIF-type model: exact between spikes, one spike at a time.

Between spikes every part of the model is linear in the current or decays (the membrane, the
spike-triggered currents and threshold jumps), and the voltage-following threshold is a low-pass
of max(0, V - knee), which depends on V but not back: so a stretch of samples is computed by a few
`lfilter` calls, and the next spike found in it, deterministic (V reaches the threshold) or
stochastic (escape noise: a spike in each sample with probability 1 - exp(-dt exp((V - theta) / DV))).
With `median`, the deterministic model is the escape noise's median instead: the rate
exp((V - theta) / DV) (per ms) integrated since the last spike, H, fires at ln 2, where half of the
stochastic runs from that state would have spiked. A 10 s stimulus, 100 stochastic runs, takes
about a second, where the general RK4 loop of
`discover.validate.spike_trains` takes minutes; `tests/cell/test_gif.py` checks both give the same
spike times on the same model.

An A-type gate (`_gate.Gate`) makes the membrane nonlinear; such a model is stepped one sample at
a time instead (exponential Euler), every run and sweep at once as rows of arrays (`simulate_rows`),
so the Python loop is paid once per sample and not once per run.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from ._gif import MEDIAN, CellFit

CHUNK = 2000
"""Samples computed at a time while looking for the next spike."""


def simulate_gif(fit: CellFit, i: np.ndarray, dt: float, *, v0: float | None = None, offset: float = 0.0,
                 stochastic: bool = False, runs: int = 1, seed: int = 0,
                 median: bool = False) -> tuple[list[np.ndarray], np.ndarray | None]:
    """Spike times (ms, at the end of the sample they happened in) of `runs` runs driven by the
    current `i` (pA per sample, held over each sample), and for `runs == 1` the voltage trace (the
    reset value through each refractory period). `offset` moves the threshold (mV), as the
    deterministic placement of `gif_system` does; `median` fires at the escape noise's median."""
    start = fit.membrane.EL if v0 is None else v0
    trains, traces = simulate_rows(fit, np.asarray(i, dtype=float)[None], dt, np.full(runs, float(start)),
                                   np.full(runs, float(offset)), which=np.zeros(runs, dtype=int),
                                   stochastic=stochastic, seed=seed, keep=runs == 1, median=median)
    return trains, traces[0] if traces is not None else None


def _run(fit: CellFit, i: np.ndarray, dt: float, v0: float, offset: float, stochastic: bool,
         rng: np.random.Generator, keep: bool, median: bool = False):
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
    k, v, hazard = 0, float(v0), 0.0  # the escape rate integrated since the last spike (`median`)
    if trace is not None:
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
        if median:  # the rate by the trapezoid rule over each sample, as RK4 of dH/dt = rate nearly has it
            rate = np.exp(np.minimum((v_seg - theta) / th.DV, 50.0))
            h_seg = hazard + np.cumsum(0.5 * dt * (rate[:-1] + rate[1:]))
            fired = np.flatnonzero(h_seg >= MEDIAN)
        elif stochastic:
            chance = -np.expm1(-dt * np.exp(np.minimum(gap / th.DV, 50.0)))
            fired = np.flatnonzero(rng.random(gap.size) < chance)
        else:
            fired = np.flatnonzero(gap >= 0)
        if fired.size == 0:
            if trace is not None:
                trace[k + 1:stop] = v_seg[1:]
            k, v, theta_v = stop - 1, v_seg[-1], tv_seg[-1]
            w, jumps = w * decay_w[-1], jumps * decay_j[-1]
            hazard = float(h_seg[-1]) if median and steps.size > 1 else hazard
            continue
        s = int(fired[0]) + 1  # the spike's sample, relative to k
        spikes.append((k + s) * dt)
        end = min(n - 1, k + s + hold)
        if trace is not None:
            trace[k + 1:k + s] = v_seg[1:s]
            trace[k + s:end + 1] = fit.reset
        # through the hold V sits at the reset: the traces decay, theta_V relaxes towards max(0, reset - knee)
        held = end - (k + s)
        w = (w * decay_w[s] + 1.0) * np.exp(-held * dt / w_taus)  # empty arrays where there are no kernels
        jumps = (jumps * decay_j[s] + 1.0) * np.exp(-held * dt / j_taus)
        target = max(0.0, fit.reset - knee)
        theta_v = target + (tv_seg[s] - target) * beta_v**held
        # H restarts at the spike; the rate at the reset, far below the jumped threshold, adds nothing
        k, v, hazard = end, fit.reset, 0.0
    return np.array(spikes), trace


def simulate_rows(fit: CellFit, currents: np.ndarray, dt: float, v0: np.ndarray, offsets: np.ndarray, *,
                  which: np.ndarray | None = None, stochastic: bool = False, seed: int = 0, keep: bool = False,
                  median: bool | np.ndarray = False) -> tuple[list[np.ndarray], np.ndarray | None]:
    """Spike times of one run per entry of `v0`, each from its own `v0` and with its own threshold
    offset, driven by the row `which[r]` of `currents` (sweeps, samples; `which` None: row r), and
    with `keep` the voltage traces (runs, samples). Many runs of one current share its row rather than
    copies of it (100 runs of 10 sweeps of 10 s would be 800 MB). Runs are stepped together where the
    model has a gate; otherwise each is the exact run `simulate_gif` makes. `median` (one flag, or
    one per run) reads the escape noise's median (no offset applies then, and it is deterministic):
    both readings of a gated model as rows of one pass cost what one does."""
    medians = np.broadcast_to(np.asarray(median, dtype=bool), np.shape(v0))
    if medians.any() and stochastic:
        raise ValueError("`median` is the deterministic reading of the escape noise; pass stochastic=False with it.")
    currents = np.atleast_2d(np.asarray(currents, dtype=float))
    v0, offsets = np.asarray(v0, dtype=float), np.asarray(offsets, dtype=float)
    which = np.arange(currents.shape[0]) if which is None else np.asarray(which, dtype=int)
    rng = np.random.default_rng(seed)
    if fit.membrane.gate is not None:
        return _step_rows(fit, currents, which, dt, v0, offsets, stochastic, rng, keep, medians)
    runs = [_run(fit, currents[r], dt, v, o, stochastic, rng, keep, bool(m))
            for r, v, o, m in zip(which, v0, offsets, medians, strict=True)]
    return [times for times, _ in runs], np.stack([trace for _, trace in runs]) if keep else None


def _step_rows(fit: CellFit, currents: np.ndarray, which: np.ndarray, dt: float, v0: np.ndarray, offsets: np.ndarray,
               stochastic: bool, rng: np.random.Generator, keep: bool,
               medians: np.ndarray) -> tuple[list[np.ndarray], np.ndarray | None]:
    """Every row one sample at a time: the membrane's linear part exactly over the step (as `_run`
    has it), the gate's current held at its value at the step's start, h by exponential Euler."""
    m, th, gate = fit.membrane, fit.threshold, fit.membrane.gate
    assert gate is not None
    rows, n = v0.size, currents.shape[1]
    alpha, a_h = np.exp(-dt * m.gL / m.C), np.exp(-dt / gate.tau)
    w_amp, j_amp = np.array([a for _, a in m.currents]), np.array([b for _, b in th.jumps])
    decay_w = np.exp(-dt / np.array([t for t, _ in m.currents]))
    decay_j = np.exp(-dt / np.array([t for t, _ in th.jumps]))
    tau_v, knee, slope = th.voltage if th.voltage is not None else (1.0, 0.0, 0.0)
    beta_v = np.exp(-dt / tau_v)
    steps = int(round(fit.refractory / dt))
    drive = np.ascontiguousarray((0.5 * (currents[:, :-1] + currents[:, 1:]) + m.gL * m.EL).T)  # (samples, sweeps)
    level = th.VT + offsets
    v, h = v0.copy(), gate.h_inf(v0)
    w, jumps = np.zeros((rows, w_amp.size)), np.zeros((rows, j_amp.size))
    theta_v, hold, hazard = np.zeros(rows), np.zeros(rows, dtype=int), np.zeros(rows)
    rate = np.exp(np.minimum((v - level) / th.DV, 50.0))  # at the sample's start, for the trapezoid
    traces = np.empty((rows, n)) if keep else None
    if traces is not None:
        traces[:, 0] = v
    spikes: list[list[float]] = [[] for _ in range(rows)]
    for k in range(n - 1):
        inward = drive[k, which] - w @ w_amp - gate.current(v, h)
        h = a_h * h + (1.0 - a_h) * gate.h_inf(v)
        held = hold > 0
        v = np.where(held, fit.reset, alpha * v + (1.0 - alpha) / m.gL * inward)
        hold -= held
        w *= decay_w
        jumps *= decay_j
        theta_v = beta_v * theta_v + (1.0 - beta_v) * np.maximum(0.0, v - knee)
        gap = v - (level + jumps @ j_amp + slope * theta_v)
        if medians.any():  # rows read at the median fire on H, the others where V crosses
            now = np.exp(np.minimum(gap / th.DV, 50.0))
            hazard, rate = hazard + 0.5 * dt * (rate + now), now
            fired = ~held & np.where(medians, hazard >= MEDIAN, gap >= 0)
        elif stochastic:
            fired = ~held & (rng.random(rows) < -np.expm1(-dt * np.exp(np.minimum(gap / th.DV, 50.0))))
        else:
            fired = ~held & (gap >= 0)
        if fired.any():
            for r in np.flatnonzero(fired):
                spikes[r].append((k + 1) * dt)
            v[fired], hold[fired] = fit.reset, steps
            w[fired] += 1.0
            jumps[fired] += 1.0
            hazard[fired], rate[fired] = 0.0, 0.0  # the rate at the reset, below the jumped threshold
        if traces is not None:
            traces[:, k + 1] = v
    return [np.array(s) for s in spikes], traces
