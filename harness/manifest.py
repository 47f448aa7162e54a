"""Manifests of pre-generated audio: which file holds the output for which prompt id.

Three forms are read, all giving `dict[id, Path]` with paths resolved under a data root:

- CSV / TSV (`.csv`, `.tsv`) with a header holding `id` and `path` columns (other columns
  are kept as extras); UTF-8 (a BOM is allowed).
- JSON (`.json`: a list of objects) or JSON Lines (`.jsonl`: one object per line), each
  object with string fields `"id"` and `"path"` (other fields are extras).
- A folder: every `.wav` / `.flac` file directly inside it, id = file stem. Hidden files
  (e.g. stray `*.tmp` from atomic writes) are skipped; other audio suffixes are refused.

The data root defaults to the manifest's folder (or the folder itself). Relative paths are
joined to it; nothing may resolve outside it (symlinks are followed). Every problem is one
`ManifestError` line naming the file, row and id, and the fix: bad CSV/JSON, non-UTF-8
text, missing columns, empty or padded ids, duplicate ids, escaping paths, missing files.

Outputs are matched to prompts strictly by id (`match_ids`), never by listing order.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import ManifestError
from harness.paths import resolve_under

AUDIO_SUFFIXES = (".wav", ".flac")
REFUSED_SUFFIXES = (".mp3", ".ogg", ".opus", ".m4a", ".aac", ".aif", ".aiff", ".wma")
REQUIRED = ("id", "path")


@dataclass(frozen=True)
class ManifestEntry:
    id: str
    path: Path
    """Resolved absolute path under the data root."""
    where: str
    """Where it came from, e.g. "gen.csv row 4" (for error messages)."""
    extra: tuple[tuple[str, Any], ...] = ()
    """Other columns / fields of the row."""


def read_manifest(source: str | Path, data_root: str | Path | None = None, *,
                  require_files: bool = True) -> dict[str, Path]:
    """`{id: resolved path}` from a CSV/TSV/JSON/JSONL manifest or a folder of audio files."""
    return {e.id: e.path for e in read_entries(source, data_root, require_files=require_files)}


def read_entries(source: str | Path, data_root: str | Path | None = None, *,
                 require_files: bool = True) -> list[ManifestEntry]:
    """The manifest rows (with extras), validated; see the module docstring."""
    src = Path(source).expanduser()
    if not src.exists():
        raise ManifestError(src, "manifest not found", "check the path")
    if src.is_dir():
        return _folder_entries(src, Path(data_root) if data_root else src, require_files)
    root = Path(data_root).expanduser() if data_root else src.parent
    rows = _parse(src)
    if not rows:
        raise ManifestError(src, "manifest has no rows", "add one row per generated clip")
    return _validate(src.name, rows, root, require_files)


def _decode(src: Path) -> str:
    raw = src.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        raise ManifestError(f"{src} line {line}", f"not UTF-8 text (byte 0x{raw[e.start]:02x})",
                            "save the manifest as UTF-8") from None


def _parse(src: Path) -> list[tuple[str, dict[str, Any]]]:
    """(where, row) pairs from a manifest file."""
    suffix = src.suffix.lower()
    if suffix in (".csv", ".tsv"):
        return _parse_csv(src, _decode(src), "\t" if suffix == ".tsv" else ",")
    if suffix == ".json":
        return _parse_json(src, _decode(src))
    if suffix == ".jsonl":
        return _parse_jsonl(src, _decode(src))
    raise ManifestError(src, f"unknown manifest type {src.suffix!r}",
                        "use .csv, .tsv, .json, .jsonl, or a folder of .wav/.flac files")


def _parse_csv(src: Path, text: str, delimiter: str) -> list[tuple[str, dict[str, Any]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise ManifestError(src, "empty manifest", "add a header line 'id,path'")
        header = [h.strip() for h in header]
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise ManifestError(f"{src} header", f"missing column(s) {missing}; found {header}",
                                "the header must name columns 'id' and 'path'")
        if len(set(header)) != len(header):
            raise ManifestError(f"{src} header", f"duplicate column names in {header}",
                                "give each column a unique name")
        rows = []
        for fields in reader:
            where = f"{src.name} row {reader.line_num}"
            if not fields or all(not f.strip() for f in fields):
                continue
            if len(fields) != len(header):
                raise ManifestError(where, f"has {len(fields)} fields, header has {len(header)}",
                                    "quote fields containing the delimiter; one row per clip")
            rows.append((where, dict(zip(header, fields, strict=True))))
        return rows
    except csv.Error as e:
        raise ManifestError(f"{src} line {reader.line_num}", f"malformed CSV ({e})",
                            "fix the quoting on that line") from None


def _parse_json(src: Path, text: str) -> list[tuple[str, dict[str, Any]]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ManifestError(f"{src} line {e.lineno} col {e.colno}", f"invalid JSON ({e.msg})",
                            "fix the JSON syntax") from None
    if not isinstance(data, list):
        raise ManifestError(src, f"top level is {type(data).__name__}, expected a list",
                            'use [{"id": ..., "path": ...}, ...]')
    return [(f"{src.name} item {i}", row) for i, row in enumerate(data)]


def _parse_jsonl(src: Path, text: str) -> list[tuple[str, dict[str, Any]]]:
    rows = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append((f"{src.name} line {n}", json.loads(line)))
        except json.JSONDecodeError as e:
            raise ManifestError(f"{src} line {n}", f"invalid JSON ({e.msg})",
                                "one JSON object per line") from None
    return rows


def _check_id(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ManifestError(where, f"id {value!r} is {type(value).__name__}, not a string",
                            "write ids as strings (quote them in JSON)")
    if not value.strip():
        raise ManifestError(where, "empty id", "give every row the prompt id it answers")
    if value != value.strip():
        raise ManifestError(where, f"id {value!r} has leading/trailing whitespace",
                            "remove the spaces around the id")
    return value


def _validate(name: str, rows: list[tuple[str, Any]], root: Path,
              require_files: bool) -> list[ManifestEntry]:
    entries: list[ManifestEntry] = []
    seen: dict[str, str] = {}
    for where, row in rows:
        if not isinstance(row, dict):
            raise ManifestError(where, f"is {type(row).__name__}, expected an object",
                                'write {"id": ..., "path": ...}')
        missing = [k for k in REQUIRED if k not in row]
        if missing:
            raise ManifestError(where, f"missing field(s) {missing}", "add 'id' and 'path'")
        rid = _check_id(row["id"], where)
        if rid in seen:
            raise ManifestError(f"{where} (id {rid!r})", f"duplicate id (first at {seen[rid]})",
                                "keep one file per id")
        seen[rid] = where
        item = f"{where} (id {rid!r})"
        if not isinstance(row["path"], str):
            raise ManifestError(item, "path is not a string", "write the path as a string")
        path = resolve_under(root, row["path"], item)
        if require_files:
            _require_file(path, item)
        extra = tuple(sorted((k, v) for k, v in row.items() if k not in REQUIRED))
        entries.append(ManifestEntry(rid, path, where, extra))
    return entries


def _require_file(path: Path, item: str) -> None:
    if not path.exists():
        raise ManifestError(item, f"file {path} not found",
                            "generate it, fix the path, or pass the right data root")
    if not path.is_file():
        raise ManifestError(item, f"{path} is not a file", "point to an audio file")


def _folder_entries(folder: Path, root: Path, require_files: bool) -> list[ManifestEntry]:
    entries: list[ManifestEntry] = []
    seen: dict[str, str] = {}
    for p in sorted(folder.iterdir()):
        if p.name.startswith(".") or not p.is_file():
            continue
        suffix = p.suffix.lower()
        if suffix in REFUSED_SUFFIXES:
            raise ManifestError(p, f"{suffix} files are not read",
                                "convert to .wav or .flac (PCM or float)")
        if suffix not in AUDIO_SUFFIXES:
            continue
        if p.stem in seen:
            raise ManifestError(p, f"duplicate id {p.stem!r} (also {seen[p.stem]})",
                                "keep one file per id")
        seen[p.stem] = p.name
        item = f"{folder.name}/{p.name}"
        path = resolve_under(root, str(p), item)  # symlinks out of the root are refused
        if require_files:
            _require_file(path, item)
        entries.append(ManifestEntry(_check_id(p.stem, item), path, item))
    if not entries:
        raise ManifestError(folder, "no .wav or .flac files in this folder",
                            "point to the folder holding the generated clips")
    return entries


def match_ids(expected_ids: Iterable[str], available: Mapping[str, Path]
              ) -> tuple[dict[str, Path], list[str], list[str]]:
    """Match outputs to prompts by id only.

    Returns:
        (matched {id: path} in `expected_ids` order, missing ids (expected, not available) in
        expected order, extra ids (available, not expected) sorted).
    Raises:
        ManifestError: if `expected_ids` repeats an id.
    """
    expected = list(expected_ids)
    seen: set[str] = set()
    for i in expected:
        if i in seen:
            raise ManifestError(f"prompt id {i!r}", "appears twice in the expected ids",
                                "make prompt ids unique within the suite")
        seen.add(i)
    matched = {i: available[i] for i in expected if i in available}
    missing = [i for i in expected if i not in available]
    extra = sorted(k for k in available if k not in seen)
    return matched, missing, extra


__all__ = ["read_manifest", "read_entries", "match_ids", "ManifestEntry", "AUDIO_SUFFIXES"]
