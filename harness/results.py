"""The results store: one SQLite file holding every run, its item scores and aggregates.

- WAL journal + `busy_timeout`, and every write in its own short `BEGIN IMMEDIATE`
  transaction, so several processes (parallel runs, a report reading while a run writes)
  can share one file.
- A `meta` table holds the schema version; a file written by a newer sabench is refused
  with a clear error instead of being misread.
- Item scores and per-metric outputs are written as soon as a metric finishes
  (`put_item_scores`, `put_metric_output`), so a killed run keeps what it computed and a
  resumed run (same run id: the hash of its plan, `harness.plan`) picks it up.
- Schema 2 stores each run's plan (`plan_json`); a schema-1 file is migrated on open: its runs
  are kept with status "legacy" and left out of `runs()` (reports and the gate), because their
  stored metric identities may be incomplete.

Floats are stored as SQLite REAL (IEEE double), so values round-trip bit for bit.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sqlite3
import tempfile
import time
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from harness import RESULTS_SCHEMA
from harness.errors import SabenchError, describe_os_error
from harness.hashing import canonical_json
from harness.records import Aggregate, Failure, ItemScore, RunPlan, RunResult
from harness.serialize import metrics_from_list, system_from_dict
from harness.store_db import StoreConnection, store_error
from harness.store_db import connect as _connect
from harness.store_db import refuse_folder as _refuse_folder

_TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, suite TEXT NOT NULL, suite_version TEXT NOT NULL,
    profile TEXT NOT NULL, system_name TEXT NOT NULL, system_json TEXT NOT NULL,
    metrics_json TEXT NOT NULL, environment_json TEXT NOT NULL, created TEXT NOT NULL,
    status TEXT NOT NULL, plan_json TEXT);
CREATE TABLE IF NOT EXISTS item_scores (
    run_id TEXT NOT NULL, item_id TEXT NOT NULL, metric TEXT NOT NULL, value REAL,
    PRIMARY KEY (run_id, metric, item_id));
CREATE TABLE IF NOT EXISTS metric_outputs (
    run_id TEXT NOT NULL, metric TEXT NOT NULL, items_hash TEXT NOT NULL, value REAL,
    extras_json TEXT NOT NULL, PRIMARY KEY (run_id, metric));
CREATE TABLE IF NOT EXISTS aggregates (
    run_id TEXT NOT NULL, metric TEXT NOT NULL, value REAL, ci_low REAL, ci_high REAL,
    n INTEGER NOT NULL, extras_json TEXT NOT NULL, PRIMARY KEY (run_id, metric));
CREATE TABLE IF NOT EXISTS samples (
    run_id TEXT NOT NULL, item_id TEXT NOT NULL, path TEXT NOT NULL, text TEXT NOT NULL,
    PRIMARY KEY (run_id, item_id));
CREATE TABLE IF NOT EXISTS failures (
    run_id TEXT NOT NULL, item_id TEXT NOT NULL, stage TEXT NOT NULL, message TEXT NOT NULL,
    PRIMARY KEY (run_id, item_id, stage));
"""

BUSY_TIMEOUT_MS = 60_000  # also in harness.store_db


class ResultsStore:
    """SQLite results store (see module docstring). Safe to use from several processes."""

    def __init__(self, path: str | Path, read_only: bool = False):
        self.path = Path(path)
        self.read_only = read_only
        """Open with `mode=ro` (reports, gates): works on read-only folders and mounts."""
        self._conn: StoreConnection | None = None
        self._pid = -1
        self._snapshot: tempfile.TemporaryDirectory | None = None

    # -- connection -------------------------------------------------------------------------
    def _db(self) -> StoreConnection:
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        try:
            conn = self._open_read_only() if self.read_only else self._open_writable()
        except sqlite3.DatabaseError as exc:
            raise store_error(self.path, exc) from None
        except OSError as exc:
            raise describe_os_error(exc, self.path) from None
        conn.translate = True          # from now on every sqlite error is a one-line SabenchError
        self._conn, self._pid = conn, os.getpid()
        return conn

    def _open_writable(self) -> StoreConnection:
        _refuse_folder(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = _connect(str(self.path), self.path)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            _retry(lambda: conn.execute("PRAGMA journal_mode = WAL"))
            self._refuse_foreign(conn)
            self._init_schema(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _open_read_only(self) -> StoreConnection:
        """`mode=ro`. When the WAL index (-shm) cannot be created (read-only folder or mount):
        `immutable=1` if there is no pending WAL, else a private snapshot copy of the file and
        its WAL (so rows not yet checkpointed are read, never silently dropped)."""
        _refuse_folder(self.path)
        if not self.path.is_file():
            raise SabenchError(str(self.path), "no results store here",
                               "run `sabench run` first, or pass the run folder (--out / --results)")
        uri = "file:" + urllib.parse.quote(str(self.path.resolve()))
        try:
            return self._checked(_connect(uri + "?mode=ro", self.path, uri=True))
        except _OlderSchema:
            return self._snapshot_copy()       # migrated in a private copy, the file is untouched
        except sqlite3.OperationalError as exc:
            if "unable to open" not in str(exc) and "readonly" not in str(exc):
                raise
        wal = Path(str(self.path) + "-wal")
        if not (wal.is_file() and wal.stat().st_size > 0):
            try:
                return self._checked(_connect(uri + "?mode=ro&immutable=1", self.path, uri=True))
            except _OlderSchema:
                pass
        return self._snapshot_copy()

    def _snapshot_copy(self) -> StoreConnection:
        """A private copy of the file and its WAL (if any), opened writable: reads rows not yet
        checkpointed, and migrates an older schema without touching the original."""
        self._snapshot = tempfile.TemporaryDirectory(prefix="sabench-store-")
        copy = Path(self._snapshot.name) / self.path.name
        shutil.copyfile(self.path, copy)
        wal = Path(str(self.path) + "-wal")
        if wal.is_file():
            shutil.copyfile(wal, Path(str(copy) + "-wal"))
        conn = _connect(str(copy), self.path)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._init_schema(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _checked(self, conn: StoreConnection) -> StoreConnection:
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._check_schema(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _refuse_foreign(self, conn: sqlite3.Connection) -> None:
        """Never add sabench tables to someone else's SQLite file."""
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if names and "meta" not in names:
            raise SabenchError(str(self.path), "is an SQLite file but not a sabench results store",
                               "pass another --out folder (sabench will not write into this file)")

    def _check_schema(self, conn: sqlite3.Connection) -> None:
        """A read-only store must already be a sabench store of a schema this code can read."""
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not {"meta", "runs", "aggregates"} <= names:
            raise SabenchError(str(self.path), "is an SQLite file but not a sabench results store",
                               "pass the results.sqlite that `sabench run` wrote")
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is not None and int(row[0]) > RESULTS_SCHEMA:
            raise SabenchError(str(self.path), f"results store has schema version {row[0]}, newer than "
                               f"this sabench ({RESULTS_SCHEMA})", "upgrade sabench or use another --out folder")
        if row is None or int(row[0]) < RESULTS_SCHEMA:
            raise _OlderSchema()

    def _init_schema(self, conn: sqlite3.Connection) -> None:
        with _write(conn):
            for stmt in _TABLES.strip().split(";"):
                if stmt.strip():
                    conn.execute(stmt)
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None:
                conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(RESULTS_SCHEMA),))
            elif int(row[0]) > RESULTS_SCHEMA:
                raise SabenchError(str(self.path), f"results store has schema version {row[0]}, newer than "
                                   f"this sabench ({RESULTS_SCHEMA})", "upgrade sabench or use another --out folder")
            elif int(row[0]) < RESULTS_SCHEMA:
                _migrate(conn, int(row[0]))

    def close(self) -> None:
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None
        if self._snapshot is not None:
            self._snapshot.cleanup()
            self._snapshot = None

    def legacy_runs(self) -> list[str]:
        """Ids of runs written before run plans (results schema 1): kept, never shown in reports."""
        return [r[0] for r in self._db().execute("SELECT run_id FROM runs WHERE status = 'legacy' ORDER BY run_id")]

    def schema_version(self) -> int:
        return int(self._db().execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0])

    # -- incremental writes -----------------------------------------------------------------
    def begin_run(self, plan: RunPlan) -> None:
        """Record a planned run as "running" (keeping any earlier progress) and clear old failures.

        The run id is the plan's hash, so a stored run's identity (plan, metrics) never changes."""
        conn = self._db()
        with _write(conn):
            conn.execute(
                "INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(run_id) DO UPDATE SET status='running'",
                (plan.run_id, plan.suite, plan.suite_version, plan.profile, plan.system.name,
                 canonical_json(asdict(plan.system)), canonical_json([asdict(m) for m in plan.metrics]), "{}",
                 _now(), "running", canonical_json(plan.to_dict())))
            conn.execute("DELETE FROM failures WHERE run_id = ?", (plan.run_id,))

    def put_labels(self, labels: Mapping[str, str]) -> None:
        """Row labels by run id (a job's `label:`), kept for reports built later."""
        conn = self._db()
        with _write(conn):
            conn.executemany("INSERT OR REPLACE INTO meta VALUES (?,?)",
                             [(f"label:{rid}", str(lab)) for rid, lab in labels.items()])

    def labels(self) -> dict[str, str]:
        rows = self._db().execute("SELECT key, value FROM meta WHERE key LIKE 'label:%'").fetchall()
        return {k[len("label:"):]: v for k, v in rows}

    def put_item_scores(self, run_id: str, metric: str, scores: Mapping[str, float]) -> None:
        conn = self._db()
        with _write(conn):
            conn.executemany("INSERT OR REPLACE INTO item_scores VALUES (?,?,?,?)",
                             [(run_id, k, metric, _real(v)) for k, v in scores.items()])

    def put_item_score(self, run_id: str, item_id: str, metric: str, value: float) -> None:
        self.put_item_scores(run_id, metric, {item_id: value})

    def item_scores(self, run_id: str, metric: str) -> dict[str, float]:
        rows = self._db().execute("SELECT item_id, value FROM item_scores WHERE run_id=? AND metric=? "
                                  "ORDER BY item_id", (run_id, metric)).fetchall()
        return {k: _float(v) for k, v in rows}

    def put_metric_output(self, run_id: str, metric: str, items_hash: str, value: float | None,
                          extras: Mapping[str, Any]) -> None:
        """Mark a metric finished over the item set `items_hash` (its item scores already stored)."""
        conn = self._db()
        with _write(conn):
            conn.execute("INSERT OR REPLACE INTO metric_outputs VALUES (?,?,?,?,?)",
                         (run_id, metric, items_hash, _real(value), canonical_json(dict(extras))))

    def metric_output(self, run_id: str, metric: str, items_hash: str) -> tuple[float | None, dict] | None:
        """(value, extras) of a finished metric over exactly this item set, else None."""
        row = self._db().execute("SELECT value, extras_json FROM metric_outputs WHERE run_id=? AND metric=? "
                                 "AND items_hash=?", (run_id, metric, items_hash)).fetchone()
        return None if row is None else (row[0], json.loads(row[1]))

    def put_samples(self, run_id: str, samples: Mapping[str, tuple[str, str]]) -> None:
        """Where each item's audio is: {item_id: (artifact path, prompt text)} (for reports)."""
        conn = self._db()
        with _write(conn):
            conn.executemany("INSERT OR REPLACE INTO samples VALUES (?,?,?,?)",
                             [(run_id, i, p, t) for i, (p, t) in samples.items()])

    def samples(self, run_id: str) -> dict[str, tuple[str, str]]:
        """{item_id: (artifact path, prompt text)} as stored by `put_samples`."""
        rows = self._db().execute("SELECT item_id, path, text FROM samples WHERE run_id=? ORDER BY item_id",
                                  (run_id,)).fetchall()
        return {i: (p, t) for i, p, t in rows}

    def put_failures(self, run_id: str, failures: Iterable[Failure]) -> None:
        conn = self._db()
        with _write(conn):
            conn.executemany("INSERT OR REPLACE INTO failures VALUES (?,?,?,?)",
                             [(run_id, f.item_id, f.stage, f.message) for f in failures])

    # -- whole runs -------------------------------------------------------------------------
    def save_run(self, result: RunResult) -> None:
        """Write (or replace) a finished run: row, item scores, aggregates, failures."""
        conn = self._db()
        r = result
        if r.plan is not None and (r.plan.run_id != r.run_id or r.plan.metrics != r.metrics):
            raise SabenchError(f"run {r.run_id}", "the result does not match its run plan",
                               "a bug: results must carry the plan's run id and MetricInfos unchanged")
        with _write(conn):
            conn.execute("INSERT OR REPLACE INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                         (r.run_id, r.suite, r.suite_version, r.profile, r.system.name,
                          canonical_json(asdict(r.system)), canonical_json([asdict(m) for m in r.metrics]),
                          canonical_json(dict(r.environment)), r.created or _now(),
                          "done",
                          None if r.plan is None else canonical_json(r.plan.to_dict())))
            for table in ("item_scores", "aggregates", "failures"):
                conn.execute(f"DELETE FROM {table} WHERE run_id = ?", (r.run_id,))
            conn.executemany("INSERT INTO item_scores VALUES (?,?,?,?)",
                             [(r.run_id, s.item_id, s.metric, _real(s.value)) for s in r.items])
            conn.executemany("INSERT INTO aggregates VALUES (?,?,?,?,?,?,?)",
                             [(r.run_id, a.metric, _real(a.value), _real(a.ci_low), _real(a.ci_high), a.n,
                               canonical_json(dict(a.extras))) for a in r.aggregates])
            conn.executemany("INSERT INTO failures VALUES (?,?,?,?)",
                             [(r.run_id, f.item_id, f.stage, f.message) for f in r.failures])

    def load_run(self, run_id: str) -> RunResult:
        conn = self._db()
        row = conn.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            raise SabenchError(f"run {run_id}", f"not in {self.path}", "list runs with `sabench report`")
        _, suite, version, profile, _, system_json, metrics_json, env_json, created, _, plan_json = row
        items = tuple(ItemScore(i, m, _float(v)) for i, m, v in conn.execute(
            "SELECT item_id, metric, value FROM item_scores WHERE run_id=? ORDER BY metric, item_id", (run_id,)))
        aggs = tuple(Aggregate(m, _float(v), _opt(lo), _opt(hi), n, tuple(sorted(json.loads(x).items())))
                     for m, v, lo, hi, n, x in conn.execute(
                         "SELECT metric, value, ci_low, ci_high, n, extras_json FROM aggregates "
                         "WHERE run_id=? ORDER BY metric", (run_id,)))
        fails = tuple(Failure(*f) for f in conn.execute(
            "SELECT item_id, stage, message FROM failures WHERE run_id=? ORDER BY stage, item_id", (run_id,)))
        metrics = metrics_from_list(json.loads(metrics_json))
        order = {m.name: i for i, m in enumerate(metrics)}  # aggregates in the suite's metric order
        aggs = tuple(sorted(aggs, key=lambda a: (order.get(a.metric, len(order)), a.metric)))
        plan = None if plan_json is None else RunPlan.from_dict(json.loads(plan_json))
        system = system_from_dict(json.loads(system_json))
        return RunResult(run_id, suite, version, profile, system, metrics, aggs, items, fails,
                         tuple(sorted(json.loads(env_json).items())), created, plan)

    def runs(self, suite: str | None = None, system: str | None = None,
             profile: str | None = None, status: str = "done") -> list[RunResult]:
        """Finished runs, optionally filtered by suite name, system name and profile."""
        sql, args = "SELECT run_id FROM runs WHERE status = ?", [status]
        for col, val in (("suite", suite), ("system_name", system), ("profile", profile)):
            if val is not None:
                sql += f" AND {col} = ?"
                args.append(val)
        ids = [r[0] for r in self._db().execute(sql + " ORDER BY created, run_id", args)]
        return [self.load_run(i) for i in ids]


def _migrate(conn: sqlite3.Connection, version: int) -> None:
    """Results schema 1 -> 2 (inside the caller's write transaction): add the plan column and mark
    every schema-1 run "legacy". Those runs were identified without their backbones' checkpoints
    (a re-run could even store them without), so they are kept but never reported or gated:
    re-run them (same command) to get planned runs."""
    if version == 1:
        cols = {r[1] for r in conn.execute("PRAGMA table_info(runs)")}
        if "plan_json" not in cols:
            conn.execute("ALTER TABLE runs ADD COLUMN plan_json TEXT")
        conn.execute("UPDATE runs SET status = 'legacy' WHERE plan_json IS NULL")
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(RESULTS_SCHEMA),))


class _write:
    """`BEGIN IMMEDIATE ... COMMIT` (ROLLBACK on error), retried while the file is locked.

    A failed COMMIT (disk full) is rolled back too, so the store keeps its last consistent
    state; a ROLLBACK that finds no open transaction (SQLite already rolled back) is fine."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self) -> None:
        _retry(lambda: self.conn.execute("BEGIN IMMEDIATE"))

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            try:
                _retry(lambda: self.conn.execute("COMMIT"))
            except BaseException:
                self._rollback()
                raise
        else:
            self._rollback()

    def _rollback(self) -> None:
        if self.conn.in_transaction:
            try:
                self.conn.execute("ROLLBACK")
            except (sqlite3.Error, SabenchError):
                pass  # the original error is the one to report


class _OlderSchema(Exception):
    """A read-only open found a store of an older schema (migrated in a snapshot copy)."""


def _retry(fn, attempts: int = 50):
    """Run `fn`, retrying "database is locked" (busy_timeout covers most; this covers the rest)."""
    for i in range(attempts):
        try:
            return fn()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc) or i == attempts - 1:
                raise
            time.sleep(0.05 * (1 + i % 10))


def _real(v: float | None) -> float | None:
    """SQLite stores NaN as NULL; keep None for None and NaN alike (read back as NaN)."""
    if v is None:
        return None
    v = float(v)
    return None if math.isnan(v) else v


def _float(v: float | None) -> float:
    return math.nan if v is None else float(v)


def _opt(v: float | None) -> float | None:
    return None if v is None else float(v)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


__all__ = ["ResultsStore"]
