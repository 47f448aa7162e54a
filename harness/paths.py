"""Where sabench keeps things, and safe file-system helpers.

- `cache_root()`: `$SABENCH_CACHE` or `~/.cache/sabench`. Never inside the installed package
  (a cache in site-packages is an anti-pattern seen in other harnesses).
- `weights_root(override)`: `--weights` or `$SABENCH_WEIGHTS` (None when neither is set).
- `shared_root()`: `$SABENCH_SHARED`, else the `shared/` folder beside the repository, else None.
- `data_root(override)`: the root suite loaders read (`--data`, else `<shared>/data` when present).
- `resolve_under(root, rel, item)`: join a manifest path to its data root and refuse anything
  that escapes the root (`..`, absolute paths elsewhere, symlinks pointing out).
- `atomic_write_bytes(path, data)`: temp file in the same folder + fsync + `os.replace`, so a
  reader never sees a partial file and a killed run leaves at most a stray `*.tmp`.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from harness.errors import ManifestError, SabenchError

REPO_ROOT = Path(__file__).resolve().parents[1]
"""The folder holding `harness/` (the repository root for an editable install)."""

PACKAGE_DIRS = ("harness", "systems", "suites", "reports")
"""Top-level packages of sabench: caches and stores may not live inside them."""


def cache_root() -> Path:
    """`$SABENCH_CACHE` or `~/.cache/sabench` (not created here)."""
    env = os.environ.get("SABENCH_CACHE", "").strip()
    root = Path(env).expanduser() if env else Path.home() / ".cache" / "sabench"
    refuse_inside_package(root, "SABENCH_CACHE")
    return root


def weights_root(override: str | None = None) -> Path | None:
    """The weights directory: `override` (the `--weights` flag), else `$SABENCH_WEIGHTS`.

    Returns None when neither is set. Existence is not checked here: `sabench doctor` and the
    backbones report missing files with their own messages.
    """
    value = override if override else os.environ.get("SABENCH_WEIGHTS", "").strip()
    return Path(value).expanduser() if value else None


def shared_root() -> Path | None:
    """`$SABENCH_SHARED`, else `<repo>/../shared` if it exists, else None."""
    env = os.environ.get("SABENCH_SHARED", "").strip()
    if env:
        p = Path(env).expanduser()
        return p if p.is_dir() else None
    p = REPO_ROOT.parent / "shared"
    return p if p.is_dir() else None


def data_root(override: str | Path | None = None) -> Path | None:
    """The data root suite loaders read: `override` (the `--data` flag), else the shared
    folder's `data/` when it exists, else None (loaders then use their own env variables)."""
    if override:
        return Path(override).expanduser()
    root = shared_root()
    return root / "data" if root is not None and (root / "data").is_dir() else None


def resolve_under(root: Path, rel: str, item: str) -> Path:
    """`root / rel`, resolved (symlinks followed), refusing results outside `root`.

    Args:
        root: the data root.
        rel: a path from a manifest (relative, or absolute but inside `root`).
        item: what to name in the error (e.g. "manifest.csv row 3 (id 'a')").
    Raises:
        ManifestError: empty path, NUL byte, or a path that escapes `root`.
    """
    if not isinstance(rel, str) or not rel.strip():
        raise ManifestError(item, "empty path", "give a file path relative to the data root")
    if "\x00" in rel:
        raise ManifestError(item, "path contains a NUL byte", "fix the path in the manifest")
    base = Path(root).expanduser().resolve()
    target = (base / Path(rel).expanduser()).resolve()
    if target != base and base not in target.parents:
        raise ManifestError(
            item, f"path {rel!r} resolves to {target}, outside the data root {base}",
            "keep audio files under the data root (no '..', no outside absolute paths or symlinks)")
    return target


def _package_dirs() -> list[Path]:
    return [(REPO_ROOT / name).resolve() for name in PACKAGE_DIRS if (REPO_ROOT / name).is_dir()]


def refuse_inside_package(root: Path, item: str) -> None:
    """Raise `SabenchError` if `root` lies inside sabench's packages or any site-packages."""
    resolved = Path(root).expanduser().resolve()
    parts = {p.lower() for p in resolved.parts}
    inside = [d for d in _package_dirs() if resolved == d or d in resolved.parents]
    if inside or "site-packages" in parts or "dist-packages" in parts:
        raise SabenchError(item, f"{resolved} is inside the installed package",
                           "point it at a cache or run folder elsewhere (e.g. ~/.cache/sabench)")


def current_umask() -> int:
    """The process umask, read without changing it where the OS allows (Linux /proc)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: read by setting and restoring it at once
    os.umask(mask)
    return mask


def default_file_mode() -> int:
    """0o666 & ~umask: the mode `open(path, "w")` would give a new file (0644 under umask 022)."""
    return 0o666 & ~current_umask()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically: temp file in the same folder, fsync, os.replace."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, default_file_mode())  # mkstemp makes 0600; a plain open() would honour the umask
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


__all__ = ["cache_root", "weights_root", "shared_root", "data_root", "resolve_under", "refuse_inside_package",
           "atomic_write_bytes", "default_file_mode", "REPO_ROOT"]
