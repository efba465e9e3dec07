"""Recordings from disk (NWB, ABF, Igor, CSV, NPZ) into one `Recording` type, and back out."""

from ._abf import read_abf as read_abf
from ._igor import read_igor as read_igor
from ._nwb import read_nwb as read_nwb, write_nwb as write_nwb
from ._read import FORMATS as FORMATS, read_recording as read_recording
from ._recording import (
    UNITS as UNITS,
    MissingUnitsError as MissingUnitsError,
    Recording as Recording,
    canonical_unit as canonical_unit,
    conversion as conversion,
)
from ._tabular import read_csv as read_csv, read_npz as read_npz, write_npz as write_npz

__all__ = [
    "FORMATS", "UNITS", "MissingUnitsError", "Recording", "canonical_unit", "conversion", "read_abf", "read_csv",
    "read_igor", "read_npz", "read_nwb", "read_recording", "write_npz", "write_nwb",
]
