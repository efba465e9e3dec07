"""One entry point for every recording format, chosen by file suffix."""

from __future__ import annotations

import glob
from collections.abc import Mapping
from pathlib import Path

from .._errors import DataError
from ._abf import read_abf
from ._igor import read_igor
from ._nwb import read_nwb
from ._recording import Recording
from ._tabular import read_csv, read_npz

FORMATS = (".nwb", ".abf", ".ibw", ".csv", ".npz")


def read_recording(
    path: str | Path, *, current: str | Path | None = None, units: Mapping[str, str] | None = None,
    time_unit: str | None = None, channel: int = 0, current_channel: int | None = None,
) -> Recording:
    """Read a current-clamp recording: NWB, ABF, Igor .ibw, CSV or NPZ (by suffix).

    - `.ibw`: `path` and `current` are glob patterns for the voltage and current waves, sorted
      so the k-th of each is sweep k.
    - `.npz` without stored units: give `units` and `time_unit`.
    - `.abf`: `channel` picks the ADC channel of the voltage; `current_channel` the one of a recorded
      current (default: the command waveform of the protocol).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise DataError(f"cannot tell the format of {str(path)!r} from its suffix {suffix!r}; discover reads "
                        f"{', '.join(FORMATS)}.")
    if suffix == ".ibw":
        if current is None:
            raise DataError(f"Igor waves hold one channel each: give `current`, a pattern for the current waves "
                            f"that go with {str(path)!r}.")
        voltage_files, current_files = sorted(glob.glob(str(path))), sorted(glob.glob(str(current)))
        if not voltage_files:
            raise DataError(f"no Igor wave matches {str(path)!r}; check the path.")
        return read_igor(voltage_files, current_files)
    if not path.is_file():
        raise DataError(f"recording {str(path)!r} does not exist; check the path (relative paths start at the config "
                        "file).")
    if suffix == ".nwb":
        return read_nwb(path)
    if suffix == ".abf":
        return read_abf(path, channel=channel, current_channel=current_channel)
    if suffix == ".csv":
        return read_csv(path)
    return read_npz(path, units=units, time_unit=time_unit)


__all__ = ["FORMATS", "read_recording"]
