"""Progress a user can see, without flooding logs.

- On a terminal (stderr is a TTY): a tqdm bar counting *items* (a batch of 8 clips advances
  it by 8: pass `size=len` when iterating over batches).
- Not a terminal (CI logs, pipes): one plain line now and then, `desc: 120/957 (13%) 2.4/s
  ETA 5m49s`, at most every `STEP` of the total and at least every `PERIOD_S` seconds, never
  more often than `MIN_GAP_S`; a loop that finishes within `MIN_GAP_S` prints nothing.
- `--quiet` (`set_quiet(True)`, done by the CLI) or `show=False`: nothing; the iterable is
  returned unchanged, so callers never branch on it.

Warnings: `format_warning` is what the CLI installs as `warnings.formatwarning`: sabench's
own warnings read `sabench: warning: ...`; a third-party library's keep their category and
origin (`DeprecationWarning (librosa/core/intervals.py:15): ...`) so they are never mistaken
for sabench's.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO, TypeVar

T = TypeVar("T")

PERIOD_S = 30.0
"""Non-terminal output: a line at least this often while work goes on."""
STEP = 0.10
"""Non-terminal output: a line after each such fraction of the total ..."""
MIN_GAP_S = 5.0
"""... but never two lines closer than this (fast loops stay silent)."""

_quiet = False


def set_quiet(quiet: bool) -> None:
    """`--quiet`: no bars, no progress lines, no status notes (errors still print)."""
    global _quiet
    _quiet = bool(quiet)


def enabled(requested: bool = True) -> bool:
    """True when a *bar* should be drawn: requested, not quiet, and stderr is a terminal."""
    return bool(requested) and not _quiet and _is_tty(sys.stderr)


def _is_tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or replaced stream
        return False


def progress(iterable: Iterable[T], *, total: int | None = None, desc: str = "", show: bool = True,
             size: Callable[[T], int] | None = None) -> Iterable[T]:
    """`iterable`, reporting progress as the consumer goes through it (see the module doc).

    Args:
        total: number of items (default `len(iterable)` when it has one).
        size: items each element stands for (e.g. `len` for batches); default 1.
    """
    if not show or _quiet:
        return iterable
    if total is None:
        total = _items(iterable, size)
    if _is_tty(sys.stderr):
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc=desc, leave=False, dynamic_ncols=True, unit="item")
        return _counting(iterable, bar.update, bar.close, size)
    log = LogProgress(desc, total)
    return _counting(iterable, log.update, log.close, size)


def _items(iterable: Any, size: Callable[[Any], int] | None) -> int | None:
    try:
        return sum(size(x) for x in iterable) if size is not None else len(iterable)
    except TypeError:  # a generator: no total known
        return None


def _counting(iterable: Iterable[T], update: Callable[[int], Any], close: Callable[[], Any],
              size: Callable[[T], int] | None) -> Iterator[T]:
    """Yield each element; count it once the consumer has finished with it."""
    try:
        for x in iterable:
            yield x
            update(size(x) if size is not None else 1)
    finally:
        close()


class LogProgress:
    """Plain progress lines for logs: count, rate and ETA (see the module doc for when)."""

    def __init__(self, desc: str, total: int | None, *, out: TextIO | None = None,
                 clock: Callable[[], float] | None = None):
        self.desc, self.total, self.out = desc or "progress", total, out
        self.clock = clock or time.monotonic
        self.start = self.last_time = self.clock()
        self.done = self.last_done = 0
        self.lines = 0

    def update(self, n: int = 1) -> None:
        self.done += n
        now = self.clock()
        gap = now - self.last_time
        step = self.total and (self.done - self.last_done) >= STEP * self.total
        if gap >= PERIOD_S or (step and gap >= MIN_GAP_S) or (self.done == self.total and self.lines):
            self._line(now)

    def close(self) -> None:
        if self.lines and self.done != self.last_done:
            self._line(self.clock())

    def _line(self, now: float) -> None:
        elapsed = max(now - self.start, 1e-9)
        rate = self.done / elapsed
        text = f"{self.desc}: {self.done}"
        if self.total:
            text += f"/{self.total} ({100 * self.done / self.total:.0f}%)"
        text += f" {rate:.3g}/s"
        if self.total and rate > 0 and self.done < self.total:
            text += f" ETA {_duration((self.total - self.done) / rate)}"
        print(text, file=self.out or sys.stderr, flush=True)
        self.last_time, self.last_done, self.lines = now, self.done, self.lines + 1


def _duration(seconds: float) -> str:
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}h{m:02d}m" if h else (f"{m}m{s:02d}s" if m else f"{s}s")


def note(message: str, *, show: bool = True) -> None:
    """A one-line status message on stderr (suppressed by --quiet)."""
    if show and not _quiet:
        print(message, file=sys.stderr, flush=True)


_OURS = tuple(str(Path(__file__).resolve().parents[1] / d) + "/" for d in ("harness", "systems", "suites", "reports"))


def format_warning(message: Any, category: type, filename: str, lineno: int, line: str | None = None) -> str:
    """One line per warning: `sabench: warning: ...` only for sabench's own code."""
    text = str(message).strip().splitlines()[0] if str(message).strip() else ""
    try:
        path = str(Path(filename).resolve())
    except (OSError, ValueError):
        path = str(filename)
    if path.startswith(_OURS):
        return f"sabench: warning: {text}\n"
    where = "/".join(Path(filename).parts[-3:])
    return f"{category.__name__} ({where}:{lineno}): {text}\n"


__all__ = ["progress", "enabled", "note", "set_quiet", "format_warning", "LogProgress"]
