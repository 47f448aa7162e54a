"""What `fetch` shows: tqdm bars (per file and overall: bytes, rate, ETA) on a terminal, one
line per file otherwise, and the closing summary (fetched / already present / failed, bytes)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO


@dataclass(frozen=True)
class Outcome:
    """What happened to one file."""

    relpath: str
    status: str
    """"fetched", "present" (already there and verified or kept) or "failed"."""
    nbytes: int = 0
    """Bytes downloaded (fetched) or on disk (present)."""
    detail: str = ""
    """Where it came from (fetched), why it was kept (present), or the one-line reason (failed)."""


def human(n: float | None) -> str:
    if n is None:
        return "? B"
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000.0
    return f"{n:.1f} GB"


class Display:
    """Progress for one fetch command. `bars=True` draws tqdm bars; else one line per file."""

    def __init__(self, n_files: int, total_hint: int | None, bars: bool, quiet: bool = False,
                 stream: TextIO | None = None):
        self.bars, self.quiet, self.stream = bars and not quiet, quiet, stream or sys.stderr
        self.n_files, self.done = n_files, 0
        self._file_bar: Any = None
        self._overall: Any = None
        self._t0 = time.monotonic()
        self._file_bytes = 0
        if self.bars:
            from tqdm.auto import tqdm

            self._overall = tqdm(total=total_hint, unit="B", unit_scale=True, desc=f"overall 0/{n_files}",
                                 position=0, dynamic_ncols=True, file=self.stream)

    # -- one file
    def begin(self, relpath: str) -> None:
        self._t0, self._file_bytes = time.monotonic(), 0
        if self.bars:
            from tqdm.auto import tqdm

            self._file_bar = tqdm(total=None, unit="B", unit_scale=True, desc=relpath[-48:], position=1,
                                  leave=False, dynamic_ncols=True, file=self.stream)

    def set_total(self, total: int | None, have: int = 0) -> None:
        """The current file's size when the server says it; `have` bytes were already there."""
        if self._file_bar is not None and total is not None:
            self._file_bar.total = total
            self._file_bar.n = have
            self._file_bar.refresh()

    def advance(self, n: int) -> None:
        self._file_bytes += n
        if self._file_bar is not None:
            self._file_bar.update(n)
        if self._overall is not None:
            self._overall.update(n)

    def end(self, outcome: Outcome) -> None:
        self.done += 1
        if self._file_bar is not None:
            self._file_bar.close()
            self._file_bar = None
        if self._overall is not None:
            self._overall.set_description(f"overall {self.done}/{self.n_files}")
        if self.quiet:
            return
        seconds = max(time.monotonic() - self._t0, 1e-6)
        extra = f", {human(self._file_bytes / seconds)}/s" if outcome.status == "fetched" and self._file_bytes else ""
        size = f" ({human(outcome.nbytes)}{extra})" if outcome.nbytes else ""
        line = f"[{self.done}/{self.n_files}] {outcome.status:<7} {outcome.relpath}{size}"
        line += f": {outcome.detail}" if outcome.detail else ""
        self._write(line)

    def _write(self, line: str) -> None:
        if self._overall is not None:
            self._overall.write(line, file=self.stream)
        else:
            print(line, file=self.stream, flush=True)

    def close(self) -> None:
        if self._overall is not None:
            self._overall.close()
            self._overall = None

    def hub_bar_class(self) -> type:
        """A tqdm-compatible class for `huggingface_hub` that feeds this display."""
        display = self

        class _HubBar:
            def __init__(self, *args: Any, total: int | None = None, initial: int = 0, **kwargs: Any):
                display.set_total(total, initial)

            def update(self, n: int = 1) -> None:
                if n > 0:
                    display.advance(n)

            def close(self) -> None:
                pass

            def __enter__(self) -> _HubBar:
                return self

            def __exit__(self, *exc: Any) -> None:
                self.close()

        return _HubBar


def summary(outcomes: list[Outcome], echo: Callable[[str], None], what: str = "weights") -> None:
    """The closing lines: counts, bytes downloaded, and every failure with its reason."""
    fetched = [o for o in outcomes if o.status == "fetched"]
    present = [o for o in outcomes if o.status == "present"]
    failed = [o for o in outcomes if o.status == "failed"]
    got = sum(o.nbytes for o in fetched)
    echo(f"{what} fetch: {len(fetched)} fetched ({human(got)}), {len(present)} already present, "
         f"{len(failed)} failed; {human(got)} downloaded")
    for o in failed:
        echo(f"  failed {o.relpath}: {o.detail}")


__all__ = ["Outcome", "Display", "summary", "human"]
