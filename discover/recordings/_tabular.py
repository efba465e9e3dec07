"""Recordings as NPZ (arrays) and CSV (columns named with their units, e.g. `t_s,V_mV,I_pA`)."""

from __future__ import annotations

import csv
import re
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .._errors import DataError, sentence
from .._npz import open_npz
from ._recording import MissingUnitsError, Recording, canonical_unit

_RESERVED = {"t", "units", "time_unit", "sweep_labels", "sweeps", "dt", "fs"}


def read_npz(path: str | Path, *, units: Mapping[str, str] | None = None, time_unit: str | None = None) -> Recording:
    """`t` (n_times,) and one `(n_sweeps, n_times)` array per signal; never unpickles.

    Files written by `write_npz` carry their units. Others need `units` (e.g. {"V": "mV",
    "I": "pA"}) and `time_unit`: a number without its unit is a 1000x mistake waiting to happen.
    """
    path = Path(path)
    with open_npz(path) as f:  # the same opener as saved Trajectories: one error for a damaged file
        arrays = {k: f[k] for k in f.files}
    if "t" not in arrays:
        raise DataError(f"{str(path)!r} has arrays {sorted(arrays)}; a recording needs `t` (times).")
    t = arrays["t"]
    stored = dict(s.split("=", 1) for s in arrays["units"].astype(str)) if "units" in arrays else {}
    signals = {k: v for k, v in arrays.items() if k not in _RESERVED and np.ndim(v) in (1, 2)
               and np.shape(v)[-1] == np.size(t)}
    chosen = {**stored, **(units or {})}
    missing = [k for k in signals if k not in chosen]
    tu = time_unit or (str(arrays["time_unit"]) if "time_unit" in arrays else None)
    if missing or tu is None:
        raise MissingUnitsError(str(path), missing, time=tu is None)
    labels = tuple(str(s) for s in arrays.get("sweep_labels", arrays.get("sweeps", ())))
    return Recording(t, signals, {k: chosen[k] for k in signals}, tu, labels, {"file": str(path), "format": "NPZ"})


def write_npz(recording: Recording, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write `recording` as .npz with its units, readable by `read_npz` without options."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise DataError(f"{str(path)!r} exists; pass overwrite=True to replace it, or choose another name.")
    bad = [k for k in recording.signals if k in _RESERVED]
    if bad:
        raise DataError(f"signal names {bad} are reserved in .npz recordings; rename them.")
    np.savez(
        path, t=recording.t, time_unit=np.array(recording.time_unit), sweep_labels=np.array(recording.sweeps),
        units=np.array([f"{k}={u}" for k, u in recording.units.items()]),
        **recording.signals,  # type: ignore[arg-type]  # numpy's stub takes a ** mapping for `allow_pickle`
    )
    return path


def read_csv(path: str | Path) -> Recording:
    """One sweep: a time column first, then one column per signal, each header naming its unit
    as `name_unit`, `name (unit)` or `name [unit]` (e.g. `t_s,V_mV,I_pA`)."""
    path = Path(path)
    try:
        with path.open(newline="") as f:
            header = next(csv.reader(f))
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # loadtxt only warns about a file with no rows
            values = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    except (OSError, StopIteration, ValueError, UnicodeDecodeError, csv.Error, UserWarning) as exc:
        raise DataError(sentence(f"cannot read {str(path)!r} as CSV of numbers with one header row: {exc}")) from None
    if values.shape[1] != len(header) or len(header) < 2:
        raise DataError(f"{str(path)!r} has {len(header)} header names for {values.shape[1]} columns; "
                        "give a time column and at least one signal, each with a header.")
    names, units = zip(*(_name_and_unit(h, path) for h in header), strict=True)
    signals = {n: values[:, k][None] for k, n in enumerate(names) if k}
    return Recording(values[:, 0], signals, dict(zip(names[1:], units[1:], strict=True)), units[0], (path.stem,),
                     {"file": str(path), "format": "CSV"})


def _name_and_unit(header: str, path: Path) -> tuple[str, str]:
    match = re.fullmatch(r"\s*(\w+?)\s*(?:_|\(|\[)\s*([^\s)\]]+)\s*[)\]]?\s*", header)
    if not match:
        raise DataError(f"{str(path)!r}: column {header!r} does not name its unit; write it as e.g. 'V_mV' or "
                        "'V (mV)'.")
    return match.group(1), canonical_unit(match.group(2), f"column {header!r} of {path.name}")


__all__ = ["read_csv", "read_npz", "write_npz"]
