"""Helpers shared by the real-data suite loaders: finding the user's files, matching audio.

Nothing here reads audio: audio folders are only indexed by file name (reading, resampling
and shaping happen in `harness.audio`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from harness.errors import ManifestError, SabenchError

AUDIO_EXTENSIONS = (".wav", ".flac")
"""Audio file types the loaders index (the ones `harness.audio.read` accepts)."""


def find_file(item: str, names: Sequence[str], *, explicit: str | None, env: str,
              data_root: str | Path | None, subdirs: Sequence[str], fix: str) -> Path:
    """Find a data file the user owns.

    Order: `explicit` (a file, or a folder holding one of `names`; relative paths are taken
    under `data_root` when given), then `$env` (file or folder), then `data_root/<subdir>/`.

    Raises:
        SabenchError: naming `item`, every place looked at, and `fix`.
    """
    looked: list[str] = []
    for base in _candidates(explicit, env, data_root, subdirs):
        if base.is_file():
            return base
        for name in names:
            p = base / name
            if p.is_file():
                return p
            looked.append(str(p))
        if not base.exists():
            looked.append(str(base))
    where = "; ".join(dict.fromkeys(looked)) or f"nothing (no path given, ${env} unset, no data_root)"
    raise SabenchError(item, f"not found (looked in: {where})", fix)


def _candidates(explicit: str | None, env: str, data_root: str | Path | None,
                subdirs: Sequence[str]) -> list[Path]:
    out: list[Path] = []
    root = Path(data_root).expanduser() if data_root else None
    if explicit:
        p = Path(explicit).expanduser()
        out.append(root / p if (root is not None and not p.is_absolute()) else p)
    value = os.environ.get(env, "").strip()
    if value:
        out.append(Path(value).expanduser())
    if root is not None:
        out.extend(root / s if s else root for s in subdirs)
    return out


def find_dir(explicit: str | None, env: str, data_root: str | Path | None,
             subdirs: Sequence[str]) -> Path | None:
    """The first existing folder among `explicit`, `$env`, `data_root/<subdir>`; or None."""
    for base in _candidates(explicit, env, data_root, subdirs):
        if base.is_dir():
            return base
    if explicit:
        raise SabenchError(explicit, "audio folder does not exist",
                           "pass an existing folder (absolute, or relative to data_root)")
    return None


def index_audio(folder: Path) -> dict[str, Path]:
    """Map file stem -> path for every audio file in `folder` (recursively).

    Raises:
        ManifestError: when two files share a stem (e.g. `x.wav` and `sub/x.flac`).
    """
    index: dict[str, Path] = {}
    for p in sorted(folder.rglob("*")):
        if p.suffix.lower() in AUDIO_EXTENSIONS and p.is_file():
            if p.stem in index:
                raise ManifestError(str(p), f"same name as {index[p.stem]}",
                                    "keep one file per clip in the audio folder")
            index[p.stem] = p
    return index


def match_clip(index: dict[str, Path], youtube_id: str, start_time: int | str | None) -> Path | None:
    """Find a clip by the common naming conventions: `Y<id>`, `<id>`, `<id>_<start>`."""
    names = [f"Y{youtube_id}", youtube_id]
    if start_time is not None and str(start_time) != "":
        s = int(float(start_time))
        names += [f"{youtube_id}_{s}", f"Y{youtube_id}_{s}", f"{youtube_id}_{s * 1000}"]
    for name in names:
        if name in index:
            return index[name]
    return None


def missing_error(item: str, missing: Iterable[str], total: int, folder: Path) -> SabenchError:
    """A one-line error naming the missing clips (first 20) and how to proceed."""
    missing = list(missing)
    shown = ", ".join(missing[:20]) + (f", ... (+{len(missing) - 20} more)" if len(missing) > 20 else "")
    return SabenchError(
        item, f"{len(missing)} of {total} clips have no audio in {folder}: {shown}",
        "add the files (named Y<id>.wav, <id>.wav or <id>_<start>.wav), or set "
        "loader_args.on_missing to 'drop' to evaluate on the clips present")


def check_unique(ids: Sequence[str], item: str) -> None:
    """Raise `ManifestError` naming the first duplicated id."""
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise ManifestError(item, f"duplicate id {i!r}", "make every id unique")
        seen.add(i)
