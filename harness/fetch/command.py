"""`sabench weights fetch`: download the weights table's files into the documented layout.

For each selected file (`harness.fetch.sources.select`), in table order:

- present and its `weights.lock` entry verifies (size + sha256): kept, no request;
- present, not in the lock: kept as the user's file ("not fetched by sabench"); when the
  table pins a sha256 and it matches, it is recorded in the lock; `--force` replaces it;
- present but shorter/longer than locked, or unreadable (doctor's checks): corrupt, fetched again;
- present, same size, readable, different sha256 than locked: refused without `--force`
  (someone replaced it; sabench never silently overwrites it);
- missing: fetched into `<weights>/.fetch/` (hub: `huggingface_hub` local_dir mode at the
  locked commit, else the table's revision; URLs: resumable `requests` stream), verified
  against the table's pinned sha256, else the lock entry, else the hub's LFS sha256; checked
  the way `sabench doctor` reads it; then moved under its final name (atomic rename) and
  recorded in `weights.lock`.

`--dry-run` prints what would be fetched, from where, and the total size, without any network
access. Exit code 0 when every file is present afterwards, 1 when any failed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from harness.errors import SabenchError
from harness.fetch import FetchError, http, hub
from harness.fetch.display import Display, Outcome, human, summary
from harness.fetch.lock import LockEntry, now, read_lock, record
from harness.fetch.sources import Source, select, source_of
from harness.hashing import sha256_file
from harness.weights import WeightFile

STAGING = ".fetch"


@dataclass(frozen=True)
class FetchOptions:
    root: Path
    force: bool = False
    timeout: float = 30.0
    retries: int = 4
    backoff: float = 1.0


def _inspect(wf: WeightFile, path: Path) -> str:
    from harness.doctor_files import inspect

    return inspect(wf, path, full=False)


_BAD = ("corrupt", "unsafe", "wrong keys")


def local_state(wf: WeightFile, opts: FetchOptions, lock: dict[str, LockEntry]) -> tuple[str, str]:
    """(action, why): action "keep", "fetch" or "refuse" for the file as it is on disk."""
    path = opts.root / wf.relpath
    entry = lock.get(wf.relpath)
    if not path.is_file():
        return "fetch", "missing"
    if entry is not None:
        size = path.stat().st_size
        if size != entry.size:
            return "fetch", f"corrupt ({size} bytes, weights.lock says {entry.size})"
        if sha256_file(path) == entry.sha256:
            return "keep", "verified against weights.lock"
        status = _inspect(wf, path)
        if status.startswith(_BAD):
            return "fetch", status
        if opts.force:
            return "fetch", "differs from weights.lock, replaced (--force)"
        return "refuse", ("differs from weights.lock (same size, other sha256): not overwritten; "
                          "fix: pass --force to replace it with the published file, or restore it")
    if wf.sha256 is not None and sha256_file(path) == wf.sha256:
        return "keep", "verified against the pinned sha256"
    if opts.force:
        return "fetch", "not in weights.lock, replaced (--force)"
    return "keep", "present, not fetched by sabench (not in weights.lock; --force replaces it)"


def _partial_path(opts: FetchOptions, url: str, relpath: str) -> Path:
    tag = hashlib.sha256(url.encode()).hexdigest()[:16]
    return opts.root / STAGING / "partial" / f"{tag}-{Path(relpath).name}.part"


def _download(wf: WeightFile, src: Source, entry: LockEntry | None, opts: FetchOptions,
              display: Display) -> tuple[Path, LockEntry, str | None]:
    """Download into staging: (staged path, lock entry to record, sha256 the source vouches for)."""
    if src.repo:
        revision = entry.revision if entry is not None and entry.source == "hub" and entry.repo == src.repo else None
        got = hub.download(src, opts.root / STAGING / "hub" / src.repo, item=wf.relpath, revision=revision,
                           timeout=opts.timeout, tqdm_class=display.hub_bar_class())
        digest = sha256_file(got.path)
        vouched = got.etag if got.etag and re.fullmatch(r"[0-9a-f]{64}", got.etag) else None
        new = LockEntry("hub", got.size, digest, repo=src.repo, file=src.file, revision=got.commit, fetched=now())
        return got.path, new, vouched
    part = _partial_path(opts, str(src.url), wf.relpath)
    http.download(str(src.url), part, item=wf.relpath,
                  options=http.HttpOptions(opts.timeout, opts.retries, opts.backoff),
                  on_bytes=display.advance, on_total=display.set_total)
    new = LockEntry("url", part.stat().st_size, sha256_file(part), url=src.url, fetched=now())
    return part, new, None


def _expected(wf: WeightFile, entry: LockEntry | None, vouched: str | None, force: bool) -> tuple[str | None, str]:
    if wf.sha256 is not None:
        return wf.sha256, "the pinned sha256 (harness/weights.py)"
    if entry is not None and not force:
        return entry.sha256, "weights.lock"
    return vouched, "the hub's LFS sha256"


def fetch_one(wf: WeightFile, opts: FetchOptions, display: Display) -> Outcome:
    """Fetch, verify and install one file (see the module doc); never raises for a file fault."""
    lock = read_lock(opts.root)
    action, why = local_state(wf, opts, lock)
    final = opts.root / wf.relpath
    if action == "keep":
        return Outcome(wf.relpath, "present", final.stat().st_size, why)
    if action == "refuse":
        return Outcome(wf.relpath, "failed", 0, why)
    src, entry = source_of(wf), lock.get(wf.relpath)
    staged = None
    try:
        staged, new, vouched = _download(wf, src, entry, opts, display)
        want, against = _expected(wf, entry, vouched, opts.force)
        if want is not None and new.sha256 != want:
            raise FetchError(wf.relpath, f"downloaded bytes do not match {against} (sha256 {new.sha256[:12]}... "
                             f"vs {want[:12]}...)", "rerun; if it persists the source changed: check it, then --force")
        status = _inspect(wf, staged)
        if status.startswith(_BAD):
            raise FetchError(wf.relpath, f"downloaded file is not usable ({status})", "check the source, then rerun")
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, final)                               # appears only complete and verified
        record(opts.root, wf.relpath, new)                      # trust on first use when nothing vouched
        return Outcome(wf.relpath, "fetched", new.size, src.where if why == "missing" else f"{why}; {src.where}")
    except SabenchError as exc:
        if staged is not None:                                  # complete but rejected (a partial is kept)
            staged.unlink(missing_ok=True)
        return Outcome(wf.relpath, "failed", 0, reason(exc, wf.relpath))


def reason(exc: SabenchError, relpath: str) -> str:
    """The error's line without repeating the file name the outcome already shows."""
    line = exc.one_line()
    return line[len(relpath) + 2:] if line.startswith(relpath + ": ") else line


_SIZE = re.compile(r"([0-9.]+)\s*(KB|MB|GB)")


def size_hint_bytes(hint: str) -> int | None:
    """"≈ 327 MB" -> 327e6 (an upper bound for "< 2 MB"); None when the table gives none."""
    m = _SIZE.search(hint)
    return int(float(m.group(1)) * {"KB": 1e3, "MB": 1e6, "GB": 1e9}[m.group(2)]) if m else None


def dry_run(files: list[WeightFile], opts: FetchOptions, echo: Callable[[str], None]) -> int:
    """What would be fetched, from where, and the total size: reads only the local disk."""
    lock = read_lock(opts.root) if opts.root.is_dir() else {}
    total, n = 0, 0
    for wf in files:
        action, why = local_state(wf, opts, lock) if opts.root.is_dir() else ("fetch", "missing")
        src = source_of(wf)
        if action == "fetch":
            entry = lock.get(wf.relpath)
            size = entry.size if entry is not None else size_hint_bytes(wf.size_hint)
            total += size or 0
            n += 1
            rev = f" (locked commit {entry.revision})" if entry is not None and entry.revision else ""
            echo(f"would fetch {wf.relpath} ({wf.size_hint}; {why}) <- {src.where}{rev}")
        else:
            echo(f"{'keep' if action == 'keep' else 'refuse'} {wf.relpath}: {why}")
    echo(f"dry run: {n} file(s) to fetch, total ≈ {human(total)} (from the table's size hints); nothing downloaded")
    return 0


def fetch_weights(names: list[str], *, all_files: bool, job: str | None, opts: FetchOptions,
                  dry: bool = False, quiet: bool = False, bars: bool | None = None,
                  echo: Callable[[str], None] = print) -> int:
    """The command: select, (dry run or) fetch each file, summary; exit code."""
    files, notes = select(names, all_files, job)
    if opts.root.exists() and not opts.root.is_dir():
        raise SabenchError(str(opts.root), "is a file, not a folder", "pass --weights with a folder path")
    if dry:
        rc = dry_run(files, opts, echo)
    else:
        opts.root.mkdir(parents=True, exist_ok=True)
        with exclusive(opts.root):
            rc = _fetch_all(files, opts, quiet, bars, echo)
    for note in notes:
        echo(f"note: {note}")
    return rc


@contextlib.contextmanager
def exclusive(root: Path) -> Iterator[None]:
    """One fetch at a time per weights directory (an advisory lock on `<root>/.fetch/lock`)."""
    import fcntl

    (root / STAGING).mkdir(parents=True, exist_ok=True)
    with open(root / STAGING / "lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SabenchError(str(root), "another `sabench weights fetch` is filling this directory",
                               "wait for it to finish, then rerun (finished files are kept)") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _fetch_all(files: list[WeightFile], opts: FetchOptions, quiet: bool, bars: bool | None,
               echo: Callable[[str], None]) -> int:
    from harness.progress import enabled

    hints = [size_hint_bytes(wf.size_hint) for wf in files]
    display = Display(len(files), sum(h or 0 for h in hints) or None,
                      enabled(not quiet) if bars is None else bars, quiet)
    outcomes = []
    try:
        for wf in files:
            display.begin(wf.relpath)
            outcome = fetch_one(wf, opts, display)
            display.end(outcome)
            outcomes.append(outcome)
    finally:
        display.close()
    summary(outcomes, echo)
    return 1 if any(o.status == "failed" for o in outcomes) else 0


__all__ = ["FetchOptions", "fetch_weights", "fetch_one", "local_state", "dry_run", "size_hint_bytes"]
