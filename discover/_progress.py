"""Progress of a run: a tqdm bar in a terminal, one line per stage with its elapsed time otherwise.

A run's stages (training, distillation's steps, validation) take seconds to minutes each. In a
terminal a bar shows the loop within a stage; when the output goes to a file or a pipe (a batch
job, `discover run ... > log`) bars print nothing useful, so each stage writes a line when it
starts and when it ends, and a long loop writes a line every `every` seconds. `--quiet` turns
both off.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

LINE_EVERY = 15.0
"""Seconds between the lines a long loop writes when the output is not a terminal."""


def _is_terminal(stream: IO[str]) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


@dataclass
class Progress:
    """Reports stages and loops of a run to `stream` (standard error by default)."""

    enabled: bool = True
    stream: IO[str] | None = None
    every: float = LINE_EVERY
    _start: float = field(default_factory=time.perf_counter, init=False)

    @property
    def out(self) -> IO[str]:
        return self.stream if self.stream is not None else sys.stderr

    @property
    def terminal(self) -> bool:
        return _is_terminal(self.out)

    def line(self, text: str) -> None:
        """One line stamped with the seconds since the run began (nothing when disabled)."""
        if self.enabled:
            print(f"[{time.perf_counter() - self._start:7.1f} s] {text}", file=self.out, flush=True)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """`with progress.stage("distilling dv/dt"):` — a line at the start and at the end with its duration."""
        began = time.perf_counter()
        self.line(f"{name} ...")
        yield
        self.line(f"{name}: done in {time.perf_counter() - began:.1f} s")

    def loop(self, iterable: Iterable[Any], desc: str, total: int | None = None) -> Any:
        """A tqdm bar over `iterable` in a terminal; elsewhere a line every `every` seconds and at the end.

        Either way the result iterates like `iterable` and has tqdm's `set_postfix(**values)` and `close()`.
        """
        if self.enabled and self.terminal:
            from tqdm.auto import tqdm

            return tqdm(iterable, desc=desc, total=total, leave=False, file=self.out)
        return _Lines(self, iterable, desc, total if total is not None else _length(iterable))


class _Lines:
    """A loop that writes a line every `progress.every` seconds and one when it ends (no terminal)."""

    def __init__(self, progress: Progress, iterable: Iterable[Any], desc: str, total: int | None) -> None:
        self.progress, self.iterable, self.desc, self.total = progress, iterable, desc, total
        self.postfix, self.count, self.began, self.closed = "", 0, time.perf_counter(), False

    def set_postfix(self, **values: Any) -> None:
        self.postfix = ", ".join(f"{k} {v}" for k, v in values.items())

    def _say(self, done: bool) -> None:
        of = f"/{self.total}" if self.total is not None else ""
        extra = f", {self.postfix}" if self.postfix else ""
        took = time.perf_counter() - self.began
        when = f"done in {took:.1f} s" if done else f"{took:.0f} s"
        self.progress.line(f"{self.desc}: {self.count}{of} ({when}{extra})")

    def __iter__(self) -> Iterator[Any]:
        last = time.perf_counter()
        for item in self.iterable:
            yield item
            self.count += 1
            if time.perf_counter() - last >= self.progress.every:
                self._say(done=False)
                last = time.perf_counter()
        self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._say(done=True)


def _length(iterable: Iterable[Any]) -> int | None:
    try:
        return len(iterable)  # type: ignore[arg-type]
    except TypeError:
        return None


QUIET = Progress(enabled=False)
"""A `Progress` that reports nothing (`--quiet`, `progress=False`)."""


def as_progress(progress: bool | Progress) -> Progress:
    """The `Progress` a `progress=` argument asks for: True reports to standard error, False nothing."""
    if isinstance(progress, Progress):
        return progress
    return Progress() if progress else QUIET
