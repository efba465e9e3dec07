"""The known part for current-clamp data: a passive membrane estimated from the recording,
the spike rule read off the spikes, and a residual current left to learn."""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.optimize import least_squares
from scipy.signal import lfilter, savgol_filter

from .._errors import DataError
from ..data import Trajectories
from ..equations import EquationSystem, Parameter, SpikeRule
from ..validate import spike_times
from ._segments import spike_mask

MEMBRANE = "dV/dt = (-gL*(V - EL) + I)/C"
ADAPTING_MEMBRANE = "dV/dt = (-gL*(V - EL) - a_w*w + I)/C"


def estimate_spike_rule(data: Trajectories, threshold: float, *, state: str = "V",
                        reset: float | None = None, refractory: float | None = None) -> SpikeRule:
    """Reset and refractory period from the data's spikes: each spike's after-hyperpolarisation
    trough (the lowest voltage in the 10 ms after the crossing, before the next spike) gives the
    time the model holds (median crossing-to-trough time) and the value it holds (median trough)."""
    i = data.states.index(state)
    troughs, delays = [], []
    for y in data.y[..., i]:
        times = spike_times(data.t, y, threshold)
        # each spike and the next (the last: none); with no spike the lone inf is left over, hence not strict
        for s, following in zip(times, [*times[1:], np.inf], strict=False):
            window = (data.t > s) & (data.t < min(s + 10.0, following))
            if window.sum() > 2:
                # the last sample at the lowest value: a clamped model trace is flat during its hold
                masked = np.where(window, y, np.inf)[::-1]
                k = y.size - 1 - int(np.argmin(masked))
                troughs.append(y[k])
                delays.append(data.t[k] - s)
    if not troughs:
        raise DataError(
            f"no spikes cross the threshold {threshold:g} in the training sweeps; lower `threshold` (the voltage "
            "at which the model emits a spike and resets) or choose sweeps with spikes."
        )
    reset = float(np.median(troughs)) if reset is None else float(reset)
    refractory = float(np.median(delays)) if refractory is None else float(refractory)
    return SpikeRule(state, float(threshold), reset, refractory)


def estimate_passive(data: Trajectories, rule: SpikeRule, *, state: str = "V", current: str = "I",
                     margin: float = 20.0, adaptation: str | None = None) -> dict[str, float]:
    """C (pF), gL (nS) and EL (mV) of the passive membrane C dV/dt = -gL (V - EL) + I, from the
    samples more than `margin` ms away from any spike, below the threshold by 10 mV and no more
    than 10 mV above the resting level (the median of those quiet samples), where voltage-gated
    currents are weakest (Badel et al. 2008 fit the passive part the same way).

    Two steps. Least squares of I = C dV/dt + gL (V - EL) (`passive_fit`; derivatives from a
    1 ms cubic Savitzky-Golay filter) gives a start; then the membrane driven by the recorded
    current re-simulates each quiet stretch from its first sample, and C, gL, EL minimise the
    voltage error (output error, `refine_passive`). Why: the regression treats V as exact, and
    where the quiet samples barely leave rest, V's own fluctuations (noise the recorded current
    does not explain) pull gL towards 0 — 1.0 nS on the BluePyEfe B6 cell, whose steps the
    re-simulation puts at 2.9 nS. Times in ms, V in mV, I in pA.

    `adaptation`: the name of an adaptation-trace state in `data` (`add_adaptation`), fitted
    alongside as a current a_w * w (pA per unit of w), so that samples still adapted from
    earlier spikes do not bias C, gL and EL; a_w is returned too.
    """
    quiet = _quiet(data, rule, data.states.index(state), margin)
    start, _ = _least_squares(data, quiet, state, current, adaptation)
    return refine_passive(data, quiet, start, state=state, current=current, adaptation=adaptation)


def _quiet(data: Trajectories, rule: SpikeRule, i: int, margin: float) -> np.ndarray:
    """(sweeps, samples) mask of the quiet subthreshold samples `estimate_passive` fits."""
    rows = []
    for y in data.y[..., i]:
        mask = ~spike_mask(data.t, y, dataclasses.replace(rule, refractory=rule.refractory + margin))
        for s in spike_times(data.t, y, rule.threshold):
            mask &= ~((data.t > s - 5.0) & (data.t < s))
        rows.append(mask & (y < rule.threshold - 10.0))
    masks = np.array(rows)
    if masks.any():
        masks &= data.y[..., i] < np.median(data.y[..., i][masks]) + 10.0
    return masks


def passive_fit(data: Trajectories, rule: SpikeRule, *, state: str = "V", current: str = "I",
                margin: float = 20.0, adaptation: str | None = None) -> tuple[dict[str, float], float]:
    """The least-squares start of `estimate_passive` and the RMS error (pA) of that fit."""
    return _least_squares(data, _quiet(data, rule, data.states.index(state), margin), state, current, adaptation)


def _least_squares(data: Trajectories, masks: np.ndarray, state: str, current: str,
                   adaptation: str | None) -> tuple[dict[str, float], float]:
    """Least squares of I = C dV/dt + gL (V - EL) (+ a_w w) over the samples of `masks`."""
    i, j = data.states.index(state), data.inputs.index(current)
    w = data.y[..., data.states.index(adaptation)] if adaptation is not None else None
    window = max(5, int(round(1.0 / data.dt)) | 1)
    rows, targets = [], []
    for k, (y, u, mask) in enumerate(zip(data.y[..., i], data.u[..., j], masks, strict=True)):
        dv = savgol_filter(y, window, 3, deriv=1, delta=data.dt)
        columns = [dv[mask], y[mask], np.ones(mask.sum())] + ([] if w is None else [w[k][mask]])
        rows.append(np.stack(columns, axis=1))
        targets.append(u[mask])
    A, b = np.concatenate(rows), np.concatenate(targets)
    if len(b) < 100:
        raise DataError(f"only {len(b)} subthreshold samples away from spikes; the passive membrane needs more "
                        "(add sweeps with quiet periods, e.g. hyperpolarising steps).")
    _check_current_varies(data, masks, A, b, current)
    coef, *_ = np.linalg.lstsq(A, b, rcond=None)
    (C, gL, offset, *rest), rms = coef, float(np.sqrt(np.mean((A @ coef - b) ** 2)))
    _check_positive(C, gL)
    fitted = {"C": float(C), "gL": float(gL), "EL": float(-offset / gL)}
    return ({**fitted, "a_w": float(rest[0])} if rest else fitted), rms


def _check_current_varies(data: Trajectories, masks: np.ndarray, A: np.ndarray, b: np.ndarray, current: str) -> None:
    """Refuse quiet samples that all carry one current. C dV/dt = -gL (V - EL) + I with I fixed
    scales: (C, gL) and (2C, 2gL) fit alike, so only tau = C/gL and EL are determined (least squares
    returns C = gL = 0, which explains a zero current exactly). A cropped step protocol whose cell
    fires through every step, leaving quiet samples only at I = 0, is the usual case."""
    level = float(np.median(b))
    if np.ptp(b) > 1e-6 * (1.0 + np.abs(data.u).max()):
        return
    # what the quiet samples do fix: dV/dt = -(V - EL)/tau
    (slope, intercept), *_ = np.linalg.lstsq(A[:, 1:3], A[:, 0], rcond=None)
    fixed = f" (they fix tau = C/gL = {-1 / slope:.3g} ms and EL = {-intercept / slope:.3g} mV)" if slope < 0 else ""
    j = data.inputs.index(current)
    values, counts = np.unique(np.round(data.u[..., j], 1), return_counts=True)
    # levels held for at least 1 ms (not the edges of a step a decimation averaged)
    others = values[(counts * data.dt >= 1.0) & (np.abs(values - level) > 1e-6 * (1 + abs(level)))]
    seen = (f"; the other levels in these sweeps ({', '.join(f'{x:g}' for x in others[:6])} pA) have none: "
            "the cell fires through them, or they are within the margin of a spike" if others.size else "")
    raise DataError(
        f"every quiet subthreshold sample ({b.size} in {int(masks.any(axis=1).sum())} sweep(s)) carries the same "
        f"current {current} = {level:g} pA, so C and gL cannot be told apart{fixed}{seen}. The passive fit needs "
        "quiet samples at a second current level: include a step the cell does not fire on, e.g. a hyperpolarising "
        "step (widen [data] start/stop, or choose other sweeps)."
    )


def refine_passive(data: Trajectories, quiet: np.ndarray, start: dict[str, float], *, state: str = "V",
                   current: str = "I", adaptation: str | None = None, shortest: int = 20) -> dict[str, float]:
    """Output-error fit of the passive membrane from `start`: every run of at least `shortest`
    samples of `quiet` (sweeps x samples) is re-simulated from its first sample, driven by the
    recorded current (minus a_w w with `adaptation`), and the parameters minimise the voltage
    error. Exact for the linear membrane with the current averaged over each step."""
    i, j = data.states.index(state), data.inputs.index(current)
    runs = [(k, a, b) for k, mask in enumerate(quiet)
            for a, b in np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(int), [0]]))).reshape(-1, 2)
            if b - a >= shortest]
    if not runs:  # nothing to re-simulate: the least-squares values stand
        return start
    y = [data.y[k, a:b, i] for k, a, b in runs]
    u = [data.u[k, a:b, j] for k, a, b in runs]
    w = [data.y[k, a:b, data.states.index(adaptation)] for k, a, b in runs] if adaptation else []

    def error(p: np.ndarray) -> np.ndarray:
        C, gL, EL, a_w = np.exp(p[0]), np.exp(p[1]), p[2], (p[3] if adaptation else 0.0)
        decay = np.exp(-data.dt * gL / C)
        out = []
        for n, (v, drive) in enumerate(zip(y, u, strict=True)):
            target = EL + (drive - (a_w * w[n] if adaptation else 0.0)) / gL  # where V relaxes to
            mean = 0.5 * (target[1:] + target[:-1])
            sim = lfilter([1 - decay], [1, -decay], mean, zi=[decay * v[0]])[0]
            out.append(sim - v[1:])
        return np.concatenate(out)

    p0 = [np.log(start["C"]), np.log(start["gL"]), start["EL"]] + ([start["a_w"]] if adaptation else [])
    found = least_squares(error, p0, x_scale=[1.0, 1.0, 10.0] + ([10.0] if adaptation else []))
    C, gL = float(np.exp(found.x[0])), float(np.exp(found.x[1]))
    _check_positive(C, gL)
    fitted = {"C": C, "gL": gL, "EL": float(found.x[2])}
    return {**fitted, "a_w": float(found.x[3])} if adaptation else fitted


def _check_positive(C: float, gL: float) -> None:
    if not (C > 0 and gL > 0 and np.isfinite(C) and np.isfinite(gL)):
        raise DataError(
            f"the passive fit gave C = {C:.3g} pF and gL = {gL:.3g} nS, not both positive: the subthreshold data do "
            "not constrain the membrane (steps of current with quiet periods do)."
        )


def add_spike_clock(data: Trajectories, rule: SpikeRule, name: str = "s", before: float = 1000.0) -> Trajectories:
    """`data` with one more state: the time since the last spike (threshold crossing), `before`
    + the time since the start until the first one. The model's own clock obeys ds/dt = 1 and is
    set to 0 at each of its spikes, so a residual of (V, s) can learn after-spike currents
    (after-hyperpolarisation, recovery from inactivation) that a function of V alone cannot."""
    i = data.states.index(rule.state)
    clock = np.empty(data.y.shape[:2])
    for k, y in enumerate(data.y[..., i]):
        last = np.concatenate([[data.t[0] - before], spike_times(data.t, y, rule.threshold)])
        clock[k] = data.t - last[np.searchsorted(last, data.t, side="right") - 1]
    return Trajectories(data.t, np.concatenate([data.y, clock[..., None]], axis=-1), data.u,
                        (*data.states, name), data.inputs)


def membrane_system(passive: dict[str, float], rule: SpikeRule, features: tuple[str, ...] = ("V",),
                    adaptation: float | None = None) -> EquationSystem:
    """C dV/dt = -gL (V - EL) + I, plus a learned residual of `features`, spiking by `rule`.

    When `features` include "s", a state counts the time since the last spike (ds/dt = 1, set
    to 0 at a spike); give the data the same state with `add_spike_clock`. With `adaptation`
    (a time constant tau_w in ms), a state w obeys dw/dt = -w / tau_w and jumps by 1 at each
    spike, and pulls V down by a_w w / C with a_w from `passive` (`estimate_adaptation`); this is
    AdEx's spike-triggered adaptation. Give the data the same state with `add_adaptation`.
    """
    clock = "s" if "s" in features else None
    params = [Parameter("C", passive["C"], "pF", "membrane capacitance (estimated)"),
              Parameter("gL", passive["gL"], "nS", "leak conductance (estimated)"),
              Parameter("EL", passive["EL"], "mV", "leak reversal potential (estimated)")]
    equations, units = [MEMBRANE], {"V": "mV", "I": "pA"}
    adapting = ""
    # states in the order the data gain them: V, then w (add_adaptation), then s (add_spike_clock)
    if adaptation is not None:
        if "a_w" not in passive:
            raise DataError("`adaptation` needs the adaptation strength a_w in `passive`; get both from "
                            "estimate_adaptation(data, rule).")
        equations = [ADAPTING_MEMBRANE, "dw/dt = -w/tau_w"]
        params += [Parameter("a_w", passive["a_w"], "pA", "adaptation current per spike (estimated)"),
                   Parameter("tau_w", float(adaptation), "ms", "adaptation time constant (estimated)")]
        rule = dataclasses.replace(rule, add=(("w", 1.0),))
        adapting = (f"; spike-triggered adaptation a_w={passive['a_w']:.4g} pA per spike decaying with "
                f"tau_w={float(adaptation):.4g} ms, fitted with the passive membrane")
    if clock is not None:
        equations.append(f"d{clock}/dt = 1")
        units[clock] = "ms"
        rule = dataclasses.replace(rule, also=((clock, 0.0),))
    system = EquationSystem.from_text(equations, inputs=["I"], parameters=params, units=units,
                                      time_unit="ms", name="membrane")
    note = (f"passive membrane C={passive['C']:.4g} pF, gL={passive['gL']:.4g} nS, EL={passive['EL']:.4g} mV by "
            f"least squares on subthreshold samples{adapting}; spike at V >= {rule.threshold:g} mV, reset to "
            f"{rule.reset:.4g} mV for {rule.refractory:.3g} ms (from the after-hyperpolarisation troughs)")
    system = dataclasses.replace(system, spike=rule, provenance=(*system.provenance, note))
    return system.with_residual("V", list(features))
