"""A user's audio folder or manifest -> reconstruction `Prompt`s (reference = the input file).

Folder: every `.wav`/`.flac` under it (recursively, sorted); id = path relative to the folder
without extension (posix separators). Manifest: CSV with header `id,path[,duration]` or JSON
Lines `{"id": ..., "path": ...}`; paths are relative to the manifest's folder and may not
escape it. The system's `reconstruct(audio)` output is scored against the input with
`mel_loss` and `stft_loss`.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from harness.errors import ManifestError, SabenchError
from harness.paths import resolve_under
from harness.records import Prompt, freeze
from suites.common import AUDIO_EXTENSIONS, check_unique, find_dir

_FIX = ("set loader_args.audio_dir (a folder of .wav/.flac) or loader_args.manifest, or "
        "$SABENCH_RECON_AUDIO")


def load_prompts(audio_dir: str | None = None, manifest: str | None = None, duration: float = 10.0,
                 data_root: str | Path | None = None) -> list[Prompt]:
    """Reconstruction prompts from a manifest (preferred when given) or a folder."""
    if manifest:
        path = Path(manifest).expanduser()
        path = Path(data_root) / path if (data_root and not path.is_absolute()) else path
        if not path.is_file():
            raise SabenchError(str(path), "manifest not found", _FIX)
        rows = _read_manifest(path)
        prompts = [_from_row(path, i, row, duration) for i, row in enumerate(rows)]
    else:
        folder = find_dir(audio_dir, "SABENCH_RECON_AUDIO", data_root, ("reconstruction",))
        if folder is None:
            raise SabenchError("reconstruction audio", "no folder or manifest given", _FIX)
        files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS and p.is_file())
        if not files:
            raise SabenchError(str(folder), "has no .wav or .flac files", _FIX)
        prompts = [Prompt(p.relative_to(folder).with_suffix("").as_posix(), "", float(duration),
                          reference=str(p), tags=freeze({"file": p.name})) for p in files]
    check_unique([p.id for p in prompts], manifest or str(audio_dir))
    if not prompts:
        raise SabenchError(manifest or str(audio_dir), "lists no files", _FIX)
    return prompts


def _read_manifest(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".jsonl", ".json"):
        rows = []
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    raise ManifestError(f"{path} line {n}", "is not valid JSON", "one object per line") from None
        return rows
    reader = csv.DictReader(text.splitlines())
    if not reader.fieldnames or not {"id", "path"} <= set(reader.fieldnames):
        raise ManifestError(str(path), f"header {reader.fieldnames} lacks id,path",
                            "write a CSV header id,path[,duration]")
    return list(reader)


def _from_row(path: Path, index: int, row: dict, duration: float) -> Prompt:
    item = f"{path.name} row {index + 1}"
    if not isinstance(row, dict) or not str(row.get("id") or "").strip():
        raise ManifestError(item, "has no id", "give every row an id")
    pid = str(row["id"]).strip()
    ref = resolve_under(path.parent, str(row.get("path") or ""), f"{item} (id {pid!r})")
    if not ref.is_file():
        raise ManifestError(f"{item} (id {pid!r})", f"file {ref} does not exist", "fix the path")
    try:
        dur = float(row.get("duration") or duration)
    except ValueError:
        raise ManifestError(f"{item} (id {pid!r})", f"duration {row.get('duration')!r} is not a number",
                            "give seconds as a number") from None
    return Prompt(pid, str(row.get("text") or ""), dur, reference=str(ref), tags=freeze({"file": ref.name}))
