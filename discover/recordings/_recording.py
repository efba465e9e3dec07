"""One type for every recording read from disk: sweeps of named signals on one time grid, with units."""

from __future__ import annotations

import dataclasses
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
            if not np.all(np.isfinite(arr)):
                sweep, sample = np.argwhere(~np.isfinite(arr))[0].tolist()
                raise DataError(f"signal {name!r} holds NaN or inf (sweep {sweep}, sample {sample}); crop the "
                                "recording or select other sweeps.")
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
        # the same checks as every other data path: finite, increasing, uniform
        Trajectories(t, np.stack(list(signals.values()), axis=-1))

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
            index = [self._sweep_index(s) for s in sweeps]
        if not index:
            raise DataError(f"sweep selection {sweeps!r} is empty; this recording has sweeps {list(self.sweeps)}.")
        return dataclasses.replace(
            self, signals={k: v[index] for k, v in self.signals.items()}, sweeps=tuple(self.sweeps[i] for i in index)
        )

    def _sweep_index(self, sweep: int | str) -> int:
        if isinstance(sweep, (int, np.integer)) and not isinstance(sweep, bool):
            if not -self.n_sweeps <= sweep < self.n_sweeps:
                raise DataError(f"sweep {sweep} does not exist; this recording has {self.n_sweeps} (0..{self.n_sweeps - 1}).")
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

    def in_units(self, time_unit: str | None = None, **units: str) -> Recording:
        """The same recording with times in `time_unit` and each named signal in the unit given."""
        for name in units:
            if name not in self.signals:
                raise DataError(f"no signal {name!r} to convert; signals are {list(self.signals)}.{did_you_mean(name, self.signals)}")
        signals = {k: v * conversion(self.units[k], units[k], f"signal {k!r}") if k in units else v
                   for k, v in self.signals.items()}
        new_units = {k: canonical_unit(units.get(k, u), f"signal {k!r}") for k, u in self.units.items()}
        tu = time_unit or self.time_unit
        t = self.t * conversion(self.time_unit, tu, "time")
        return dataclasses.replace(self, t=t, signals=signals, units=new_units, time_unit=tu)

    def to_trajectories(self, states: Sequence[str], inputs: Sequence[str] = ()) -> Trajectories:
        """Sweeps as trajectories: `states` and `inputs` are signal names, each kept in its own unit."""
        for name in (*states, *inputs):
            if name not in self.signals:
                raise DataError(f"no signal {name!r} in this recording; it has {list(self.signals)}.{did_you_mean(name, self.signals)}")
        y = np.stack([self.signals[s] for s in states], axis=-1)
        u = np.stack([self.signals[s] for s in inputs], axis=-1) if inputs else None
        return Trajectories(self.t, y, u, tuple(states), tuple(inputs))
