"""The results store: one SQLite file holding every run, its item scores and aggregates.

- WAL journal + `busy_timeout`, and every write in its own short `BEGIN IMMEDIATE`
  transaction, so several processes (parallel runs, a report reading while a run writes)
  can share one file.
- A `meta` table holds the schema version; a file written by a newer sabench is refused
  with a clear error instead of being misread.
- Item scores and per-metric outputs are written as soon as a metric finishes
  (`put_item_scores`, `put_metric_output`), so a killed run keeps what it computed and a
  resumed run (same run id, see `make_run_id`) picks it up.

Floats are stored as SQLite REAL (IEEE double), so values round-trip bit for bit.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from harness import SCHEMA_VERSION
from harness.errors import SabenchError
from harness.hashing import canonical_json, sha256_json
from harness.records import Aggregate, Failure, ItemScore, MetricInfo, RunResult, SystemInfo
from harness.serialize import metrics_from_list, system_from_dict

_TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, suite TEXT NOT NULL, suite_version TEXT NOT NULL,
    profile TEXT NOT NULL, system_name TEXT NOT NULL, system_json TEXT NOT NULL,
    metrics_json TEXT NOT NULL, environment_json TEXT NOT NULL, created TEXT NOT NULL,
    status TEXT NOT NULL);
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

BUSY_TIMEOUT_MS = 60_000


def make_run_id(suite: str, suite_version: str, system: SystemInfo, metrics: Sequence[MetricInfo],
                seed: int, replicates: int, limit: int | None, preset: str = "sabench",
                inputs: Any = None) -> str:
    """Deterministic run id: a resumed run with the same inputs reuses its id.

    `inputs` identifies how prompts were loaded (loader, its arguments, duration override),
    so changing them in the same output folder starts a new run instead of resuming.
    """
    return sha256_json({
        "suite": suite, "suite_version": suite_version, "system": system.fingerprint(),
        "metrics": [asdict(m) for m in metrics], "seed": seed, "replicates": replicates,
        "limit": limit, "preset": preset, "inputs": inputs, "schema": SCHEMA_VERSION,
    })[:20]


class ResultsStore:
    """SQLite results store (see module docstring). Safe to use from several processes."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._conn: sqlite3.Connection | None = None
        self._pid = -1

    # -- connection -------------------------------------------------------------------------
    def _db(self) -> sqlite3.Connection:
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _retry(lambda: conn.execute("PRAGMA journal_mode = WAL"))
        self._conn, self._pid = conn, os.getpid()
        self._init_schema(conn)
        return conn

    def _init_schema(self, conn: sqlite3.Connection) -> None:
        with _write(conn):
            for stmt in _TABLES.strip().split(";"):
                if stmt.strip():
                    conn.execute(stmt)
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None:
                conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            elif int(row[0]) > SCHEMA_VERSION:
                raise SabenchError(str(self.path), f"results store has schema version {row[0]}, newer than "
                                   f"this sabench ({SCHEMA_VERSION})", "upgrade sabench or use another --out folder")

    def close(self) -> None:
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None

    def schema_version(self) -> int:
        return int(self._db().execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0])

    # -- incremental writes -----------------------------------------------------------------
    def begin_run(self, run_id: str, suite: str, suite_version: str, profile: str,
                  system: SystemInfo, metrics: Sequence[MetricInfo]) -> None:
        """Record a run as "running" (keeping any earlier progress) and clear old failures."""
        conn = self._db()
        with _write(conn):
            conn.execute(
                "INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT(run_id) DO UPDATE SET status='running'",
                (run_id, suite, suite_version, profile, system.name, canonical_json(asdict(system)),
                 canonical_json([asdict(m) for m in metrics]), "{}", _now(), "running"))
            conn.execute("DELETE FROM failures WHERE run_id = ?", (run_id,))

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
        with _write(conn):
            conn.execute("INSERT OR REPLACE INTO runs VALUES (?,?,?,?,?,?,?,?,?,?)",
                         (r.run_id, r.suite, r.suite_version, r.profile, r.system.name,
                          canonical_json(asdict(r.system)), canonical_json([asdict(m) for m in r.metrics]),
                          canonical_json(dict(r.environment)), r.created or _now(), "done"))
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
        _, suite, version, profile, _, system_json, metrics_json, env_json, created, _ = row
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
        system = system_from_dict(json.loads(system_json))
        return RunResult(run_id, suite, version, profile, system, metrics, aggs, items, fails,
                         tuple(sorted(json.loads(env_json).items())), created)

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


class _write:
    """`BEGIN IMMEDIATE ... COMMIT` (ROLLBACK on error), retried while the file is locked."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self) -> None:
        _retry(lambda: self.conn.execute("BEGIN IMMEDIATE"))

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            _retry(lambda: self.conn.execute("COMMIT"))
        else:
            self.conn.execute("ROLLBACK")


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


__all__ = ["ResultsStore", "make_run_id"]
