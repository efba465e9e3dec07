"""Axon Binary Format (ABF1/ABF2) files, read with pyabf."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._errors import DataError, sentence
from ._recording import Recording, canonical_unit


def read_abf(path: str | Path, *, channel: int = 0, current_channel: int | None = None) -> Recording:
    """Every sweep of ADC `channel` as `V`, and as `I` either the amplifier command waveform pyabf
    reconstructs from the protocol (default) or the current recorded on ADC `current_channel`, in
    the units the file declares (usually mV and pA).

    The command is what was asked of the amplifier, not a measured current; the metadata say which
    one `I` is. A recorded current is what noise-current protocols need (their command is often a
    file the protocol does not describe). Channel *labels* are not trusted (some rigs swap them);
    units are: `channel` must record a voltage and `current_channel` a current.
    """
    try:
        import pyabf
    except ImportError:  # pragma: no cover - a dependency
        raise DataError("reading ABF files needs pyabf: pip install pyabf") from None
    try:
        abf = pyabf.ABF(str(path))
    except Exception as exc:  # pyabf raises bare Exceptions for bad headers
        raise DataError(sentence(f"cannot read {str(path)!r} as ABF: {type(exc).__name__}: {exc}")) from None
    if not 0 <= channel < abf.channelCount:
        raise DataError(f"ABF `channel` = {channel} but {str(path)!r} has {abf.channelCount} channel(s) "
                        f"({', '.join(abf.adcNames)}); use 0..{abf.channelCount - 1}.")
    if current_channel is not None and not 0 <= current_channel < abf.channelCount:
        raise DataError(f"ABF `current_channel` = {current_channel} but {str(path)!r} has {abf.channelCount} "
                        f"channel(s) ({', '.join(abf.adcNames)}); use 0..{abf.channelCount - 1}, or leave it out "
                        "to use the command waveform.")
    voltages, currents = [], []
    for sweep in abf.sweepList:
        abf.setSweep(sweep, channel=channel)
        voltages.append(np.array(abf.sweepY, dtype=float))
        if current_channel is None:
            currents.append(np.array(abf.sweepC, dtype=float))
            current_unit, where = abf.sweepUnitsC, f"ABF command of channel {channel}"
        else:
            abf.setSweep(sweep, channel=current_channel)
            currents.append(np.array(abf.sweepY, dtype=float))
            current_unit, where = abf.sweepUnitsY, f"ABF channel {current_channel}"
    abf.setSweep(abf.sweepList[0], channel=channel)
    units = {"V": canonical_unit(abf.sweepUnitsY, f"ABF channel {channel}"), "I": canonical_unit(current_unit, where)}
    if units["V"] not in ("V", "mV", "uV"):
        raise DataError(f"{str(path)!r} channel {channel} records {abf.sweepUnitsY!r}, not a voltage: it is not a "
                        "current-clamp recording (voltage-clamp data record current), or the voltage is on another "
                        f"channel (this file has {abf.channelCount}: {', '.join(abf.adcNames)}).")
    if current_channel is not None and units["I"] not in ("A", "mA", "uA", "nA", "pA", "fA"):
        raise DataError(f"{str(path)!r} `current_channel` {current_channel} records {current_unit!r}, not a current; "
                        "choose the channel whose unit is pA or nA.")
    current = ("command waveform from the protocol, not measured" if current_channel is None
               else f"recorded on channel {current_channel} ({abf.adcNames[current_channel]})")
    meta = {"file": str(path), "format": f"ABF {abf.abfVersionString}", "protocol": abf.protocol,
            "channel": abf.adcNames[channel], "current": current}
    t = np.arange(len(voltages[0])) / abf.dataRate
    return Recording(t, {"V": np.stack(voltages), "I": np.stack(currents)}, units, "s",
                     tuple(f"sweep{s}" for s in abf.sweepList), meta)


__all__ = ["read_abf"]
