"""CSV in and out of a listening study.

- `export_ratings(store, study, path)`: de-identified ratings, one row per (rater, trial):
  raters renumbered 1..n in first-rating order (no tokens, no origin file names), trial id,
  what was rated (condition label, run id, item id), value, play time, timestamps, revision.
- `export_trials(store, study, path)`: the trial list for running the same study elsewhere (a
  crowd platform): trial id, kind, control, opaque clip ids (files `<clip id>.wav` in the
  study's clip folder), texts, the attention answer asked for. A/B values are 1 = clip_a.
- `import_ratings(store, study, path)`: a crowd platform's CSV with columns `rater`,
  `trial_id`, `value` (and optionally `play_ms`); every row goes through the server's checks
  (trial of this study, integer on the trial's scale, played long enough when play_ms is
  given, one answer per rater and trial); any bad row refuses the whole file, naming the row.
  External rater ids are not stored (raters get new numbers).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from harness.errors import SabenchError
from harness.listen.design import condition_label
from harness.listen.server import play_tolerance_ms
from harness.listen.store import ListenStore
from harness.paths import atomic_write_bytes

RATING_COLUMNS = ("study", "rater", "trial_id", "kind", "control", "condition", "condition_b", "run_a", "run_b",
                  "item_id", "value", "play_ms", "ended", "revision", "first_submitted", "submitted")
MAX_IMPORT_ROWS = 1_000_000


def _cell(v: object) -> str:
    """A CSV cell safe to open in a spreadsheet (no leading formula characters)."""
    text = "" if v is None else str(v)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _number(text) else text


def _number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _write(path: Path, header, rows) -> None:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows([[_cell(v) for v in r] for r in rows])
    atomic_write_bytes(Path(path), buf.getvalue().encode("utf-8"))


def _study(store: ListenStore, study: str) -> dict:
    design = store.design_json(study)
    if design is None:
        raise SabenchError(f"study {study}", "not in this results store",
                           f"use one of: {', '.join(store.studies()) or '(none yet)'}")
    return design


def export_ratings(store: ListenStore, study: str, path: Path) -> int:
    design = _study(store, study)
    trials = {t.trial_id: t for t in store.trials(study)}
    ratings = sorted(store.ratings(study), key=lambda r: (r.first_submitted, r.rater_id, r.trial_id))
    number: dict[int, int] = {}
    rows = []
    for r in ratings:
        number.setdefault(r.rater_id, len(number) + 1)
        t = trials[r.trial_id]
        run = lambda c: c if c and not c.startswith("@") else ""  # noqa: E731
        rows.append([study, number[r.rater_id], t.trial_id, t.kind, t.control, condition_label(design, t.condition_a),
                     condition_label(design, t.condition_b) if t.condition_b else "", run(t.condition_a),
                     run(t.condition_b), t.item_id, r.value, r.play_ms, int(r.ended), r.revision, r.first_submitted,
                     r.submitted])
    rows.sort(key=lambda row: (row[1], row[2]))
    _write(path, RATING_COLUMNS, rows)
    return len(rows)


def export_trials(store: ListenStore, study: str, path: Path) -> int:
    _study(store, study)
    rows = [[t.trial_id, t.kind, t.control, t.clip_a, t.clip_b or "", t.source_clip or "", t.text,
             t.source_text or "", t.expect if t.control == "attention" else ""] for t in store.trials(study)]
    _write(path, ("trial_id", "kind", "control", "clip_a", "clip_b", "source_clip", "text", "source_text", "ask"), rows)
    return len(rows)


def import_ratings(store: ListenStore, study: str, path: Path) -> int:
    """Validate every row, then store all of them in one transaction; returns rows stored."""
    design = _study(store, study)
    trials = {t.trial_id: t for t in store.trials(study)}
    secs = {c.clip_id: c.seconds for c in store.clips(study)}
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SabenchError(str(p), f"cannot read the ratings file ({type(exc).__name__})",
                           "pass a UTF-8 CSV with columns rater, trial_id, value[, play_ms]") from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("rater", "trial_id", "value") if c not in (reader.fieldnames or [])]
    if missing:
        raise SabenchError(str(p), f"missing column {missing[0]!r}", "columns: rater, trial_id, value[, play_ms]")
    raters: dict[str, int] = {}
    seen: set[tuple[int, str]] = set()
    rows: list[tuple[int, str, int, int]] = []  # (rater, trial id, value, play ms)
    for line, row in enumerate(reader, start=2):
        if len(rows) >= MAX_IMPORT_ROWS:
            raise SabenchError(str(p), f"more than {MAX_IMPORT_ROWS} rows", "split the file")
        where = f"{p.name} line {line}"
        t = trials.get((row.get("trial_id") or "").strip())
        if t is None:
            raise SabenchError(where, f"trial {row.get('trial_id')!r} is not in study {study}",
                               "use the trial ids of `sabench listen --export-trials`; nothing was imported")
        top = 2 if t.kind == "ab" else 5
        value = _whole((row.get("value") or "").strip())
        if value is None or not 1 <= value <= top:
            raise SabenchError(where, f"value {row.get('value')!r} is not a whole number from 1 to {top}",
                               "fix the row; nothing was imported")
        play = (row.get("play_ms") or "").strip()
        play_ms = -1
        if play:
            parsed = _whole(play)
            if parsed is None or parsed < 0:
                raise SabenchError(where, f"play_ms {play!r} is not a whole number of milliseconds", "fix the row")
            play_ms = parsed
        need = min(secs[c] for c in (t.clip_a, t.clip_b) if c) * design["min_play"] * 1000
        if play and play_ms < need - play_tolerance_ms(need):
            raise SabenchError(where, f"played {play_ms} ms, the design requires {need:.0f} ms",
                               "drop ratings given without listening; nothing was imported")
        ext = (row.get("rater") or "").strip()
        if not ext:
            raise SabenchError(where, "empty rater", "give every row a rater id")
        rid = raters.setdefault(ext, len(raters) + 1)
        if (rid, t.trial_id) in seen:
            raise SabenchError(where, f"a second answer of the same rater for trial {t.trial_id}",
                               "keep one answer per rater and trial; nothing was imported")
        seen.add((rid, t.trial_id))
        rows.append((rid, t.trial_id, value, max(play_ms, 0)))
    if not rows:
        raise SabenchError(str(p), "no rating rows", "pass a CSV with at least one rating")
    return store.import_rows(study, f"import:{p.name}", rows)


def _whole(text: str) -> int | None:
    try:
        return int(text, 10)
    except ValueError:
        return None


__all__ = ["RATING_COLUMNS", "export_ratings", "export_trials", "import_ratings"]
