"""NWB (Neurodata Without Borders) current-clamp files: read with pynwb, and write."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .._errors import DataError, sentence
from ._recording import Recording, pad_nan


def read_nwb(path: str | Path) -> Recording:
    """Every CurrentClampSeries in the file's acquisition as one sweep of `V` (mV), paired by
    sweep number (or, failing that, by order) with its CurrentClampStimulusSeries as `I` (pA).

    Values are taken in SI units through each series' `conversion` and `offset`, so files that
    store integers or millivolts read the same.
    """
    pynwb = _import()
    try:
        with pynwb.NWBHDF5IO(str(path), "r", load_namespaces=True) as io:
            nwb = io.read()
            responses = [s for s in nwb.acquisition.values() if isinstance(s, pynwb.icephys.CurrentClampSeries)]
            stimuli = [s for s in nwb.stimulus.values() if isinstance(s, pynwb.icephys.CurrentClampStimulusSeries)]
            if not responses:
                kinds = sorted({type(s).__name__ for s in nwb.acquisition.values()}) or ["nothing"]
                raise DataError(
                    f"{str(path)!r} holds no CurrentClampSeries in its acquisition (found {', '.join(kinds)}); "
                    "discover reads current-clamp recordings."
                )
            voltages = [_values(s) for s in responses]
            rate, start = _timing(responses[0], path)
            currents = [_values(_stimulus_for(r, k, stimuli, len(responses), path)) for k, r in enumerate(responses)]
            # write_nwb names responses V_<label>; other files keep their series names
            labels = tuple(r.name[2:] if r.name.startswith("V_") else r.name for r in responses)
            meta = {"file": str(path), "format": "NWB", "identifier": nwb.identifier,
                    "session_description": nwb.session_description}
    except DataError:
        raise
    except Exception as exc:  # h5py/hdmf raise many kinds for unreadable files
        raise DataError(sentence(f"cannot read {str(path)!r} as NWB: {type(exc).__name__}: {exc}")) from None
    n = max(len(v) for v in (*voltages, *currents))
    if len({len(v) for v in (*voltages, *currents)}) > 1:
        meta["note"] = f"sweeps of unequal length were NaN-padded to the longest ({n} samples)"
    t = start + np.arange(n) / rate
    # padded, not cut: which sweeps are used is chosen later, and `Recording.finite` cuts then
    signals = {"V": np.stack([pad_nan(v, n) for v in voltages]) * 1e3,
               "I": np.stack([pad_nan(i, n) for i in currents]) * 1e12}
    return Recording(t, signals, {"V": "mV", "I": "pA"}, "s", labels, meta)


def write_nwb(recording: Recording, path: str | Path, *, voltage: str = "V", current: str = "I",
              overwrite: bool = False) -> Path:
    """Write `recording` as NWB: one CurrentClampSeries (volts) per sweep with its
    CurrentClampStimulusSeries (amperes), linked in the intracellular-recordings table."""
    pynwb = _import()
    path = Path(path)
    if path.exists() and not overwrite:
        raise DataError(f"{str(path)!r} exists; pass overwrite=True to replace it, or choose another name.")
    rec = recording.in_units("s", **{voltage: "V", current: "A"})
    nwb = pynwb.NWBFile(
        session_description=str(rec.metadata.get("session_description", "written by discover")),
        identifier=str(rec.metadata.get("identifier", path.stem)),
        session_start_time=datetime(1970, 1, 1, tzinfo=timezone.utc),
    )
    electrode = nwb.create_icephys_electrode(name="electrode", description="recording electrode",
                                             device=nwb.create_device(name="amplifier"))
    rate, start = 1.0 / rec.dt, float(rec.t[0])
    for k, label in enumerate(rec.sweeps):
        common = {"electrode": electrode, "gain": 1.0, "rate": rate, "starting_time": start,
                  "sweep_number": np.uint32(k)}
        response = pynwb.icephys.CurrentClampSeries(name=f"V_{label}", data=rec.signals[voltage][k], **common)
        stimulus = pynwb.icephys.CurrentClampStimulusSeries(name=f"I_{label}", data=rec.signals[current][k], **common)
        nwb.add_intracellular_recording(electrode=electrode, stimulus=stimulus, response=response)
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path


def _values(series) -> np.ndarray:
    return np.asarray(series.data[:], dtype=float) * series.conversion + getattr(series, "offset", 0.0)


def _timing(series, path) -> tuple[float, float]:
    if series.rate is None:
        raise DataError(f"{str(path)!r}: series {series.name!r} has timestamps, not a sampling rate; discover "
                        "needs uniformly sampled sweeps.")
    return float(series.rate), float(series.starting_time or 0.0)


def _stimulus_for(response, k: int, stimuli: list, n_responses: int, path):
    if response.sweep_number is not None:
        same = [s for s in stimuli if s.sweep_number == response.sweep_number]
        if len(same) == 1:
            return same[0]
    if len(stimuli) == n_responses:  # no usable sweep numbers: pair in order
        return stimuli[k]
    raise DataError(
        f"{str(path)!r}: no CurrentClampStimulusSeries for response {response.name!r} (sweep "
        f"{response.sweep_number}); discover needs the injected current of every sweep."
    )


def _import():
    try:
        import pynwb
        import pynwb.icephys  # noqa: F401
    except ImportError:  # pragma: no cover - a dependency
        raise DataError("reading NWB files needs pynwb: pip install pynwb") from None
    return pynwb


__all__ = ["read_nwb", "write_nwb"]
