"""One type for every recording read from disk: sweeps of named signals on one time grid, with units."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._errors import DataError, did_you_mean
from ..data import Trajectories

# unit -> (quantity, factor to the SI unit); names as the file formats write them
UNITS: dict[str, tuple[str, float]] = {
    "s": ("time", 1.0), "ms": ("time", 1e-3), "us": ("time", 1e-6),
    "V": ("voltage", 1.0), "mV": ("voltage", 1e-3), "uV": ("voltage", 1e-6),
    "A": ("current", 1.0), "mA": ("current", 1e-3), "uA": ("current", 1e-6), "nA": ("current", 1e-9),
    "pA": ("current", 1e-12), "fA": ("current", 1e-15),
}
_ALIASES = {"volts": "V", "volt": "V", "amperes": "A", "amps": "A", "amp": "A", "seconds": "s", "sec": "s",
            "µV": "uV", "μV": "uV", "µA": "uA", "μA": "uA", "µs": "us", "μs": "us"}


def canonical_unit(unit: str, argument: str) -> str:
    """`unit` spelled as in `UNITS` ('volts' -> 'V'); a clear error for anything else."""
    unit = _ALIASES.get(str(unit).strip(), str(unit).strip())
    if unit not in UNITS:
        raise DataError(
            f"{argument} has unit {unit!r}, which discover cannot convert; use one of {', '.join(UNITS)}."
            f"{did_you_mean(unit, UNITS)}"
        )
    return unit


def conversion(source: str, target: str, argument: str) -> float:
    """Factor taking values in `source` units to `target` units (mV -> V: 1e-3)."""
    (q1, f1), (q2, f2) = UNITS[canonical_unit(source, argument)], UNITS[canonical_unit(target, argument)]
    if q1 != q2:
        raise DataError(f"{argument} is a {q1} (unit {source!r}) and cannot be converted to {target!r}, a {q2}.")
    return f1 / f2


def pad_nan(values: np.ndarray, n: int) -> np.ndarray:
    """`values` (1-D) NaN-padded at the end to `n` samples: how sweeps of unequal length share a grid."""
    values = np.asarray(values, dtype=float)
    return np.concatenate([values, np.full(n - values.size, np.nan)])


_EXAMPLE_UNITS = {"V": "mV", "I": "pA"}


class MissingUnitsError(DataError):
    """A file that does not say the units of some signals (or of time). The fix is worded for the
    Python API (`units={'V': 'mV'}`); `in_toml()` words it for a config file's [data] table."""

    def __init__(self, path: str, signals: Sequence[str] = (), time: bool = False, toml: bool = False) -> None:
        self.path, self.signals, self.time, self.toml = str(path), tuple(signals), time, toml
        super().__init__(self._message())

    def in_toml(self) -> MissingUnitsError:
        return MissingUnitsError(self.path, self.signals, self.time, toml=True)

    def _message(self) -> str:
        examples = {k: _EXAMPLE_UNITS.get(k, "mV") for k in self.signals}
        if self.toml:
            units = "[data] units = { " + ", ".join(f'{k} = "{u}"' for k, u in examples.items()) + " }"
            time = '[data] time_unit = "s" (or "ms")'
        else:
            units = "units={" + ", ".join(f"{k!r}: {u!r}" for k, u in examples.items()) + "}"
            time = "time_unit='s' (or 'ms')"
        if not self.signals:
            return f"{self.path!r} does not say the unit of `t`; give {time}."
        also = f", and {time}" if self.time else ""
        return (f"{self.path!r} does not say the units of {list(self.signals)}; give them, e.g. {units} "
                f"(with the file's real units: V, mV, pA, nA, ...){also}.")


@dataclass(frozen=True, eq=False)
class Recording:
    """Sweeps of named signals (e.g. membrane potential `V` and injected current `I`) on one time grid.

    **Arguments:**
    - `t`: times, shape `(n_times,)`, uniformly spaced, in `time_unit`.
    - `signals`: name -> array of shape `(n_sweeps, n_times)`.
    - `units`: name -> unit (one of `UNITS`, e.g. "mV", "pA").
    - `time_unit`: "s", "ms" or "us".
    - `sweeps`: a label per sweep (default "0", "1", ...).
    - `metadata`: where the data came from (file, format, protocol ...), kept in the results.
    """

    t: np.ndarray
    signals: Mapping[str, np.ndarray]
    units: Mapping[str, str]
    time_unit: str = "s"
    sweeps: tuple[str, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        t = np.asarray(self.t, dtype=float)
        if t.ndim != 1 or t.size < 3:
            raise DataError(f"recording time `t` must be 1-D with at least 3 samples, got shape {t.shape}.")
        if not self.signals:
            raise DataError("a recording needs at least one signal (e.g. membrane potential `V`).")
        signals = {}
        for name, values in self.signals.items():
            arr = np.asarray(values, dtype=float)
            arr = arr[None] if arr.ndim == 1 else arr
            if arr.ndim != 2 or arr.shape[1] != t.size:
                raise DataError(
                    f"signal {name!r} must have shape (n_sweeps, n_times={t.size}), got {np.shape(values)}."
                )
            # NaN and inf are checked once sweeps are chosen (`finite`): a bad sweep the user
            # leaves out must not stop the file from being read, and ragged sweeps are NaN-padded
            signals[name] = arr
        counts = {a.shape[0] for a in signals.values()}
        if len(counts) != 1 or 0 in counts:
            raise DataError(f"every signal needs the same, non-zero number of sweeps; got {sorted(counts)}.")
        n = counts.pop()
        sweeps = tuple(str(s) for s in self.sweeps) or tuple(str(i) for i in range(n))
        if len(sweeps) != n:
            raise DataError(f"`sweeps` has {len(sweeps)} labels for {n} sweeps.")
        units = {}
        for name in signals:
            if name not in self.units:
                raise DataError(f"signal {name!r} has no unit; give units={{{name!r}: 'mV'}} (or 'pA', ...).")
            units[name] = canonical_unit(self.units[name], f"signal {name!r}")
        if UNITS[canonical_unit(self.time_unit, "time")][0] != "time":
            raise DataError(f"`time_unit` must be a unit of time (s, ms, us), got {self.time_unit!r}.")
        for attr, value in (("t", t), ("signals", signals), ("units", units), ("sweeps", sweeps),
                            ("time_unit", canonical_unit(self.time_unit, "time")), ("metadata", dict(self.metadata))):
            object.__setattr__(self, attr, value)
        # the same time checks as every other data path: finite, increasing, uniform
        Trajectories(t, np.zeros((1, t.size, 1)))

    @property
    def n_sweeps(self) -> int:
        return len(self.sweeps)

    @property
    def dt(self) -> float:
        return float(self.t[1] - self.t[0])

    def select(self, sweeps: Sequence[int | str] | slice) -> Recording:
        """The sweeps at `sweeps`: indices, labels, or a slice."""
        if isinstance(sweeps, slice):
            index = list(range(self.n_sweeps))[sweeps]
        else:
            index = [self.sweep_index(s) for s in sweeps]
        if not index:
            raise DataError(f"sweep selection {sweeps!r} is empty; this recording has sweeps {list(self.sweeps)}.")
        return dataclasses.replace(
            self, signals={k: v[index] for k, v in self.signals.items()}, sweeps=tuple(self.sweeps[i] for i in index)
        )

    def sweep_index(self, sweep: int | str) -> int:
        """The position of `sweep`: an index (negative from the end) or a label."""
        if isinstance(sweep, (int, np.integer)) and not isinstance(sweep, bool):
            if not -self.n_sweeps <= sweep < self.n_sweeps:
                raise DataError(f"sweep {sweep} does not exist; this recording has {self.n_sweeps} "
                                f"(0..{self.n_sweeps - 1}, labels {list(self.sweeps)}).")
            return int(sweep) % self.n_sweeps
        if str(sweep) in self.sweeps:
            return self.sweeps.index(str(sweep))
        raise DataError(f"sweep {sweep!r} is not one of {list(self.sweeps)}.{did_you_mean(str(sweep), self.sweeps)}")

    def crop(self, start: float | None = None, stop: float | None = None) -> Recording:
        """The part with `start <= t < stop` (in `time_unit`)."""
        lo = -np.inf if start is None else start
        hi = np.inf if stop is None else stop
        keep = (self.t >= lo) & (self.t < hi)
        if keep.sum() < 3:
            raise DataError(
                f"cropping to [{start}, {stop}) {self.time_unit} keeps {int(keep.sum())} samples; the recording "
                f"spans {self.t[0]:g}..{self.t[-1]:g} {self.time_unit}."
            )
        return dataclasses.replace(self, t=self.t[keep], signals={k: v[:, keep] for k, v in self.signals.items()})

    def decimate(self, factor: int) -> Recording:
        """Every `factor`-th sample, after averaging each block of `factor` (a box filter against aliasing)."""
        if isinstance(factor, bool) or not isinstance(factor, (int, np.integer)) or factor < 1:
            raise DataError(f"decimation `factor` must be a whole number >= 1, got {factor!r}.")
        n = (self.t.size // factor) * factor
        if n // factor < 3:
            raise DataError(f"decimating {self.t.size} samples by {factor} leaves fewer than 3.")
        signals = {k: v[:, :n].reshape(v.shape[0], -1, factor).mean(-1) for k, v in self.signals.items()}
        return dataclasses.replace(self, t=self.t[:n:factor], signals=signals)

    def resample(self, dt: float) -> Recording:
        """The recording on a grid of step `dt` (in `time_unit`) from its first sample, by polyphase
        filtering (`scipy.signal.resample_poly`: an anti-aliasing low-pass FIR filter, so going down
        in rate does not fold noise into the band kept; the ends padded by their linear trend, not
        zeros, so they do not ring). The rate ratio must be a fraction with a denominator of at most
        1000 (20 kHz -> 10 kHz, 25 kHz -> 10 kHz, 44.1 kHz -> 10 kHz all are). NaN padding is cut
        off first (`finite`)."""
        from fractions import Fraction

        from scipy.signal import resample_poly

        if isinstance(dt, bool) or not isinstance(dt, (int, float, np.floating)) or not 0 < dt < np.inf:
            raise DataError(f"resampling step `dt` must be a positive time in {self.time_unit}, got {dt!r}.")
        rec = self.finite()
        ratio = Fraction(rec.dt / dt).limit_denominator(1000)  # new samples per old sample = up / down
        if abs(float(ratio) * dt / rec.dt - 1) > 1e-6:
            raise DataError(f"cannot resample from a step of {rec.dt:g} to {dt:g} {self.time_unit}: their ratio is "
                            "not a fraction with a denominator up to 1000; resample the file first.")
        if ratio == 1:
            return rec
        up, down = ratio.numerator, ratio.denominator
        signals = {k: resample_poly(v, up, down, axis=1, padtype="line") for k, v in rec.signals.items()}
        n = next(iter(signals.values())).shape[1]
        if n < 3:
            raise DataError(f"resampling {rec.t.size} samples to a step of {dt:g} {self.time_unit} leaves {n}.")
        return dataclasses.replace(rec, t=rec.t[0] + np.arange(n) * dt, signals=signals)

    def in_units(self, time_unit: str | None = None, **units: str) -> Recording:
        """The same recording with times in `time_unit` and each named signal in the unit given."""
        for name in units:
            if name not in self.signals:
                raise DataError(f"no signal {name!r} to convert; signals are {list(self.signals)}."
                                f"{did_you_mean(name, self.signals)}")
        signals = {k: v * conversion(self.units[k], units[k], f"signal {k!r}") if k in units else v
                   for k, v in self.signals.items()}
        new_units = {k: canonical_unit(units.get(k, u), f"signal {k!r}") for k, u in self.units.items()}
        tu = time_unit or self.time_unit
        t = self.t * conversion(self.time_unit, tu, "time")
        return dataclasses.replace(self, t=t, signals=signals, units=new_units, time_unit=tu)

    def finite(self, names: Sequence[str] | None = None) -> Recording:
        """The recording with every sample finite: trailing NaN padding (of any signal) ends a sweep
        early, and sweeps of unequal length after that are cut to the shortest, with a warning
        naming them (sweeps share one time grid). NaN or inf anywhere else is an error naming the
        signal, sweep and sample. Call it after `select`, so sweeps left out are never checked;
        `names`: the signals that must be finite (default: all)."""
        checked = {k: v for k, v in self.signals.items() if names is None or k in names}
        stack = np.stack(list(checked.values()))  # (signals, sweeps, times)
        padding = np.isnan(stack).any(axis=0)
        # a sweep's length: up to its last sample with no NaN in any signal
        lengths = np.array([p.size - int(np.argmin(p[::-1])) if not p.all() else 0 for p in padding])
        for name, values in checked.items():
            for k, (row, n) in enumerate(zip(values, lengths, strict=True)):
                bad = np.flatnonzero(~np.isfinite(row[:n]))
                if bad.size:
                    raise DataError(
                        f"signal {name!r} holds {row[bad[0]]} inside sweep {self.sweeps[k]!r} (index {k}) at sample "
                        f"{bad[0]} of {n} (only NaN padding at a sweep's end is cut off); leave the sweep out "
                        f"(`sweeps`), or crop the recording to before t = {self.t[bad[0]]:g} {self.time_unit}.")
        n = int(lengths.min())
        if n < 3:
            short = [self.sweeps[k] for k in np.flatnonzero(lengths < 3)]
            raise DataError(f"sweeps {short} hold fewer than 3 samples before their NaN padding; leave them out "
                            f"(`sweeps`); this recording has sweeps {list(self.sweeps)}.")
        if n == self.t.size:
            return self
        if np.any(lengths > n):
            cut = ", ".join(f"{self.sweeps[k]!r} ({lengths[k]} samples)" for k in np.flatnonzero(lengths > n))
            shortest = self.sweeps[int(np.argmin(lengths))]
            warnings.warn(
                f"sweeps end at different times after their NaN padding: {cut} are cut to the {n} samples "
                f"(t < {self.t[n - 1] + self.dt:g} {self.time_unit}) of the shortest, {shortest!r}, since sweeps share "
                "one time grid; leave the short sweep out (`sweeps`) to keep more.", UserWarning, stacklevel=2)
        return dataclasses.replace(self, t=self.t[:n], signals={k: v[:, :n] for k, v in self.signals.items()})

    def to_trajectories(self, states: Sequence[str], inputs: Sequence[str] = ()) -> Trajectories:
        """Sweeps as trajectories: `states` and `inputs` are signal names, each kept in its own unit.
        Trailing NaN padding is cut off first (`finite`)."""
        for name in (*states, *inputs):
            if name not in self.signals:
                raise DataError(f"no signal {name!r} in this recording; it has {list(self.signals)}."
                                f"{did_you_mean(name, self.signals)}")
        rec = self.finite((*states, *inputs))
        y = np.stack([rec.signals[s] for s in states], axis=-1)
        if not inputs:
            return Trajectories(rec.t, y, states=tuple(states))
        u = np.stack([rec.signals[s] for s in inputs], axis=-1)
        return Trajectories(rec.t, y, u, tuple(states), tuple(inputs))
