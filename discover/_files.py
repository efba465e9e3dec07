"""Files written whole: a temporary sibling renamed over the target, with the mode a new file would get."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write(path: Path, text: str) -> Path:
    """Write `text` to `path` whole: a temporary sibling, then renamed over it. The file gets the
    mode any tool gives a new file (0666 less the umask), not mkstemp's private 0600."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    os.fchmod(fd, 0o666 & ~umask())
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)
    return path


def umask() -> int:
    """The process's umask, read without changing it where the system says it (Linux), since
    setting it to read it races with other threads creating files."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
