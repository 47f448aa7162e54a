"""Listening-test tables in the results store (`results.sqlite`), schema-versioned on their own.

The tables live beside the run tables in the same SQLite file (WAL, `BEGIN IMMEDIATE` writes
retried while locked, `synchronous=FULL`), with their own version key
`listen_schema_version` in the `meta` table. Every rating is committed before the server
acknowledges it, so killing the server (even SIGKILL) loses nothing acknowledged.

Tables (all keyed by study):
- listen_studies: the design (JSON, with the recorded item draw and condition labels).
- listen_clips: opaque clip id -> prepared playback file (loudness-normalised) and its role.
- listen_trials: what one trial shows (kind, condition(s), item, clips, texts, control type).
- listen_raters: rater id, token, consent / loudness-check times, origin ("web" or "import:<file>").
- listen_assignments: a rater's trials in their own order: position, opaque assignment id
  (the id a rater submits for), A/B swap, when first shown.
- listen_ratings: the current rating per (rater, trial): value, play time, ended flag,
  timestamps, revision (1 = first answer; a change of mind increments it).
- listen_rating_history: every accepted answer (rater, trial, revision, value, play time, time).

One connection per thread (the web server answers from a thread pool).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import SabenchError
from harness.results import ResultsStore, _retry, _write
from harness.store_db import BUSY_TIMEOUT_MS, connect, refuse_folder

LISTEN_SCHEMA = 1
"""Version of the listening tables (meta key `listen_schema_version`)."""

_TABLES = """
CREATE TABLE IF NOT EXISTS listen_studies (
    study TEXT PRIMARY KEY, design_json TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS listen_clips (
    study TEXT NOT NULL, clip_id TEXT PRIMARY KEY, path TEXT NOT NULL, role TEXT NOT NULL,
    seconds REAL NOT NULL);
CREATE TABLE IF NOT EXISTS listen_trials (
    study TEXT NOT NULL, trial_id TEXT PRIMARY KEY, kind TEXT NOT NULL, control TEXT NOT NULL,
    condition_a TEXT NOT NULL, condition_b TEXT, item_id TEXT NOT NULL, clip_a TEXT NOT NULL,
    clip_b TEXT, source_clip TEXT, text TEXT NOT NULL, source_text TEXT, expect INTEGER);
CREATE TABLE IF NOT EXISTS listen_raters (
    study TEXT NOT NULL, rater_id INTEGER NOT NULL, token TEXT NOT NULL UNIQUE, created TEXT NOT NULL,
    consented TEXT, checked TEXT, origin TEXT NOT NULL, PRIMARY KEY (study, rater_id));
CREATE TABLE IF NOT EXISTS listen_assignments (
    study TEXT NOT NULL, rater_id INTEGER NOT NULL, position INTEGER NOT NULL,
    assignment_id TEXT NOT NULL UNIQUE, trial_id TEXT NOT NULL, swapped INTEGER NOT NULL,
    first_shown TEXT, PRIMARY KEY (study, rater_id, position), UNIQUE (study, rater_id, trial_id));
CREATE TABLE IF NOT EXISTS listen_ratings (
    study TEXT NOT NULL, rater_id INTEGER NOT NULL, trial_id TEXT NOT NULL, value INTEGER NOT NULL,
    play_ms INTEGER NOT NULL, ended INTEGER NOT NULL, shown TEXT, first_submitted TEXT NOT NULL,
    submitted TEXT NOT NULL, revision INTEGER NOT NULL, PRIMARY KEY (study, rater_id, trial_id));
CREATE TABLE IF NOT EXISTS listen_rating_history (
    study TEXT NOT NULL, rater_id INTEGER NOT NULL, trial_id TEXT NOT NULL, revision INTEGER NOT NULL,
    value INTEGER NOT NULL, play_ms INTEGER NOT NULL, submitted TEXT NOT NULL,
    PRIMARY KEY (study, rater_id, trial_id, revision));
"""


@dataclass(frozen=True)
class Clip:
    clip_id: str
    path: str
    role: str
    """"sample", "reference", "anchor", "source" or "check" (the loudness-check clip)."""
    seconds: float


@dataclass(frozen=True)
class Trial:
    trial_id: str
    kind: str
    """"mos", "mos-edit" or "ab"."""
    control: str
    """"" (a main trial), "reference", "anchor", "attention" or "pair" (A/B reference vs anchor)."""
    condition_a: str
    """Run id, or "@reference" / "@anchor" / "@source" for the hidden controls."""
    condition_b: str | None
    item_id: str
    clip_a: str
    clip_b: str | None
    source_clip: str | None
    text: str
    source_text: str | None
    expect: int | None
    """Attention checks: the answer the page asks for."""


@dataclass(frozen=True)
class Assignment:
    rater_id: int
    position: int
    assignment_id: str
    trial: Trial
    swapped: bool


@dataclass(frozen=True)
class Rater:
    study: str
    rater_id: int
    token: str
    consented: str | None
    checked: str | None
    origin: str


@dataclass(frozen=True)
class Rating:
    study: str
    rater_id: int
    trial_id: str
    value: int
    play_ms: int
    ended: bool
    shown: str | None
    first_submitted: str
    submitted: str
    revision: int


def now() -> str:
    """UTC time with milliseconds."""
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"


class ListenStore:
    """The listening tables of one results store file (see module docstring)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._local = threading.local()
        results = ResultsStore(self.path)      # a sabench results store (created if missing)
        results._db()
        results.close()
        conn = self._db()
        with _write(conn):
            for stmt in _TABLES.strip().split(";"):
                if stmt.strip():
                    conn.execute(stmt)
            row = conn.execute("SELECT value FROM meta WHERE key = 'listen_schema_version'").fetchone()
            if row is None:
                conn.execute("INSERT INTO meta VALUES ('listen_schema_version', ?)", (str(LISTEN_SCHEMA),))
            elif int(row[0]) > LISTEN_SCHEMA:
                raise SabenchError(str(self.path), f"listening tables have schema version {row[0]}, newer "
                                   f"than this sabench ({LISTEN_SCHEMA})", "upgrade sabench")

    def _db(self):
        conn = getattr(self._local, "conn", None)
        if conn is None:
            refuse_folder(self.path)
            conn = connect(str(self.path), self.path)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            _retry(lambda: conn.execute("PRAGMA journal_mode = WAL"))
            conn.execute("PRAGMA synchronous = FULL")   # an acknowledged rating survives a crash
            conn.translate = True
            self._local.conn = conn
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- studies ----------------------------------------------------------------------------
    def studies(self) -> list[str]:
        return [r[0] for r in self._db().execute("SELECT study FROM listen_studies ORDER BY created, study")]

    def design_json(self, study: str) -> dict[str, Any] | None:
        row = self._db().execute("SELECT design_json FROM listen_studies WHERE study=?", (study,)).fetchone()
        return None if row is None else json.loads(row[0])

    def create_study(self, study: str, design: dict[str, Any], clips: Sequence[Clip], trials: Sequence[Trial]) -> None:
        conn = self._db()
        with _write(conn):
            if conn.execute("SELECT 1 FROM listen_studies WHERE study=?", (study,)).fetchone():
                raise SabenchError(f"study {study}", "already exists in this results store",
                                   "serve it as it is, or pick another --study name")
            conn.execute("INSERT INTO listen_studies VALUES (?,?,?)",
                         (study, json.dumps(design, sort_keys=True), now()))
            conn.executemany("INSERT INTO listen_clips VALUES (?,?,?,?,?)",
                             [(study, c.clip_id, c.path, c.role, c.seconds) for c in clips])
            conn.executemany("INSERT INTO listen_trials VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                             [(study, t.trial_id, t.kind, t.control, t.condition_a, t.condition_b, t.item_id,
                               t.clip_a, t.clip_b, t.source_clip, t.text, t.source_text, t.expect) for t in trials])

    def clip(self, clip_id: str) -> Clip | None:
        row = self._db().execute("SELECT clip_id, path, role, seconds FROM listen_clips WHERE clip_id=?",
                                 (clip_id,)).fetchone()
        return None if row is None else Clip(*row)

    def clips(self, study: str) -> list[Clip]:
        return [Clip(*r) for r in self._db().execute(
            "SELECT clip_id, path, role, seconds FROM listen_clips WHERE study=? ORDER BY clip_id", (study,))]

    def trials(self, study: str) -> list[Trial]:
        return [Trial(*r) for r in self._db().execute(
            "SELECT trial_id, kind, control, condition_a, condition_b, item_id, clip_a, clip_b, source_clip, "
            "text, source_text, expect FROM listen_trials WHERE study=? ORDER BY trial_id", (study,))]

    # -- raters -----------------------------------------------------------------------------
    def add_rater(self, study: str, token: str, assignments: Sequence[tuple[str, str, bool]],
                  origin: str = "web") -> int:
        """A new rater with their trials in order: [(assignment id, trial id, swapped)]."""
        conn = self._db()
        with _write(conn):
            row = conn.execute("SELECT COALESCE(MAX(rater_id), 0) FROM listen_raters WHERE study=?",
                               (study,)).fetchone()
            rid = int(row[0]) + 1
            conn.execute("INSERT INTO listen_raters VALUES (?,?,?,?,?,?,?)",
                         (study, rid, token, now(), None, None, origin))
            conn.executemany("INSERT INTO listen_assignments VALUES (?,?,?,?,?,?,?)",
                             [(study, rid, k, a, t, int(s), None) for k, (a, t, s) in enumerate(assignments)])
        return rid

    def rater(self, token: str) -> Rater | None:
        row = self._db().execute("SELECT study, rater_id, token, consented, checked, origin FROM listen_raters "
                                 "WHERE token=?", (token,)).fetchone()
        return None if row is None else Rater(*row)

    def raters(self, study: str) -> list[Rater]:
        return [Rater(*r) for r in self._db().execute(
            "SELECT study, rater_id, token, consented, checked, origin FROM listen_raters WHERE study=? "
            "ORDER BY rater_id", (study,))]

    def mark(self, rater: Rater, column: str) -> None:
        """Record consent ("consented") or the loudness check ("checked") once."""
        assert column in ("consented", "checked")
        conn = self._db()
        with _write(conn):
            conn.execute(f"UPDATE listen_raters SET {column} = COALESCE({column}, ?) WHERE study=? AND rater_id=?",
                         (now(), rater.study, rater.rater_id))

    def assignments(self, rater: Rater) -> list[Assignment]:
        trials = {t.trial_id: t for t in self.trials(rater.study)}
        rows = self._db().execute("SELECT position, assignment_id, trial_id, swapped FROM listen_assignments "
                                  "WHERE study=? AND rater_id=? ORDER BY position", (rater.study, rater.rater_id))
        return [Assignment(rater.rater_id, p, a, trials[t], bool(s)) for p, a, t, s in rows]

    def shown(self, rater: Rater, trial_id: str) -> None:
        conn = self._db()
        with _write(conn):
            conn.execute("UPDATE listen_assignments SET first_shown = COALESCE(first_shown, ?) "
                         "WHERE study=? AND rater_id=? AND trial_id=?", (now(), rater.study, rater.rater_id, trial_id))

    # -- ratings ----------------------------------------------------------------------------
    def rate(self, rater: Rater, trial_id: str, value: int, play_ms: int, ended: bool,
             revision: int) -> int:
        """Store one answer if `revision` is the stored one (0: none yet); returns the new
        revision. A stale revision (a replayed or out-of-date request) stores nothing."""
        conn = self._db()
        with _write(conn):
            row = conn.execute("SELECT revision FROM listen_ratings WHERE study=? AND rater_id=? AND trial_id=?",
                               (rater.study, rater.rater_id, trial_id)).fetchone()
            have = 0 if row is None else int(row[0])
            if have != revision:
                raise StaleRevision(have)
            t = now()
            shown = conn.execute("SELECT first_shown FROM listen_assignments WHERE study=? AND rater_id=? AND "
                                 "trial_id=?", (rater.study, rater.rater_id, trial_id)).fetchone()
            new = have + 1
            conn.execute("INSERT INTO listen_ratings VALUES (?,?,?,?,?,?,?,?,?,?) "
                         "ON CONFLICT(study, rater_id, trial_id) DO UPDATE SET value=excluded.value, "
                         "play_ms=excluded.play_ms, ended=excluded.ended, "
                         "submitted=excluded.submitted, revision=excluded.revision",
                         (rater.study, rater.rater_id, trial_id, value, play_ms, int(ended),
                          shown[0] if shown else None, t, t, new))
            conn.execute("INSERT INTO listen_rating_history VALUES (?,?,?,?,?,?,?)",
                         (rater.study, rater.rater_id, trial_id, new, value, play_ms, t))
        return new

    def ratings(self, study: str) -> list[Rating]:
        return [Rating(study, *r[1:]) for r in self._db().execute(
            "SELECT study, rater_id, trial_id, value, play_ms, ended, shown, first_submitted, submitted, revision "
            "FROM listen_ratings WHERE study=? ORDER BY rater_id, trial_id", (study,))]

    def rating_map(self, rater: Rater) -> dict[str, Rating]:
        return {r.trial_id: r for r in self.ratings_of(rater)}

    def ratings_of(self, rater: Rater) -> list[Rating]:
        return [Rating(rater.study, *r) for r in self._db().execute(
            "SELECT rater_id, trial_id, value, play_ms, ended, shown, first_submitted, submitted, revision "
            "FROM listen_ratings WHERE study=? AND rater_id=? ORDER BY trial_id", (rater.study, rater.rater_id))]

    def history(self, study: str) -> list[tuple[int, str, int, int, int, str]]:
        return [tuple(r) for r in self._db().execute(
            "SELECT rater_id, trial_id, revision, value, play_ms, submitted FROM listen_rating_history "
            "WHERE study=? ORDER BY rater_id, trial_id, revision", (study,))]

    def import_rows(self, study: str, origin: str, rows: Iterable[tuple[int, str, int, int]]) -> int:
        """Ratings collected elsewhere, already validated: [(external rater no., trial id, value,
        play_ms)]; one new rater per external rater, all in one transaction. Returns rows stored."""
        conn = self._db()
        rows = list(rows)
        with _write(conn):
            base = int(conn.execute("SELECT COALESCE(MAX(rater_id), 0) FROM listen_raters WHERE study=?",
                                    (study,)).fetchone()[0])
            ids: dict[int, int] = {}
            t = now()
            for ext, trial_id, value, play_ms in rows:
                if ext not in ids:
                    ids[ext] = base + len(ids) + 1
                    conn.execute("INSERT INTO listen_raters VALUES (?,?,?,?,?,?,?)",
                                 (study, ids[ext], f"{origin}#{secrets.token_hex(8)}", t, t, t, origin))
                conn.execute("INSERT INTO listen_ratings VALUES (?,?,?,?,?,?,?,?,?,?)",
                             (study, ids[ext], trial_id, value, play_ms, 1, None, t, t, 1))
                conn.execute("INSERT INTO listen_rating_history VALUES (?,?,?,?,?,?,?)",
                             (study, ids[ext], trial_id, 1, value, play_ms, t))
        return len(rows)


class StaleRevision(Exception):
    """The submitted revision is not the stored one (carries the stored revision)."""

    def __init__(self, have: int):
        super().__init__(have)
        self.have = have


def listen_tables_exist(conn) -> bool:
    """Whether an open results-store connection has listening tables (read-only safe)."""
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    return {"listen_studies", "listen_ratings", "listen_trials"} <= names


__all__ = ["Assignment", "Clip", "LISTEN_SCHEMA", "ListenStore", "Rater", "Rating", "StaleRevision", "Trial",
           "listen_tables_exist", "now"]


class ListenReader(ListenStore):
    """The listening tables through an already-open results-store connection (read-only opens,
    reports): no schema writes."""

    def __init__(self, conn, path: Path):
        self.path = Path(path)
        self._conn = conn

    def _db(self):
        return self._conn

    def close(self) -> None:
        pass
