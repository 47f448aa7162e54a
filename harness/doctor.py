"""`sabench doctor`: what this machine has -- versions, weights files, data folders.

Reads package versions from metadata, checks every file of the weights table
(`harness.weights.WEIGHT_FILES`) the way its reader would (`harness.doctor_files.inspect`:
present / missing / corrupt: ... / unsafe: pickle needs code / wrong keys: ... /
sha256-mismatch, with where each missing file is published; files recorded in
`weights.lock` by `sabench weights fetch` are checked against it: verified / lock-mismatch)
and the data folders the suites read. torch is imported only to load .pt/.pth/.bin files that are present
(weights_only=True, as the backbones do); `--no-hash` skips those loads and sha256.

Returns an exit code: 1 when a weights file is corrupt, unsafe, has wrong keys, a wrong
sha256 or differs from weights.lock (or the lock is unreadable), or when the weights
directory given does not exist; else 0 (missing files are normal on a machine that only runs
the mini profile).
"""

from __future__ import annotations

import platform
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

PACKAGES = ("torch", "torchaudio", "numpy", "scipy", "soundfile", "safetensors", "pyyaml", "tqdm",
            "laion-clap", "msclap", "audiobox-aesthetics", "panns-inference", "descript-audio-codec",
            "transformers", "diffusers", "dasheng", "starlette", "uvicorn", "pyloudnorm", "ray")
DATA_FOLDERS = ("audiocaps", "ttabench", "editing")
"""Folders of the shared data root that the real-profile suites read."""


def package_versions() -> dict[str, str]:
    from importlib import metadata

    out = {}
    for pkg in PACKAGES:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed" + _extra_hint(pkg)
    return out


def _extra_hint(dist: str) -> str:
    """" (pip install 'sabench[X]')" for a backend's package, naming its first extra."""
    from harness.extras import DISTRIBUTIONS, EXTRAS, install_hint

    modules = [m for m, d in DISTRIBUTIONS.items() if d == dist]
    extra = next((e for e, mods in EXTRAS.items() if set(mods) & set(modules)), None)
    return f" ({install_hint(extra)})" if extra else ""


BAD_PREFIXES = ("corrupt", "unsafe", "wrong keys", "sha256-mismatch", "lock-mismatch")


def weights_status(root: Path | None, hash_files: bool = True) -> list[tuple[Any, str]] | None:
    """(WeightFile, status) per listed file, or None when the weights table is absent."""
    try:
        from harness import weights
    except ModuleNotFoundError as exc:
        if exc.name != "harness.weights":
            raise
        return None
    from harness.doctor_files import inspect

    out = []
    for wf in weights.WEIGHT_FILES:
        path = weights.located(wf, root)
        out.append((wf, "missing" if path is None else inspect(wf, path, full=hash_files)))
    return out


def with_lock(status: list[tuple[Any, str]], root: Path | None, hash_files: bool,
              echo: Callable[[str], None]) -> tuple[list[tuple[Any, str]], int]:
    """Statuses re-checked against `<weights>/weights.lock` (written by `sabench weights fetch`):
    a present locked file becomes "verified" (size + sha256 match; size only with --no-hash) or
    "lock-mismatch: ..."; returns (statuses, 1 if the lock file itself is unreadable else 0)."""
    if root is None:
        return status, 0
    from harness.errors import SabenchError
    from harness.fetch.lock import LOCK_NAME, read_lock, verify

    try:
        lock = read_lock(root)
    except SabenchError as exc:
        echo(f"  [corrupt] {exc.one_line()}")
        return status, 1
    if not lock:
        echo(f"  {LOCK_NAME}: none (files were not fetched by `sabench weights fetch`; nothing to verify against)")
        return status, 0
    out = []
    for wf, st in status:
        entry = lock.get(wf.relpath)
        if entry is not None and st == "present" and (root / wf.relpath).is_file():
            got = verify(root, wf.relpath, entry, full=hash_files)
            st = "verified" if got in ("verified", "size-ok") else got
        out.append((wf, st))
    n_ok = sum(st == "verified" for _, st in out)
    how = "size + sha256" if hash_files else "size only"
    echo(f"  {LOCK_NAME}: {len(lock)} file(s) recorded, {n_ok} verified ({how})")
    return out, 0


def data_status(data_root: Path | None) -> list[tuple[str, str]]:
    """(folder, "present"/"missing") for the data root and its known sub-folders."""
    if data_root is None:
        return [("data root", "not set (pass --data or set SABENCH_SHARED)")]
    rows = [(str(data_root), "present" if data_root.is_dir() else "missing")]
    for name in DATA_FOLDERS:
        p = data_root / name
        rows.append((str(p), "present" if p.is_dir() else "missing"))
    return rows


def run_doctor(weights_override: str | None, data_override: str | None, hash_files: bool = True,
               echo: Callable[[str], None] = print) -> int:
    from harness import SCHEMA_VERSION, __version__
    from harness.paths import cache_root, shared_root, weights_root

    echo(f"sabench {__version__} (schema {SCHEMA_VERSION}); python {sys.version.split()[0]} on {platform.platform()}")
    for pkg, ver in package_versions().items():
        echo(f"  {pkg:<22} {ver}")
    echo(f"cache: {cache_root()}")
    root = weights_root(weights_override)
    echo(f"weights: {root if root is not None else 'not set (SABENCH_WEIGHTS or --weights)'}")
    if root is not None and not root.is_dir():
        what = "is not a folder" if root.exists() else "does not exist"
        echo(f"  [missing] weights directory {root} {what} "
             "(fix: pass --weights DIR / set SABENCH_WEIGHTS to the folder laid out as in docs/weights.md)")
        status: list[tuple[Any, str]] | None = []
        bad = 1
    else:
        status, bad = weights_status(root, hash_files), 0
    if status:
        status, lock_bad = with_lock(status, root, hash_files, echo)
        bad += lock_bad
    if status is None:
        echo("  (no weights table in this checkout: harness/weights.py is absent)")
    elif status:
        for wf, st in status:
            where = f"  <- {wf.published_at}" if st not in ("present", "verified") else ""
            echo(f"  [{st}] {wf.backbone}: {wf.relpath}{where}")
            bad += st.startswith(BAD_PREFIXES)
        kinds = [st.split(":")[0] for _, st in status]
        echo("  " + ", ".join(f"{kinds.count(k)} {k}" for k in sorted(set(kinds))))
    shared = shared_root()
    data_root = Path(data_override) if data_override else (shared / "data" if shared else None)
    echo("data:")
    for folder, st in data_status(data_root):
        echo(f"  [{st}] {folder}")
    return 1 if bad else 0


__all__ = ["run_doctor", "package_versions", "weights_status", "data_status", "with_lock"]
