"""Editing benchmark file (written by `suites.editing.construct`) -> editing `Prompt`s.

Each prompt: id `<category_slug>-<NNN>`, `text` = target caption, `source_text` = source
caption, `source` = the AudioCaps source clip (matched by YouTube id in the user's audio
folder), tags `category`, `rule`, `youtube_id`. `category_of(item_id)` recovers the category
from an id, so reports can break results down per category from stored scores alone.
"""

from __future__ import annotations

import json
from pathlib import Path

from harness.errors import ManifestError, SabenchError
from harness.records import Prompt, freeze
from suites.common import check_unique, find_dir, find_file, index_audio, match_clip, missing_error
from suites.editing.construct import FORMAT, FORMAT_VERSION
from suites.editing.rules import CATEGORIES, slug

_BY_SLUG = {slug(c): c for c in CATEGORIES}
_FIX = ("build it with `python -m suites.editing.construct --csv <AudioCaps test.csv> --out "
        "editing.jsonl [--scorer module:function]` and set loader_args.benchmark or $SABENCH_EDITING")


def category_of(item_id: str) -> str | None:
    """'subject_replace-012' (optionally with a replicate suffix) -> 'Subject Replace'."""
    head = item_id.split("-", 1)[0]
    return _BY_SLUG.get(head)


def read_benchmark(path: Path) -> tuple[dict, list[dict]]:
    """(header, rows) of a benchmark file; header format and version checked."""
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    try:
        objs = [json.loads(ln) for ln in lines]
    except json.JSONDecodeError as exc:
        raise ManifestError(str(path), f"is not JSON Lines ({exc})", _FIX) from None
    if not objs or objs[0].get("format") != FORMAT:
        raise ManifestError(str(path), f"first line is not a {FORMAT} header", _FIX)
    header = objs[0]
    if header.get("format_version") != FORMAT_VERSION:
        raise ManifestError(str(path), f"format_version {header.get('format_version')} is not "
                            f"{FORMAT_VERSION}", "rebuild the benchmark with this sabench")
    rows = objs[1:]
    if header.get("n") != len(rows):
        raise ManifestError(str(path), f"header says {header.get('n')} pairs, file has {len(rows)}",
                            "the file is truncated or edited: rebuild it")
    return header, rows


CHOICES = {"on_missing": ("error", "drop")}
"""Allowed values of loader arguments (checked up front by `harness.suite_options`)."""


def load_prompts(benchmark: str | None = None, audio_dir: str | None = None, on_missing: str = "error",
                 duration: float = 10.0, data_root: str | Path | None = None) -> list[Prompt]:
    """Editing prompts from a benchmark file, with source clips from the user's audio folder.

    Args:
        benchmark: the JSONL file (else `$SABENCH_EDITING`, else `<data_root>/editing/editing.jsonl`).
        audio_dir: AudioCaps test clips (else `$SABENCH_AUDIOCAPS_AUDIO`, else
            `<data_root>/audiocaps/audio`). Required: an edit needs its source audio.
        on_missing: "error" (list missing clips) or "drop".
    """
    path = find_file("editing benchmark", ["editing.jsonl"], explicit=benchmark, env="SABENCH_EDITING",
                     data_root=data_root, subdirs=("editing", ""), fix=_FIX)
    header, rows = read_benchmark(path)
    folder = find_dir(audio_dir, "SABENCH_AUDIOCAPS_AUDIO", data_root, ("audiocaps/audio",))
    if folder is None:
        raise SabenchError("editing source audio", "no audio folder given",
                           "set loader_args.audio_dir or $SABENCH_AUDIOCAPS_AUDIO to the AudioCaps test clips")
    if on_missing not in ("error", "drop"):
        raise SabenchError(on_missing, "invalid on_missing", "use error or drop")
    index = index_audio(folder)
    prompts, missing = [], []
    for i, row in enumerate(rows, 1):
        item = f"{path.name} pair {i}"
        for key in ("id", "category", "youtube_id", "source_text", "target_text"):
            if not str(row.get(key) or "").strip():
                raise ManifestError(item, f"has no {key}", "rebuild the benchmark")
        if row["category"] not in CATEGORIES:
            raise ManifestError(item, f"unknown category {row['category']!r}", f"use one of {CATEGORIES}")
        src = match_clip(index, row["youtube_id"], row.get("start_time"))
        if src is None:
            missing.append(row["youtube_id"])
            continue
        prompts.append(Prompt(row["id"], row["target_text"], float(duration), source=str(src),
                              source_text=row["source_text"], tags=freeze({
                                  "category": row["category"], "rule": row.get("rule"),
                                  "youtube_id": row["youtube_id"], "benchmark_version": header.get("version")})))
    if missing and on_missing == "error":
        raise missing_error("editing source audio", dict.fromkeys(missing), len(rows), folder)
    check_unique([p.id for p in prompts], str(path))
    return prompts
