"""Active electrode compensation (AEC, Badel et al. 2008 J Neurophysiol 99:656).

A single electrode that injects current and records voltage adds the voltage drop across
itself: V_rec = V_m + K_e * I, with K_e the electrode's kernel (a resistance R_e of tens of
MOhm and a sub-millisecond to millisecond filter). From a subthreshold noise recording, where
the membrane is close to linear, the whole linear kernel K from current to recorded voltage
is found by least squares over `length` ms of lags, on rectangular basis functions one
sample wide for the first `fine` ms and log-spaced after (the kernel changes fast at short
lags and slowly later). The membrane's part of K is an exponential fitted on its tail
(`fit_range`, 3-50 ms, where the electrode has long decayed); what remains over the first
`electrode_length` ms (7 ms) is the electrode, K_e. Then V_m = V_rec - K_e * I.

On the shared raphe cells: R_e 35.9 MOhm (5-HT) and 32.2 MOhm (GABA), two thirds of it in the
first sample (a nearly instantaneous electrode), membrane tau 11.9 and 24.2 ms; compensated,
the voltage no longer steps with the current (correlation of their sample-to-sample changes
0.55 -> 0.04 and 0.12) and the GABA cell's spike thresholds tighten (IQR 6.4 -> 4.7 mV).

Units: V in mV, I in pA and time in ms inside (converted from the units given, which are
checked); the kernels are in mV/pA per sample (GOhm), R_e and the membrane resistance in MOhm.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from scipy.optimize import curve_fit
from scipy.signal import lfilter

from .._errors import DataError
from ..recordings import conversion
from ._spikes import spike_onsets

TAU_BOUNDS = (0.1, 1000.0)  # ms, the membrane time constant's search range
MIN_SAMPLES = 3


@dataclass(frozen=True)
class ElectrodeFit:
    """The electrode found by `fit_electrode`.

    - `dt`: ms; `kernel`: K_e, mV/pA per sample over the first `electrode_length` ms;
      `full_kernel`: the whole linear kernel K (current to recorded voltage), same units.
    - `resistance`: R_e = sum of K_e, MOhm; `electrode_tau`: ms, the time constant of the
      exponential with K_e's centre of mass (0 for an instantaneous, purely resistive electrode).
    - `membrane_tau` (ms) and `membrane_resistance` (MOhm): the exponential fitted on K's tail.
    - `warnings`: sentences for the report on estimates at a search bound or below 3 samples.
    """

    dt: float
    kernel: np.ndarray
    full_kernel: np.ndarray
    resistance: float
    electrode_tau: float
    membrane_tau: float
    membrane_resistance: float
    warnings: tuple[str, ...]

    def compensate(self, v: np.ndarray, i: np.ndarray, dt: float | None = None, *, voltage_unit: str = "mV",
                   current_unit: str = "pA", time_unit: str = "ms") -> np.ndarray:
        """The membrane potential V_rec - K_e * I (mV), for sweeps `v` and their currents `i`
        (1-D or (sweeps, samples), NaN padding kept). `dt`, when given, must match the fit's."""
        v = np.asarray(v, dtype=float) * conversion(voltage_unit, "mV", "`voltage_unit`")
        i = np.asarray(i, dtype=float) * conversion(current_unit, "pA", "`current_unit`")
        if v.shape != i.shape:
            raise DataError(f"voltage and current must have the same shape, got {v.shape} and {i.shape}.")
        _check_voltage(v)
        if dt is not None and not np.isclose(dt * conversion(time_unit, "ms", "`time_unit`"), self.dt, rtol=1e-6):
            raise DataError(f"the electrode kernel was fitted at dt = {self.dt:g} ms, but these sweeps have dt = "
                            f"{dt:g} {time_unit}; resample them to the compensation recording's rate first.")
        drop = lfilter(self.kernel, [1.0], np.nan_to_num(i), axis=-1)
        return v - drop

    def as_dict(self) -> dict[str, float | list[str]]:
        return {"electrode_resistance_MOhm": self.resistance, "electrode_tau_ms": self.electrode_tau,
                "membrane_tau_ms": self.membrane_tau, "membrane_resistance_MOhm": self.membrane_resistance,
                "warnings": list(self.warnings)}


def basis_edges(dt: float, length: float = 150.0, fine: float = 1.0, growth: float = 1.15) -> np.ndarray:
    """Lag bin edges in samples: one sample per bin for the first `fine` ms, then each bin
    `growth` times the lag it starts at (at least one sample wider), up to `length` ms."""
    fine_n, end = max(1, int(round(fine / dt))), int(round(length / dt))
    edges = list(range(min(fine_n, end) + 1))
    while edges[-1] < end:
        edges.append(min(end, max(edges[-1] + 1, int(round(edges[-1] * growth)))))
    return np.array(edges)


def lagged(i: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """(samples, bins): for each bin, the sum of i(t - lag) over its lags, zero before the start."""
    c = np.concatenate([[0.0], np.cumsum(i)])
    idx = np.arange(i.size)
    columns = [c[np.clip(idx - a + 1, 0, i.size)] - c[np.clip(idx - b + 1, 0, i.size)]
               for a, b in zip(edges[:-1], edges[1:], strict=True)]
    return np.column_stack(columns)


def _check_voltage(v: np.ndarray) -> None:
    if not np.isfinite(v).any() or not 1.0 < np.nanmax(np.abs(v)) < 1000.0:
        raise DataError(f"the largest |V| is {np.nanmax(np.abs(v)) if np.isfinite(v).any() else np.nan:.3g} mV, not a "
                        "membrane potential; give `voltage_unit` ('V' for volts).")


def _as_pair(v, i, dt, voltage_unit: str, current_unit: str, time_unit: str):
    """Sweeps of V (mV) and I (pA) as 2-D arrays and dt in ms, checked."""
    if isinstance(dt, bool) or not isinstance(dt, (int, float, np.floating)) or not 0 < dt < np.inf:
        raise DataError(f"sampling step `dt` must be a positive number (in `time_unit`), got {dt!r}.")
    dt = float(dt) * conversion(time_unit, "ms", "`time_unit`")
    v = np.atleast_2d(np.asarray(v, dtype=float)) * conversion(voltage_unit, "mV", "`voltage_unit`")
    i = np.atleast_2d(np.asarray(i, dtype=float)) * conversion(current_unit, "pA", "`current_unit`")
    if v.shape != i.shape or v.ndim != 2:
        raise DataError(f"voltage and current must be matching 1-D or (sweeps, samples) arrays, got shapes "
                        f"{np.shape(v)} and {np.shape(i)}.")
    if dt < 1e-3 or dt > 1.0:
        raise DataError(f"`dt` = {dt:g} ms is not a patch-clamp sampling step (0.001-1 ms); give `time_unit` "
                        "('s' for a step in seconds).")
    _check_voltage(v)
    if not np.nanstd(i) > 0.5:
        raise DataError(f"the current's s.d. is {np.nanstd(i):.3g} pA: electrode compensation needs a fluctuating "
                        "current (noise of some 10 pA); check `current_unit` ('nA' for nanoamperes) and the sweep.")
    return v, i, dt


def fit_electrode(v: np.ndarray, i: np.ndarray, dt: float, *, voltage_unit: str = "mV", current_unit: str = "pA",
                  time_unit: str = "ms", length: float = 150.0, fine: float = 1.0,
                  fit_range: tuple[float, float] = (3.0, 50.0), electrode_length: float = 7.0) -> ElectrodeFit:
    """The electrode kernel from subthreshold noise sweeps `v`, `i` (1-D or (sweeps, samples)),
    Badel et al. 2008 (see the module). Lengths in ms."""
    v, i, dt = _as_pair(v, i, dt, voltage_unit, current_unit, time_unit)
    if not (0 < electrode_length <= fit_range[1] and 0 < fit_range[0] < fit_range[1] <= length):
        raise DataError(f"need 0 < electrode_length <= fit_range[1] and 0 < fit_range[0] < fit_range[1] <= length, "
                        f"got electrode_length={electrode_length!r}, fit_range={fit_range!r}, length={length!r} (ms).")
    edges = basis_edges(dt, length, fine)
    X, y = _regression(v, i, edges, dt)
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    full = np.repeat(coef, np.diff(edges))
    t = np.arange(full.size) * dt
    amplitude, tau = _membrane_exponential(full, t, fit_range)
    electrode = (full - amplitude * np.exp(-t / tau))[:max(1, int(round(electrode_length / dt)))]
    total = float(np.sum(electrode))
    centre = float(np.sum(t[:electrode.size] * electrode) / total) if total > 0 else float("nan")
    # the time constant of the sampled exponential a^k with that centre of mass, dt a / (1 - a)
    tau_e = float(dt / np.log1p(dt / centre)) if centre > 0 else 0.0 if centre == 0 else float("nan")
    fit = ElectrodeFit(dt=dt, kernel=electrode, full_kernel=full, resistance=total * 1e3, electrode_tau=tau_e,
                       membrane_tau=float(tau), membrane_resistance=float(amplitude / -np.expm1(-dt / tau) * 1e3),
                       warnings=())
    notes = _warnings(fit, v, dt, electrode_length)
    return dataclasses.replace(fit, warnings=notes)


def _regression(v: np.ndarray, i: np.ndarray, edges: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """Rows of lagged currents and recorded voltages (each sweep's mean removed), from every sweep's
    finite stretch, after its first `length` ms (whose current history is not recorded)."""
    skip, rows, targets = edges[-1], [], []
    for vs, cs in zip(v, i, strict=True):
        finite = np.isfinite(vs) & np.isfinite(cs)
        n = int(np.argmin(finite)) if not finite.all() else finite.size  # NaN padding ends a sweep
        if n > skip:
            rows.append(lagged(cs[:n] - cs[:n].mean(), edges)[skip:])
            targets.append((vs[:n] - vs[:n].mean())[skip:])
    samples = sum(len(r) for r in targets)
    if samples < 20 * (len(edges) - 1):
        raise DataError(f"{samples * dt:g} ms of compensation recording after the first {skip * dt:g} ms: too short "
                        f"for a {len(edges) - 1}-bin kernel; record some seconds of subthreshold noise "
                        "(10 s is usual).")
    return np.concatenate(rows), np.concatenate(targets)


def _membrane_exponential(kernel: np.ndarray, t: np.ndarray, fit_range: tuple[float, float]) -> tuple[float, float]:
    """(amplitude per sample, tau ms) of a * exp(-t / tau) fitted to `kernel` over `fit_range` ms."""
    window = (t >= fit_range[0]) & (t <= fit_range[1])
    if window.sum() < 3:
        raise DataError(f"the membrane fit range {fit_range} ms holds fewer than 3 samples of the kernel.")
    start = float(np.clip(20.0, *TAU_BOUNDS))
    a0 = float(kernel[window][0] * np.exp(fit_range[0] / start))
    try:
        (a, tau), _ = curve_fit(lambda s, a, tau: a * np.exp(-s / tau), t[window], kernel[window], p0=[a0, start],
                                bounds=([-np.inf, TAU_BOUNDS[0]], [np.inf, TAU_BOUNDS[1]]), maxfev=10000)
    except RuntimeError as err:
        raise DataError(f"no exponential fits the kernel's tail ({fit_range[0]:g}-{fit_range[1]:g} ms): "
                        f"{str(err).rstrip('.')}; is the compensation sweep subthreshold noise?") from err
    return float(a), float(tau)


def _warnings(fit: ElectrodeFit, v: np.ndarray, dt: float, electrode_length: float) -> tuple[str, ...]:
    """Sentences for the report on estimates a reader should not take at face value."""
    notes = []
    if any(np.isclose(fit.membrane_tau, b, rtol=1e-3) for b in TAU_BOUNDS):
        notes.append(f"membrane time constant of the compensation fit at its search bound ({fit.membrane_tau:g} ms, "
                     f"range {TAU_BOUNDS[0]:g}-{TAU_BOUNDS[1]:g} ms): the electrode and membrane are not separated.")
    elif fit.membrane_tau < MIN_SAMPLES * dt:
        notes.append(f"membrane time constant of the compensation fit is {fit.membrane_tau:.3g} ms, under 3 samples: "
                     "not a membrane; the electrode and membrane are not separated.")
    if not fit.resistance > 0:
        notes.append(f"electrode resistance R_e = {fit.resistance:.3g} MOhm is not positive: nothing to compensate "
                     "(was the bridge already balanced on the amplifier?) or the membrane exponential is misfit.")
    else:
        tail = fit.kernel[-max(1, int(round(1.0 / dt))):]
        if abs(tail.mean()) > 0.05 * np.max(np.abs(fit.kernel)):
            notes.append(f"the electrode kernel has not decayed within {electrode_length:g} ms: the electrode is slow "
                         "or the membrane exponential is misfit, and R_e is uncertain.")
        if fit.electrode_tau < MIN_SAMPLES * dt:
            notes.append(f"electrode time constant {fit.electrode_tau:.2g} ms, under 3 samples: the electrode acts as "
                         "an instantaneous resistance at this sampling rate (its filtering is not resolved).")
    if any(len(spike_onsets(s[np.isfinite(s)], dt, 10.0)) for s in v):
        notes.append("the compensation sweep holds spikes: the kernel assumes a linear (subthreshold) membrane; use "
                     "a subthreshold noise sweep.")
    return tuple(notes)
