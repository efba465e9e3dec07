"""Spikes read off a current-clamp recording the way an electrophysiologist reads them.

Onset: the first sample where dV/dt crosses a slope (mV/ms), kept only when the voltage then
peaks above `peak_level` and at least `min_rise` above the onset voltage within `confirm` ms,
and once per spike (a `dead_time` after a kept onset ignores further crossings). The slope,
when not given, comes from the spikes: 20 % of their median peak dV/dt, floored at 10 mV/ms.

Why that rule (measured on the shared cells, dV/dt by central differences):
- 10 mV/ms is above the fastest subthreshold rise of every shared cell (99.99th percentile
  1.1-7.2 mV/ms, at most 8.7 mV/ms on the BluePyEfe B6 cell at 4 kHz; dV/dt noise s.d. 0.1-0.9
  mV/ms), so noise and synaptic-like fluctuations never start a spike;
- 20 % of the median peak dV/dt stays below the peak dV/dt of 95 % of the spikes of every cell
  (the slowest 5 % reach 0.26-0.73 of the median: 5-HT raphe 0.26, B8 0.37, GABA raphe 0.38),
  so the slope does not drop the slow spikes of a cell, while on a cell with fast spikes the
  onset moves off the noisy foot (FSI: 26 mV/ms, threshold -33 mV instead of -35 at 10);
- the thresholds move by 1-4 mV between 10 and 20 mV/ms (FSI 1, GABA raphe 2, B8 4); IPFX
  (Allen Institute) detects at 20 mV/ms and puts the threshold at 5 % of the mean peak
  upstroke, GIF fitting (Pozzorini et al. 2015; the GIF-K code of the raphe cells) at 15 mV/ms.
The peak confirmation rejects dV/dt crossings that are not spikes: the instantaneous jump of
an uncompensated electrode at a current step, and, with `min_rise`, the fluctuations of a cell
in depolarisation block (the 5-HT raphe cell sits near 0 mV for up to 250 ms under 250-330 pA,
its dV/dt at 1-5 mV/ms: no onset there, where a 0 mV threshold counts 3-8 'spikes' a repeat).

What it gives (slope from the data; raphe cells as recorded / after `fit_electrode`):
  cell (rate)          spikes  slope  threshold  reset   refractory
  FSI (20 kHz)            948     26      -33.1  -49.7   1.85 ms
  B6 / B8 (4 kHz)   315 / 282 14 / 10 -37.7 / -40.5  -43.4 / -43.6  4.0 / 4.75 ms
  GABA raphe (10 kHz)     309     18  -26.9 / -30.6  -46.5 / -50.6  4.8 ms
  5-HT raphe (10 kHz)     381     12  -21.0 / -22.9  -33.1 / -35.2  8.0 ms
The raphe refractory periods are 3.5 and 6.5 ms counted from the spike peak. On the library
AdEx (V_T -50.4 mV, Delta_T 2 mV) at 10 kHz, onsets at 10 mV/ms lie within 1.5 mV of where the
model's own dV/dt reaches 10 mV/ms, about Delta_T ln(k C / (g_L Delta_T)) = 7.7 mV above V_T:
the onset threshold of an exponential model is not its V_T. Its cut-off spike rises in 1-2
samples, so a slope chosen from its data reads the cut, and the report says so.

From the onsets: the average spike shape, the threshold at initiation (median V at onset),
and the reset and refractory period of an integrate-and-fire description: the refractory
period ends where the repolarisation has slowed to 20 % of its fastest slope after the peak,
and the reset is the average spike there. Every estimate at a search bound or resolved by
fewer than 3 samples comes with a warning (`SpikeAnalysis.warnings`) that a report can show.
Voltages in mV and times in ms (converted from the units given).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .._errors import DataError
from ..recordings import conversion

SLOPE_FLOOR = 10.0  # mV/ms
SLOPE_FRACTION = 0.2  # of the spikes' median peak dV/dt
PEAK_LEVEL = -10.0  # mV
MIN_RISE = 10.0  # mV from onset to peak
CONFIRM = 2.0  # ms from onset to peak
DEAD_TIME = 2.0  # ms
RECOVERY = 0.2  # of the fastest repolarisation slope
MIN_SAMPLES = 3
FEW_SPIKES = 10


@dataclass(frozen=True)
class SpikeShape:
    """The average spike: `support` (ms from onset), `mean` (mV) over `count` spikes."""

    support: np.ndarray
    mean: np.ndarray
    count: int


@dataclass(frozen=True)
class SpikeAnalysis:
    """Spikes of a recording and what an integrate-and-fire description takes from them.

    - `onsets`: per sweep, the sample index of each spike onset; `times` gives them in ms.
    - `dt`: ms. `slope`: the dV/dt criterion used (mV/ms), `slope_source` "given" or "data".
    - `peak_slope`: the spikes' median peak dV/dt (mV/ms).
    - `onset_voltages`: V at every onset (mV), all sweeps; `threshold`: their median,
      `threshold_spread`: their interquartile range.
    - `shape`: the average spike; `peak`: its maximum (mV); `rise`: onset to peak (ms).
    - `reset` (mV) and `refractory` (ms from onset): where the repolarisation has slowed to
      `RECOVERY` of its fastest slope.
    - `warnings`: sentences for the report on estimates at a bound or below 3 samples.
    """

    onsets: tuple[np.ndarray, ...]
    dt: float
    slope: float
    slope_source: str
    peak_slope: float
    onset_voltages: np.ndarray
    threshold: float
    threshold_spread: float
    shape: SpikeShape
    peak: float
    rise: float
    reset: float
    refractory: float
    warnings: tuple[str, ...]

    @property
    def count(self) -> int:
        return int(sum(len(o) for o in self.onsets))

    @property
    def times(self) -> tuple[np.ndarray, ...]:
        """Onset times per sweep, ms from each sweep's first sample."""
        return tuple(o * self.dt for o in self.onsets)

    def as_dict(self) -> dict[str, float | int | str | list[str]]:
        return {"spikes": self.count, "slope_mV_per_ms": self.slope, "slope_source": self.slope_source,
                "peak_slope_mV_per_ms": self.peak_slope, "threshold_mV": self.threshold,
                "threshold_spread_mV": self.threshold_spread, "peak_mV": self.peak, "rise_ms": self.rise,
                "reset_mV": self.reset, "refractory_ms": self.refractory, "shape_spikes": self.shape.count,
                "warnings": list(self.warnings)}


def as_sweeps(v, dt: float, voltage_unit: str = "mV", time_unit: str = "ms") -> tuple[np.ndarray, float]:
    """`v` as (sweeps, samples) in mV and `dt` in ms, with the checks every function here needs."""
    if isinstance(dt, bool) or not isinstance(dt, (int, float, np.floating)) or not 0 < dt < np.inf:
        raise DataError(f"sampling step `dt` must be a positive number (in `time_unit`), got {dt!r}.")
    dt = float(dt) * conversion(time_unit, "ms", "`time_unit`")
    v = np.asarray(v, dtype=float) * conversion(voltage_unit, "mV", "`voltage_unit`")
    v = v[None] if v.ndim == 1 else v
    if v.ndim != 2 or v.shape[1] < 3:
        raise DataError(f"membrane potential must be 1-D or (sweeps, samples), got shape {np.shape(v)}.")
    if not np.isfinite(v).any():
        raise DataError("the membrane potential holds no finite sample.")
    if dt < 1e-3:
        raise DataError(f"`dt` = {dt:g} ms (a {1 / dt:g} kHz recording) looks like a step in seconds given as ms; "
                        "pass time_unit='s'.")
    if dt > 0.5:
        raise DataError(f"`dt` = {dt:g} ms: a spike lasts about 1 ms, so detecting it by dV/dt needs samples at "
                        "0.5 ms or finer (2 kHz); use the recording at its full sampling rate.")
    if np.nanmax(np.abs(v)) < 1.0:
        raise DataError(f"the membrane potential never leaves ±1 mV (largest |V| {np.nanmax(np.abs(v)):.3g} mV): "
                        "it looks like volts given as mV; pass voltage_unit='V'.")
    return v, dt


def spike_onsets(v: np.ndarray, dt: float, slope: float, *, peak_level: float = PEAK_LEVEL,
                 min_rise: float = MIN_RISE, confirm: float = CONFIRM, dead_time: float = DEAD_TIME) -> np.ndarray:
    """Onset sample indices of the spikes of one sweep `v` (mV, step `dt` ms): see the module."""
    v = np.asarray(v, dtype=float)
    d = np.gradient(v, dt)
    up = np.flatnonzero((d[:-1] < slope) & (d[1:] >= slope)) + 1  # NaN compares False: no onset there
    if d.size and d[0] >= slope:
        up = np.concatenate([[0], up])
    w = max(1, int(round(confirm / dt)))
    kept, last = [], -np.inf
    for i in up:
        if i - last < dead_time / dt:
            continue
        window = v[i:i + w + 1]
        top = np.max(window) if np.isfinite(window).all() else -np.inf
        if top > peak_level and top - v[i] >= min_rise:  # confirmed first: a rejected crossing starts no dead time
            kept.append(i)
            last = i
    return np.array(kept, dtype=int)


def _peak_slopes(v: np.ndarray, dt: float, onsets: np.ndarray, confirm: float) -> np.ndarray:
    """Largest dV/dt between each onset and its peak (mV/ms)."""
    d = np.gradient(v, dt)
    w = max(1, int(round(confirm / dt)))
    return np.array([np.max(d[i:i + int(np.argmax(v[i:i + w + 1])) + 1]) for i in onsets])


def choose_slope(sweeps: np.ndarray, dt: float, *, fraction: float = SLOPE_FRACTION, floor: float = SLOPE_FLOOR,
                 **detection) -> tuple[float, float]:
    """The onset slope from the data (mV/ms) and the spikes' median peak dV/dt it came from:
    spikes found at `floor` first, then `fraction` of their median peak dV/dt, not below `floor`.
    Without spikes: `floor` and NaN. `sweeps` in mV, `dt` in ms."""
    confirm = detection.get("confirm", CONFIRM)
    found = [_peak_slopes(v, dt, spike_onsets(v, dt, floor, **detection), confirm) for v in sweeps]
    peaks = np.concatenate(found) if found else np.array([])
    if peaks.size == 0:
        return float(floor), float("nan")
    median = float(np.median(peaks))
    return max(float(floor), fraction * median), median


def detect_spikes(v: np.ndarray, dt: float, slope: float | None = None, *, voltage_unit: str = "mV",
                  time_unit: str = "ms", **detection: float) -> tuple[np.ndarray, ...]:
    """Onset sample indices per sweep; `slope` (mV/ms) from the data (`choose_slope`) when None."""
    sweeps, dt = as_sweeps(v, dt, voltage_unit, time_unit)
    slope = choose_slope(sweeps, dt, **detection)[0] if slope is None else _check_slope(slope)
    return tuple(spike_onsets(s, dt, slope, **detection) for s in sweeps)


def _check_slope(slope) -> float:
    if isinstance(slope, bool) or not isinstance(slope, (int, float, np.floating)) or not 0 < slope < np.inf:
        raise DataError(f"onset `slope` must be a positive dV/dt in mV/ms, got {slope!r}; e.g. 10.0, or None to "
                        "choose it from the spikes.")
    return float(slope)


def spike_shape(sweeps: np.ndarray, onsets, dt: float, before: float = 5.0, after: float = 20.0) -> SpikeShape:
    """The mean of the voltage cut out from `before` ms before to `after` ms after each onset;
    spikes too close to a sweep's ends (or to NaN padding) are left out. `sweeps` in mV, `dt` in ms."""
    nb, na = int(round(before / dt)), int(round(after / dt))
    cuts = [s[i - nb:i + na + 1] for s, idx in zip(sweeps, onsets, strict=True) for i in idx
            if i - nb >= 0 and i + na < s.size and np.isfinite(s[i - nb:i + na + 1]).all()]
    support = np.arange(-nb, na + 1) * dt
    mean = np.mean(cuts, axis=0) if cuts else np.full(support.size, np.nan)
    return SpikeShape(support, mean, len(cuts))


def reset_and_refractory(shape: SpikeShape, dt: float, *, confirm: float = CONFIRM,
                         recovery: float = RECOVERY) -> tuple[int, int, bool]:
    """(peak index, end index, at bound) on `shape`: the peak within `confirm` ms of the onset,
    the fastest repolarisation after it, and the first sample after that whose slope is back
    to `recovery` of the fastest; the last sample (at the search bound) when none is."""
    zero = int(np.argmin(np.abs(shape.support)))
    w = max(1, int(round(confirm / dt)))
    peak = zero + int(np.argmax(shape.mean[zero:zero + w + 1]))
    d = np.gradient(shape.mean, dt)
    fastest = peak + int(np.argmin(d[peak:]))
    slowed = np.flatnonzero(d[fastest:] >= recovery * d[fastest])
    if d[fastest] >= 0 or slowed.size == 0:
        return peak, shape.mean.size - 1, True
    return peak, fastest + int(slowed[0]), False


def analyse_spikes(v: np.ndarray, dt: float, slope: float | None = None, *, voltage_unit: str = "mV",
                   time_unit: str = "ms", peak_level: float = PEAK_LEVEL, min_rise: float = MIN_RISE,
                   confirm: float = CONFIRM, dead_time: float = DEAD_TIME, before: float = 5.0, after: float = 20.0,
                   recovery: float = RECOVERY) -> SpikeAnalysis:
    """Detect the spikes of `v` (one sweep or (sweeps, samples)) and read threshold, shape,
    reset and refractory period off them (see the module). `slope` in mV/ms, None to choose it
    from the data; `after` (ms) is the search bound of the refractory period."""
    sweeps, dt = as_sweeps(v, dt, voltage_unit, time_unit)
    detection = {"peak_level": peak_level, "min_rise": min_rise, "confirm": confirm, "dead_time": dead_time}
    if slope is None:
        slope, _ = choose_slope(sweeps, dt, **detection)
        source = "data"
    else:
        slope, source = _check_slope(slope), "given"
    onsets = tuple(spike_onsets(s, dt, slope, **detection) for s in sweeps)
    if not sum(len(o) for o in onsets):
        raise DataError(f"no spikes: dV/dt never crosses {slope:g} mV/ms with the voltage then peaking above "
                        f"{peak_level:g} mV (and {min_rise:g} mV above the onset) within {confirm:g} ms; choose sweeps "
                        "with spikes, or lower `slope` or `peak_level` for small or slow spikes.")
    peak_slopes = np.concatenate([_peak_slopes(s, dt, o, confirm) for s, o in zip(sweeps, onsets, strict=True)])
    at_onset = np.concatenate([s[o] for s, o in zip(sweeps, onsets, strict=True)])
    shape = spike_shape(sweeps, onsets, dt, before, after)
    if shape.count == 0:
        raise DataError(f"every spike lies within {before:g} ms of a sweep's start or {after:g} ms of its end, so no "
                        "spike shape can be cut out; use longer sweeps or a shorter `before`/`after`.")
    peak, end, at_bound = reset_and_refractory(shape, dt, confirm=confirm, recovery=recovery)
    zero = int(np.argmin(np.abs(shape.support)))
    q1, q3 = np.percentile(at_onset, [25, 75])
    median_peak = float(np.median(peak_slopes))
    result = SpikeAnalysis(
        onsets=onsets, dt=dt, slope=slope, slope_source=source, peak_slope=median_peak, onset_voltages=at_onset,
        threshold=float(np.median(at_onset)), threshold_spread=float(q3 - q1), shape=shape,
        peak=float(shape.mean[peak]), rise=float((peak - zero) * dt), reset=float(shape.mean[end]),
        refractory=float(shape.support[end]), warnings=())
    notes = _warnings(result, peak - zero, end - zero, at_bound, after, recovery)
    return dataclasses.replace(result, warnings=notes)


def _warnings(r: SpikeAnalysis, rise: int, refractory: int, at_bound: bool, after: float,
              recovery: float) -> tuple[str, ...]:
    """Sentences for the report on estimates a reader should not take at face value."""
    notes = []
    if r.slope_source == "data" and r.slope <= SLOPE_FLOOR:
        notes.append(f"spike onset slope at its floor of {SLOPE_FLOOR:g} mV/ms: {SLOPE_FRACTION:.0%} of the spikes' "
                     f"median peak dV/dt ({r.peak_slope:.0f} mV/ms) is below it (slow or undersampled spikes), so "
                     "onsets sit relatively late on the upstroke.")
    if rise < MIN_SAMPLES:
        notes.append(f"spikes rise from onset to peak in {rise} sample{'s' * (rise != 1)} ({r.rise:g} ms at "
                     f"dt = {r.dt:g} ms): onset times and the threshold are resolved to a sample only, and the peak "
                     "dV/dt is underestimated; a higher sampling rate resolves them.")
    if at_bound:
        notes.append(f"refractory period at its search bound of {after:g} ms: the repolarisation never slows to "
                     f"{recovery:.0%} of its fastest slope in the spike shape cut out; reset and refractory period "
                     "are not reliable (lengthen `after`).")
    elif refractory < MIN_SAMPLES:
        notes.append(f"refractory period of {refractory} sample{'s' * (refractory != 1)} ({r.refractory:g} ms): "
                     "shorter than 3 samples, the repolarisation is not resolved at this sampling rate.")
    if r.shape.count < FEW_SPIKES:
        notes.append(f"the average spike shape (reset, refractory period) rests on {r.shape.count} spike"
                     f"{'s' * (r.shape.count != 1)} only.")
    return tuple(notes)
