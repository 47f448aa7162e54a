"""Progress bars that stay out of the way: tqdm on an interactive terminal, nothing otherwise.

`--quiet`, a non-TTY stderr (CI logs, pipes) and `progress=False` all disable the bar; the
wrapped iterable is returned unchanged, so callers never branch on it.
"""

from __future__ import annotations

import sys
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")


def enabled(requested: bool = True) -> bool:
    """True when a bar should be drawn: requested and stderr is a terminal."""
    try:
        return bool(requested) and sys.stderr.isatty()
    except (AttributeError, ValueError):  # closed or replaced stderr
        return False


def progress(iterable: Iterable[T], *, total: int | None = None, desc: str = "",
             show: bool = True) -> Iterator[T] | Iterable[T]:
    """`iterable` wrapped in a tqdm bar when `enabled(show)`, else `iterable` itself."""
    if not enabled(show):
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, leave=False, dynamic_ncols=True)


def note(message: str, *, show: bool = True) -> None:
    """A one-line status message on stderr (suppressed by --quiet)."""
    if show:
        print(message, file=sys.stderr, flush=True)


__all__ = ["progress", "enabled", "note"]
