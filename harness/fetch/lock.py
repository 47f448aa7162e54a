"""`weights.lock`: what `sabench weights fetch` put into the weights directory.

A JSON file at `<weights>/weights.lock`, written atomically (temp + rename) after each file
is installed (trust on first use):

    {"format": "sabench-weights-lock/1",
     "files": {"<relpath>": {"source": "hub" | "url", "repo": ..., "file": ..., "revision":
               "<commit served>", "url": ..., "size": <bytes>, "sha256": "<hex>",
               "fetched": "<UTC time>"}}}

`sabench doctor` checks every locked file's size and sha256 (`verify`); every run records the
lock file's own sha256 in its environment (`lock_sha256`), so a result names the exact
weights directory it was computed with.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from harness.errors import SabenchError

LOCK_NAME = "weights.lock"
FORMAT = "sabench-weights-lock/1"


@dataclass(frozen=True)
class LockEntry:
    """One fetched file."""

    source: str
    """"hub" or "url"."""
    size: int
    sha256: str
    repo: str | None = None
    file: str | None = None
    revision: str | None = None
    """For hub files: the commit actually served (X-Repo-Commit)."""
    url: str | None = None
    fetched: str = ""

    def where(self) -> str:
        return f"hub {self.repo}: {self.file} @ {self.revision}" if self.source == "hub" else str(self.url)


def lock_path(root: str | os.PathLike) -> Path:
    return Path(root) / LOCK_NAME


def read_lock(root: str | os.PathLike) -> dict[str, LockEntry]:
    """relpath -> entry; {} when there is no lock file. A malformed lock is a one-line error."""
    path = lock_path(root)
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("files"), dict):
            raise ValueError(f"not a {FORMAT} file")
        fields = set(LockEntry.__dataclass_fields__)
        return {rel: LockEntry(**{k: v for k, v in e.items() if k in fields}) for rel, e in data["files"].items()}
    except (ValueError, TypeError, AttributeError, UnicodeDecodeError) as exc:
        raise SabenchError(str(path), f"unreadable lock file ({str(exc).splitlines()[0][:120]})",
                           "restore it, or delete it and run `sabench weights fetch` again") from None


def write_lock(root: str | os.PathLike, entries: dict[str, LockEntry]) -> Path:
    """Write the lock atomically (sorted keys: the same files give the same bytes)."""
    path = lock_path(root)
    body = {"format": FORMAT, "files": {rel: {k: v for k, v in asdict(e).items() if v is not None}
                                        for rel, e in sorted(entries.items())}}
    text = json.dumps(body, indent=1, sort_keys=True) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=".weights.lock.", suffix=".tmp", dir=str(path.parent))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def record(root: str | os.PathLike, relpath: str, entry: LockEntry) -> None:
    """Add or replace one entry (read-modify-write of the whole lock)."""
    entries = read_lock(root)
    entries[relpath] = entry
    write_lock(root, entries)


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def lock_sha256(root: str | os.PathLike | None = None) -> str:
    """sha256 of `<weights>/weights.lock` ("none" without a lock or a weights directory).

    `root` defaults to `--weights` / `$SABENCH_WEIGHTS`; recorded in every run's environment.
    """
    if root is None:
        from harness.paths import weights_root

        root = weights_root(None)
    if root is None or not lock_path(root).is_file():
        return "none"
    from harness.hashing import sha256_file

    return sha256_file(lock_path(root))


def verify(root: str | os.PathLike, relpath: str, entry: LockEntry, full: bool = True) -> str:
    """"verified", "missing", "lock-mismatch: ..." for one locked file (`full=False`: size only)."""
    path = Path(root) / relpath
    if not path.is_file():
        return "missing"
    size = path.stat().st_size
    if size != entry.size:
        return f"lock-mismatch: {size} bytes, weights.lock says {entry.size}"
    if full:
        from harness.hashing import sha256_file

        digest = sha256_file(path)
        if digest != entry.sha256:
            return f"lock-mismatch: sha256 {digest[:12]}..., weights.lock says {entry.sha256[:12]}..."
    return "verified" if full else "size-ok"


def entry_dict(entry: LockEntry) -> dict[str, Any]:
    return {k: v for k, v in asdict(entry).items() if v is not None}


__all__ = ["LOCK_NAME", "LockEntry", "read_lock", "write_lock", "record", "lock_sha256", "verify", "lock_path", "now"]
