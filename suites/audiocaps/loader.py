"""AudioCaps test prompts, with every public one-caption-per-clip captions as a named choice.

Each captions is a fixed rule over the rows of `dataset/test.csv` in file order (the five
rows of a clip are scattered through the file):

| captions    | clips | id list                                   | caption           | order                 |
|------------|-------|-------------------------------------------|-------------------|-----------------------|
| `957-last` | 957   | MeanAudio/Resonate `test-audiocaps.tsv`   | last (5th) row    | sorted by YouTube id  |
|            |       | (or: 975 minus `..._missing_from_957.txt`)|                   | (= the TSV's order)   |
| `964-third`| 964   | AudioLDM `..._nonrepeat_subset_2.json`    | 3rd row           | test.csv first sight  |
| `886-tango`| 886   | Tango `test_audiocaps_subset.json`        | 3rd row           | test.csv first sight  |
| `975-first`| 975   | all clips                                 | 1st row           | test.csv first sight  |
| `all-4875` | 975   | all rows (one prompt per audiocap_id)     | every caption     | test.csv file order   |

`957-last` is the default (MeanAudio, Resonate and the SemanticAudio paper). Prompt ids are
`Y<youtube_id>` for the per-clip caption choices and `ac<audiocap_id>` for `all-4875`.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from harness.errors import ManifestError, SabenchError
from harness.records import Prompt, freeze
from suites.common import check_unique, find_dir, find_file, index_audio, match_clip, missing_error

CAPTION_CHOICES = ("957-last", "964-third", "886-tango", "975-first", "all-4875")
CHOICES = {"captions": CAPTION_CHOICES, "on_missing": ("error", "drop", "keep"), "references": ("required", "optional")}
"""Allowed values of loader arguments (checked up front by `harness.suite_options`)."""
_FIX_CSV = ("set $SABENCH_AUDIOCAPS to AudioCaps' dataset/test.csv (or its folder), or pass "
            "loader_args.csv / data_root")
_SUBDIRS = ("audiocaps/v1", "audiocaps/dataset", "audiocaps", "")
_LIST_SUBDIRS = ("audiocaps", "audiocaps/tango", "")


@dataclass(frozen=True)
class Row:
    """One caption row of the AudioCaps CSV."""

    audiocap_id: str
    youtube_id: str
    start_time: str
    caption: str


def read_rows(path: Path) -> list[Row]:
    """All rows of an AudioCaps split CSV, in file order (header checked)."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        want = ["audiocap_id", "youtube_id", "start_time", "caption"]
        if reader.fieldnames != want:
            raise ManifestError(str(path), f"header is {reader.fieldnames}, expected {want}",
                                "point to AudioCaps' dataset/test.csv")
        rows = [Row(r["audiocap_id"], r["youtube_id"], r["start_time"], r["caption"]) for r in reader]
    if not rows:
        raise ManifestError(str(path), "has no rows", "point to AudioCaps' dataset/test.csv")
    check_unique([r.audiocap_id for r in rows], str(path))
    return rows


def by_clip(rows: list[Row]) -> dict[str, list[Row]]:
    """youtube_id -> its rows in file order; dict order = order of first sight."""
    clips: dict[str, list[Row]] = {}
    for r in rows:
        clips.setdefault(r.youtube_id, []).append(r)
    return clips


def select(rows: list[Row], captions: str, ids: list[str] | None = None) -> list[Row]:
    """Apply a captions's rule. `ids` is the captions's clip list (youtube ids) where it needs one."""
    if captions not in CAPTION_CHOICES:
        raise SabenchError(captions, "unknown AudioCaps captions", f"choose one of {', '.join(CAPTION_CHOICES)}")
    if captions == "all-4875":
        return list(rows)
    clips = by_clip(rows)
    if captions == "975-first":
        return [group[0] for group in clips.values()]
    if ids is None:
        raise SabenchError(captions, "needs its clip id list", "pass loader_args.id_list")
    unknown = [i for i in ids if i not in clips]
    if unknown:
        raise ManifestError(captions, f"{len(unknown)} listed clips are not in test.csv: "
                            f"{', '.join(unknown[:10])}", "use the list that matches AudioCaps v1 test.csv")
    wanted = set(ids)
    if captions == "957-last":
        return [clips[y][-1] for y in sorted(wanted)]
    position = 2  # the 3rd occurrence (964-third, 886-tango)
    short = [y for y in wanted if len(clips[y]) <= position]
    if short:
        raise ManifestError(captions, f"clips with fewer than 3 captions: {short[:10]}", "check test.csv")
    return [group[position] for y, group in clips.items() if y in wanted]


def read_id_list(path: Path) -> list[str]:
    """YouTube ids from a public list: 957 TSV (`Y<id>`), AudioLDM JSON (`.../Y<id>.wav`),
    Tango JSON Lines (`.../<id>_<start>.wav`), Resonate JSONL (`audio_id` = `Y<id>`), or plain
    text (one id per line)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".tsv":
        return [_strip_y(ln.split("\t")[0]) for ln in text.splitlines()[1:] if ln.strip()]
    if path.suffix in (".json", ".jsonl"):
        try:
            whole = json.loads(text)
        except json.JSONDecodeError:
            whole = None
        if isinstance(whole, dict) and "data" in whole:
            return [_strip_y(Path(d["wav"]).stem) for d in whole["data"]]
        out = []
        for ln in text.splitlines():
            if ln.strip():
                obj = json.loads(ln)
                if "location" in obj:
                    out.append(Path(obj["location"]).stem.rsplit("_", 1)[0])
                else:
                    out.append(_strip_y(obj["audio_id"]))
        return out
    return [ln.strip() for ln in text.splitlines() if ln.strip()]


def _strip_y(x: str) -> str:
    return x[1:] if x.startswith("Y") else x


_LISTS = {
    "957-last": ("resonate_test-audiocaps.tsv", "test-audiocaps.tsv"),
    "964-third": ("audioldm_audiocaps_test_nonrepeat_subset_2.json", "audiocaps_test_nonrepeat_subset_2.json"),
    "886-tango": ("test_audiocaps_subset.json",),
}
_MISSING_957 = "audiocaps_test_clips_missing_from_957.txt"


def caption_ids(captions: str, rows: list[Row], csv_path: Path, id_list: str | None,
                data_root: str | Path | None) -> list[str] | None:
    """The clip list a captions needs: `id_list`, else a public list beside test.csv (its folder,
    the parent, `tango/`) or under `data_root/audiocaps`. For 957-last the 18-clip missing list
    (975 minus those) is accepted too."""
    if captions not in _LISTS:
        return None
    fix = f"pass loader_args.id_list (the public list for {captions}; see suites/audiocaps/README.md)"
    if id_list:
        p = Path(id_list).expanduser()
        p = Path(data_root) / p if (data_root and not p.is_absolute()) else p
        if not p.is_file():
            raise SabenchError(str(p), f"id list for {captions} not found", fix)
        return read_id_list(p)
    roots = [csv_path.parent, csv_path.parent.parent, csv_path.parent.parent / "tango"]
    if data_root:
        roots += [Path(data_root) / "audiocaps", Path(data_root) / "audiocaps" / "tango"]
    for base in roots:
        for name in _LISTS[captions]:
            if (base / name).is_file():
                return read_id_list(base / name)
    if captions == "957-last":
        for base in roots:
            if (base / _MISSING_957).is_file():
                missing = set(read_id_list(base / _MISSING_957))
                return [y for y in by_clip(rows) if y not in missing]
    names = ", ".join(_LISTS[captions])
    raise SabenchError(f"AudioCaps {captions} id list", f"none of {names} found near {csv_path}", fix)


def load_prompts(captions: str = "957-last", csv: str | None = None, id_list: str | None = None,
                 audio_dir: str | None = None, on_missing: str = "error", references: str = "required",
                 duration: float = 10.0, data_root: str | Path | None = None) -> list[Prompt]:
    """AudioCaps test prompts for one captions, with reference audio matched by YouTube id.

    Args:
        captions: one of `CAPTION_CHOICES`.
        csv: path of AudioCaps `dataset/test.csv` (else `$SABENCH_AUDIOCAPS`, else under data_root).
        id_list: the captions's public clip list, where it needs one.
        audio_dir: folder of reference clips (else `$SABENCH_AUDIOCAPS_AUDIO`, else
            `<data_root>/audiocaps/audio`).
        on_missing: "error" (list the missing clips), "drop" (evaluate on clips present), or
            "keep" (prompt without reference).
        references: "required" (no audio folder is an error) or "optional".
    """
    csv_path = find_file("AudioCaps test.csv", ["test.csv"], explicit=csv, env="SABENCH_AUDIOCAPS",
                         data_root=data_root, subdirs=_SUBDIRS, fix=_FIX_CSV)
    rows = read_rows(csv_path)
    chosen = select(rows, captions, caption_ids(captions, rows, csv_path, id_list, data_root))
    refs = _references(chosen, audio_dir, on_missing, references, data_root)
    prompts = []
    for r in chosen:
        if on_missing == "drop" and refs is not None and r.youtube_id not in refs:
            continue
        pid = f"ac{r.audiocap_id}" if captions == "all-4875" else f"Y{r.youtube_id}"
        ref = refs.get(r.youtube_id) if refs is not None else None
        prompts.append(Prompt(pid, r.caption, float(duration), str(ref) if ref else None, tags=freeze({
            "youtube_id": r.youtube_id, "audiocap_id": r.audiocap_id,
            "start_time": int(r.start_time), "captions": captions})))
    return prompts


def _references(chosen: list[Row], audio_dir: str | None, on_missing: str, references: str,
                data_root: str | Path | None) -> dict[str, Path] | None:
    if on_missing not in ("error", "drop", "keep") or references not in ("required", "optional"):
        raise SabenchError(f"on_missing={on_missing!r}, references={references!r}", "invalid loader args",
                           "on_missing: error|drop|keep; references: required|optional")
    folder = find_dir(audio_dir, "SABENCH_AUDIOCAPS_AUDIO", data_root, ("audiocaps/audio",))
    if folder is None:
        if references == "required":
            raise SabenchError("AudioCaps reference audio", "no audio folder given",
                               "set $SABENCH_AUDIOCAPS_AUDIO or loader_args.audio_dir to the folder "
                               "of test clips (Y<id>.wav, <id>.wav or <id>_<start>.wav)")
        return None
    index = index_audio(folder)
    found: dict[str, Path] = {}
    missing: list[str] = []
    for r in chosen:
        if r.youtube_id in found:
            continue
        p = match_clip(index, r.youtube_id, r.start_time)
        if p is None:
            missing.append(r.youtube_id)
        else:
            found[r.youtube_id] = p
    if missing and on_missing == "error":
        raise missing_error("AudioCaps reference audio", dict.fromkeys(missing), len(by_clip(chosen)), folder)
    return found


def to_csv_text(rows: list[Row]) -> str:
    """Rows as AudioCaps CSV text (header, minimal quoting, CRLF: the csv module's default,
    which is also how the derived captions files were written)."""
    import io

    buf = io.StringIO(newline="")
    writer = csv.writer(buf)
    writer.writerow(["audiocap_id", "youtube_id", "start_time", "caption"])
    for r in rows:
        writer.writerow([r.audiocap_id, r.youtube_id, r.start_time, r.caption])
    return buf.getvalue()
