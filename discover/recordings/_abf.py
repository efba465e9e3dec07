"""Axon Binary Format (ABF1/ABF2) files, read with pyabf."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._errors import DataError
from ._recording import Recording, canonical_unit


def read_abf(path: str | Path, *, channel: int = 0) -> Recording:
    """Every sweep of ADC `channel` as `V` and the amplifier command waveform pyabf reconstructs
    from the protocol as `I`, in the units the file declares (usually mV and pA).

    The command is what was asked of the amplifier, not a measured current; the metadata say so.
    """
    try:
        import pyabf
    except ImportError:  # pragma: no cover - a dependency
        raise DataError("reading ABF files needs pyabf: pip install pyabf") from None
    try:
        abf = pyabf.ABF(str(path))
    except Exception as exc:  # pyabf raises bare Exceptions for bad headers
        raise DataError(f"cannot read {str(path)!r} as ABF: {type(exc).__name__}: {exc}.") from None
    if not 0 <= channel < abf.channelCount:
        raise DataError(f"ABF `channel` = {channel} but {str(path)!r} has {abf.channelCount} channel(s) "
                        f"({', '.join(abf.adcNames)}); use 0..{abf.channelCount - 1}.")
    V, I = [], []
    for sweep in abf.sweepList:
        abf.setSweep(sweep, channel=channel)
        V.append(np.array(abf.sweepY, dtype=float))
        I.append(np.array(abf.sweepC, dtype=float))
    units = {"V": canonical_unit(abf.sweepUnitsY, f"ABF channel {channel}"),
             "I": canonical_unit(abf.sweepUnitsC, f"ABF command of channel {channel}")}
    if units["V"] not in ("V", "mV", "uV"):
        raise DataError(f"{str(path)!r} channel {channel} records {abf.sweepUnitsY!r}, not a voltage: it is not a "
                        "current-clamp recording (voltage-clamp data record current).")
    meta = {"file": str(path), "format": f"ABF {abf.abfVersionString}", "protocol": abf.protocol,
            "channel": abf.adcNames[channel], "current": "command waveform from the protocol, not measured"}
    t = np.arange(len(V[0])) / abf.dataRate
    return Recording(t, {"V": np.stack(V), "I": np.stack(I)}, units, "s",
                     tuple(f"sweep{s}" for s in abf.sweepList), meta)


__all__ = ["read_abf"]
