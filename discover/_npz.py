"""Reading .npz files safely: the one opener for saved `Trajectories`, recordings and population counts."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ._errors import DataError

# What numpy and zipfile raise for a damaged archive: EOFError for an empty or cut member,
# BadZipFile for a truncated or corrupt archive (also while reading a member: a bad CRC),
# TypeError for a bare .npy, OSError/ValueError for the rest.
_NPZ_ERRORS = (OSError, ValueError, EOFError, TypeError, zipfile.BadZipFile)


@contextmanager
def open_npz(path: str | Path) -> Iterator[np.lib.npyio.NpzFile]:
    """The one way discover opens an .npz (saved `Trajectories`, recordings, reader detection):
    never unpickles, and turns every failure to read it, while opening or while reading its
    arrays in the `with` block, into one `DataError` naming the file."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"data file {str(path)!r} does not exist; check the path (relative paths start at the "
                        "config file).")
    check_npz(path)
    try:
        with np.load(path, allow_pickle=False) as f:
            yield f
    except DataError:
        raise
    except _NPZ_ERRORS as exc:
        raise DataError(f"cannot read {str(path)!r} as .npz ({type(exc).__name__}: {exc}); the file is damaged "
                        "or truncated: copy it again, or write it again with numpy.savez.") from None


def npz_names(path: str | Path) -> list[str]:
    """The array names of an .npz, read as `open_npz` reads it."""
    with open_npz(path) as f:
        return list(f.files)


def check_npz(path: Path) -> None:
    """Refuse a file that is not a zip archive before numpy guesses at it (its message for a
    random file is about pickles, which would mislead: we never unpickle)."""
    if not zipfile.is_zipfile(path):
        raise DataError(f"{str(path)!r} is not an .npz archive (a zip of arrays, as numpy.savez and save_npz "
                        "write); check the file, or convert it with numpy.savez.")
