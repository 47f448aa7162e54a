"""The results store's SQLite connection: one-line errors instead of tracebacks.

- `connect(database, path, uri=False)`: an SQLite connection whose cursors turn every
  sqlite error (once `conn.translate` is set, i.e. after opening) into a one-line
  `SabenchError` naming the store file and the fix (`store_error`): corrupt, truncated or
  non-database files, disk full, read-only files/folders/mounts, locks.
- `refuse_folder(path)`: a folder where the store file should be is a one-line error.

"locked"/"busy" errors stay sqlite errors so that the store's retry loop can retry them.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from harness.errors import SabenchError

BUSY_TIMEOUT_MS = 60_000


def refuse_folder(path: Path) -> None:
    if path.is_dir():
        raise SabenchError(str(path), "is a folder, not a results store file",
                           "move the folder away, or pass the run folder that holds results.sqlite")


def store_error(path: Path, exc: sqlite3.Error) -> SabenchError:
    """An SQLite error on the results store as one line naming the file and the fix."""
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    low = msg.lower()
    if "full" in low:
        return SabenchError(str(path), f"disk full while writing the results store ({msg})",
                            "free space (or pass another --out) and rerun: completed work is kept")
    if "readonly" in low or "read-only" in low:
        return SabenchError(str(path), f"cannot be written: read-only file, folder or mount ({msg})",
                            "pass a writable --out (`report` and `gate` only read it)")
    if "unable to open" in low:
        return SabenchError(str(path), f"cannot be opened: missing, unreadable or in a read-only folder ({msg})",
                            "check the path and its permissions, or pass a writable --out")
    if "not a database" in low or "malformed" in low or "no such table" in low or "corrupt" in low:
        return SabenchError(str(path), f"is corrupt, truncated or not a sabench results store ({msg})",
                            "move it away (keep a copy) and rerun, or pass another --out")
    if "locked" in low or "busy" in low:
        return SabenchError(str(path), f"is locked by another process ({msg})",
                            "wait for the other sabench process to finish, then rerun")
    if "disk i/o" in low:
        return SabenchError(str(path), f"disk I/O error ({msg})", "check the disk and free space, then rerun")
    return SabenchError(str(path), f"results store error ({type(exc).__name__}: {msg})",
                        "move the file away and rerun, or pass another --out")


def _translating(cursor_method):
    """Run a cursor method; sqlite errors become `store_error`s once the store is open
    ("locked"/"busy" stay sqlite errors so that `_retry` can retry them)."""
    def method(self, *args):
        try:
            return cursor_method(self, *args)
        except sqlite3.Error as exc:
            conn = self.connection
            text = str(exc)
            if not getattr(conn, "translate", False) or "locked" in text or "busy" in text:
                raise
            raise store_error(conn.sabench_path, exc) from None
    return method


class _Cursor(sqlite3.Cursor):
    execute = _translating(sqlite3.Cursor.execute)
    executemany = _translating(sqlite3.Cursor.executemany)
    fetchone = _translating(sqlite3.Cursor.fetchone)
    fetchall = _translating(sqlite3.Cursor.fetchall)
    fetchmany = _translating(sqlite3.Cursor.fetchmany)
    __next__ = _translating(sqlite3.Cursor.__next__)


class _Connection(sqlite3.Connection):
    """A connection whose cursors turn sqlite errors into one-line `SabenchError`s."""

    sabench_path: Path
    translate = False

    def execute(self, sql, parameters=()):
        return self.cursor(_Cursor).execute(sql, parameters)

    def executemany(self, sql, seq_of_parameters):
        return self.cursor(_Cursor).executemany(sql, seq_of_parameters)


StoreConnection = _Connection
"""The connection type `connect` returns (for annotations)."""


def connect(database: str, path: Path, uri: bool = False) -> _Connection:
    conn = sqlite3.connect(database, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                           factory=_Connection, uri=uri)
    conn.sabench_path = path
    return conn


__all__ = ["StoreConnection", "connect", "refuse_folder", "store_error"]
