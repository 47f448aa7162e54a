"""One error type for bad input: a one-line message naming the item and the fix.

The CLI prints `SabenchError`s as a single line (no traceback) and exits with code 2 (exit
code 1 is for a command that ran to the end without scoring everything; see harness/cli.py).
"""

from __future__ import annotations

import os


class SabenchError(Exception):
    """A user-facing error about one item.

    Args:
        item: what is wrong (a file path, prompt id, checkpoint, manifest row ...); a path is
            shown as its string.
        problem: what is wrong with it.
        fix: what the user should do about it.
    """

    recorded_failure: bool = False
    """Set by `harness.isolation` when this error's item failure is already recorded."""

    def __init__(self, item: str | os.PathLike[str], problem: str, fix: str = ""):
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
    """The command line is wrong: a bad option value, name or combination. Never recorded as
    an item failure: `--keep-going` does not skip past it."""


def describe(exc: BaseException) -> str:
    """One line for any exception: a SabenchError's own line, else "Type: first line"."""
    if isinstance(exc, SabenchError):
        return exc.one_line()
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


_PERMISSION_FIX = "make it readable (and writable, for outputs) by this user, or use another path"
_OS_PROBLEMS = {
    "ENOSPC": ("no space left on the device (disk full)",
               "free space or pass another --out, then rerun (completed work is kept)"),
    "EDQUOT": ("disk quota exceeded", "free space or pass another --out, then rerun (completed work is kept)"),
    "EACCES": ("permission denied", _PERMISSION_FIX),
    "EPERM": ("operation not permitted", _PERMISSION_FIX),
    "EROFS": ("is on a read-only file system", "pass a writable folder (e.g. --out /tmp/sabench-out)"),
    "ENOTDIR": ("a path component is a file, not a folder", "pass a folder path (e.g. --out with a new folder name)"),
    "EEXIST": ("exists and is a file, not a folder", "pass a folder path (e.g. --out with a new folder name)"),
    "EISDIR": ("is a folder, not a file", "pass the path of a file"),
    "ENOENT": ("not found", "check the path"),
    "EIO": ("input/output error", "check the disk, then rerun"),
}


def describe_os_error(exc: OSError, path: object = None) -> SabenchError:
    """An ordinary `OSError` (disk full, permission denied, read-only file system, a file
    where a folder is expected ...) as a one-line `SabenchError` naming the file and the fix.

    `path` names the item when the exception does not carry a file name. Meant for command
    top levels: `except OSError as exc: raise describe_os_error(exc) from None`.
    """
    import errno
    import os

    name = errno.errorcode.get(exc.errno or 0, "")
    item = exc.filename if exc.filename is not None else (path if path is not None else "sabench")
    base = os.path.basename(str(item))
    if base.startswith(".") and base.endswith(".tmp"):  # an atomic write's temp file: name its folder
        item = os.path.dirname(str(item)) or "."
    problem, fix = _OS_PROBLEMS.get(name, (exc.strerror or type(exc).__name__, "check the path and rerun"))
    if name == "EEXIST" and exc.filename is not None:
        from pathlib import Path

        if Path(exc.filename).is_dir():  # EEXIST on something else than a folder-vs-file clash
            problem, fix = (exc.strerror or "file exists", "remove it or use another path")
    return SabenchError(str(item), problem, fix)
