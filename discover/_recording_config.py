"""Which sweeps a run config's [data] table trains and validates on, and a held-out file's check."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._errors import ConfigError, DataError
from .recordings import UNITS, Recording, canonical_unit


def split_sweeps(rec: Recording, d: Mapping[str, Any]) -> tuple[Recording, Recording]:
    """(training, held-out) sweeps of one recording: `heldout_sweeps` (default: the last sweep not
    trained on) and `sweeps` (default: every sweep not held out), never sharing a sweep."""
    names = f"{rec.n_sweeps} sweep(s): indices 0..{rec.n_sweeps - 1}, labels {list(rec.sweeps)}"
    if rec.n_sweeps == 1:
        raise ConfigError(f"[data] path = {d['path']!r} holds one sweep, which cannot be both trained on and held "
                          "out; give [data] heldout_path = a second recording of the cell to validate on (e.g. "
                          "another protocol; it is resampled to this file's rate), or a recording with more sweeps.")
    train = [rec.sweep_index(k) for k in sweep_list(d, "sweeps") or ()]
    if "heldout_sweeps" in d:
        held = [rec.sweep_index(k) for k in sweep_list(d, "heldout_sweeps") or ()]
    else:
        left = [k for k in range(rec.n_sweeps) if k not in train]
        held = left[-1:]
    train = train if "sweeps" in d else [k for k in range(rec.n_sweeps) if k not in held]
    overlap = sorted(set(train) & set(held))
    if overlap:
        raise ConfigError(f"[data] sweeps and heldout_sweeps share {overlap}; held-out sweeps must be unseen. "
                          f"{d['path']!r} has {names}.")
    for key, chosen in (("sweeps", train), ("heldout_sweeps", held)):
        if not chosen:
            raise ConfigError(f"[data] {key} selects no sweep ({d['path']!r} has {names}); give {key} = [...] "
                              "with sweeps the other list does not use, or [data] heldout_path = a second "
                              "recording to validate on.")
    return rec.select(train), rec.select(held)


def check_same_signals(train: Recording, held: Recording, names: list[str], d: Mapping[str, Any]) -> None:
    """The held-out file records the training file's signals, as the same quantities."""
    for name in names:
        if name not in held.signals:
            raise ConfigError(f"[data] heldout_path = {d['heldout_path']!r} has no signal {name!r} (it has "
                              f"{list(held.signals)}), which the training file {d['path']!r} gives; record it, or "
                              "hold out sweeps of the training file instead.")
        if name in train.signals and UNITS[train.units[name]][0] != UNITS[held.units[name]][0]:
            raise ConfigError(f"signal {name!r} is a {UNITS[train.units[name]][0]} in {d['path']!r} but a "
                              f"{UNITS[held.units[name]][0]} (unit {held.units[name]!r}) in [data] heldout_path = "
                              f"{d['heldout_path']!r}; check the file, or its channel.")


def sweep_list(d: Mapping[str, Any], key: str) -> list[int | str] | None:
    """[data] `key` as a list of sweep indices or labels (None when not given)."""
    if key not in d:
        return None
    value = d[key]
    if not (isinstance(value, list) and all(isinstance(k, (int, str)) and not isinstance(k, bool) for k in value)):
        raise ConfigError(f"[data] {key} = {value!r}: give a list of sweep indices or labels, e.g. {key} = [0, 2] "
                          f"or {key} = [\"sweep6\"].")
    return value


def check_recording_options(d: Mapping[str, Any]) -> None:
    """The value of every recording key of [data], before any file is read (a bad one costs nothing)."""
    for key in ("sweeps", "heldout_sweeps"):
        sweep_list(d, key)
    for key in ("path", "heldout_path", "current", "heldout_current", "time_unit"):
        if key in d and not isinstance(d[key], str):
            raise ConfigError(f"[data] {key} = {d[key]!r}: give text, e.g. {key} = \"{_EXAMPLES[key]}\".")
    for key, low in (("decimate", 1), ("channel", 0), ("current_channel", 0)):
        value = d.get(key, low)
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ConfigError(f"[data] {key} = {value!r}: give a whole number >= {low}, e.g. {key} = {low + 1}.")
    bounds = {k: d[k] for k in ("start", "stop") if k in d}
    for key, value in bounds.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            raise ConfigError(f"[data] {key} = {value!r}: give a time in the model's time unit (ms for a cell).")
    if len(bounds) == 2 and not bounds["start"] < bounds["stop"]:
        raise ConfigError(f"[data] start = {bounds['start']!r} is not before stop = {bounds['stop']!r}.")
    units = d.get("units", {})
    if not (isinstance(units, Mapping) and all(isinstance(u, str) for u in units.values())):
        raise ConfigError(f"[data] units = {units!r}: give a table of signal = unit, e.g. units = "
                          "{ V = \"mV\", I = \"pA\" }.")
    try:
        for name, unit in units.items():
            canonical_unit(unit, f"[data] units.{name}")
        if "time_unit" in d and UNITS[canonical_unit(d["time_unit"], "[data] time_unit")][0] != "time":
            raise ConfigError(f"[data] time_unit = {d['time_unit']!r} is not a unit of time; give \"s\" or \"ms\".")
    except DataError as exc:
        raise ConfigError(str(exc)) from None


_EXAMPLES = {"path": "cell.nwb", "heldout_path": "chirp.nwb", "current": "I_*.ibw", "heldout_current": "I_*.ibw",
             "time_unit": "ms"}
