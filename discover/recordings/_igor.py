"""Igor Pro binary waves (.ibw): one file per channel and sweep, read with igor2."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .._errors import DataError, sentence
from ._recording import Recording, canonical_unit, pad_nan


def read_igor(voltage: Sequence[str | Path], current: Sequence[str | Path]) -> Recording:
    """Sweeps from pairs of waves: `voltage[k]` and `current[k]` are sweep k's files.

    Units come from each wave's header (e.g. 'mV', 'pA'); the time step from its x scaling (s).
    """
    voltage_files, current_files = [Path(p) for p in voltage], [Path(p) for p in current]
    if not voltage_files or len(voltage_files) != len(current_files):
        raise DataError(f"read_igor needs one current wave per voltage wave; got {len(voltage_files)} voltage and "
                        f"{len(current_files)} current files.")
    voltages: list[np.ndarray] = []
    currents: list[np.ndarray] = []
    dts: set[float] = set()
    units: dict[str, str] = {}
    for v_path, i_path in zip(voltage_files, current_files, strict=True):
        for name, path, out in (("V", v_path, voltages), ("I", i_path, currents)):
            values, dt, unit = _load(path)
            out.append(values)
            dts.add(round(dt, 15))
            if units.setdefault(name, unit) != unit:
                raise DataError(f"{str(path)!r} is in {unit!r}, other {name} waves in {units[name]!r}.")
    if len(dts) != 1:
        raise DataError(f"Igor waves have different time steps {sorted(dts)}; resample them to one first.")
    n = max(len(x) for x in (*voltages, *currents))  # padded: `Recording.finite` cuts once sweeps are chosen
    t = np.arange(n) * dts.pop()
    meta = {"file": [str(p) for p in voltage_files], "current_file": [str(p) for p in current_files],
            "format": "Igor binary wave"}
    signals = {"V": np.stack([pad_nan(v, n) for v in voltages]), "I": np.stack([pad_nan(i, n) for i in currents])}
    return Recording(t, signals, units, "s", tuple(p.stem for p in voltage_files), meta)


def _load(path: Path) -> tuple[np.ndarray, float, str]:
    try:
        from igor2 import binarywave
    except ImportError:  # pragma: no cover - a dependency
        raise DataError("reading Igor .ibw files needs igor2: pip install igor2") from None
    if not path.is_file():
        raise DataError(f"Igor wave {str(path)!r} does not exist; check the path.")
    try:
        wave = binarywave.load(str(path))["wave"]
    except Exception as exc:  # igor2 raises struct/value errors for bad files
        raise DataError(sentence(f"cannot read {str(path)!r} as an Igor binary wave: "
                                 f"{type(exc).__name__}: {exc}")) from None
    header = wave["wave_header"]
    values = np.asarray(wave["wData"], dtype=float)
    if values.ndim != 1:
        raise DataError(f"{str(path)!r} is a {values.ndim}-D wave; discover reads 1-D sweeps.")
    unit = b"".join(header["dataUnits"]).decode("ascii", "replace") if "dataUnits" in header else ""
    unit = unit or wave.get("data_units", b"").decode("ascii", "replace")
    if not unit:
        raise DataError(f"{str(path)!r} declares no data unit; discover cannot tell mV from V.")
    return values, float(header["sfA"][0]), canonical_unit(unit, f"wave {path.name}")


__all__ = ["read_igor"]
