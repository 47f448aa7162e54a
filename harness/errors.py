"""One error type for bad input: a one-line message naming the item and the fix.

The CLI prints `SabenchError`s as a single line (no traceback). Exit codes: a `UsageError`
(or an unknown name: `RegistryError`) means the command line itself is wrong -> 2; any other
`SabenchError` means the command was understood but could not score everything -> 1.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator


class SabenchError(Exception):
    """A user-facing error about one item.

    Args:
        item: what is wrong (a file path, prompt id, checkpoint, manifest row ...).
        problem: what is wrong with it.
        fix: what the user should do about it.
    """

    def __init__(self, item: str, problem: str, fix: str = ""):
        self.item = str(item)
        self.problem = problem
        self.fix = fix
        super().__init__(self.one_line())

    def one_line(self) -> str:
        msg = f"{self.item}: {self.problem}"
        return f"{msg} (fix: {self.fix})" if self.fix else msg


class AudioError(SabenchError):
    """Unreadable, empty, non-finite or unsupported audio."""


class ManifestError(SabenchError):
    """Malformed manifest, duplicate or missing ids, paths escaping the data root."""


class WeightsError(SabenchError):
    """Missing, corrupt or mismatched checkpoint files."""


class CapabilityError(SabenchError):
    """A system was asked for something it cannot do (e.g. edit on a text-only system)."""


class RegistryError(SabenchError):
    """Unknown registry name."""


class UsageError(SabenchError):
    """The command line is wrong: a bad option value, name or combination (CLI exit code 2)."""


@contextmanager
def as_usage_errors() -> Iterator[None]:
    """Inside: resolving what the command line names (suites, jobs, systems, options); any
    `SabenchError` raised there is re-raised as a `UsageError` (the same one line)."""
    try:
        yield
    except UsageError:
        raise
    except SabenchError as exc:
        raise UsageError(exc.item, exc.problem, exc.fix) from exc


def describe(exc: BaseException) -> str:
    """One line for any exception: a SabenchError's own line, else "Type: first line"."""
    if isinstance(exc, SabenchError):
        return exc.one_line()
    return f"{type(exc).__name__}: {exc}".splitlines()[0]
