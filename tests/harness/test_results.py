"""The SQLite results store: round trips, filters, schema guard, two writing processes."""

from __future__ import annotations

import math
import multiprocessing as mp
import sqlite3

import pytest

from harness import RESULTS_SCHEMA as SCHEMA_VERSION
from harness.errors import SabenchError
from harness.records import Aggregate, Failure, ItemScore, MetricInfo, RunResult, SystemInfo
from harness.results import ResultsStore

from _plans import make_plan

SYS = SystemInfo("sine", "1", "none", 16000, 1, (("amplitude", 0.5),))
MET = (MetricInfo("rms", True), MetricInfo("fd", False, backbone="panns", kind="set"))


def _result(run_id="r1", suite="s", system=SYS, profile="mini") -> RunResult:
    return RunResult(
        run_id, suite, "1", profile, system, MET,
        aggregates=(Aggregate("rms", 0.1 + 0.2, 0.25, 0.35, 2), Aggregate("fd", 12.5, n=2, extras=(("k", [1, 2]),))),
        items=(ItemScore("a", "rms", 1 / 3), ItemScore("b", "rms", math.pi)),
        failures=(Failure("c", "generate", "boom"),), environment=(("numpy", "1.26"),), created="2026-01-01T00:00:00Z")


def test_round_trip_is_exact(tmp_path):
    store = ResultsStore(tmp_path / "r.sqlite")
    r = _result()
    store.save_run(r)
    back = ResultsStore(tmp_path / "r.sqlite").load_run("r1")
    assert back.items == r.items and back.failures == r.failures and back.system == r.system
    assert back.metrics == r.metrics and back.environment == r.environment
    assert back.aggregates[0] == r.aggregates[0]  # 0.1 + 0.2 survives bit for bit (REAL = double)
    assert dict(back.aggregates[1].extras) == {"k": [1, 2]}
    assert store._db().execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_filters_and_incremental_scores(tmp_path):
    store = ResultsStore(tmp_path / "r.sqlite")
    store.save_run(_result("r1", suite="s1"))
    store.save_run(_result("r2", suite="s2", profile="real"))
    plan = make_plan(suite="s1")
    store.begin_run(plan)  # unfinished: not listed
    store.put_item_scores("r3", "rms", {"x": 1.5, "y": float("nan")})
    assert plan.run_id not in [r.run_id for r in store.runs()]
    assert [r.run_id for r in store.runs()] == ["r1", "r2"]
    assert [r.run_id for r in store.runs(suite="s1")] == ["r1"]
    assert [r.run_id for r in store.runs(profile="real")] == ["r2"]
    assert store.runs(system="other") == []
    scores = store.item_scores("r3", "rms")
    assert scores["x"] == 1.5 and math.isnan(scores["y"])
    store.put_metric_output("r3", "fd", "h1", 3.0, {"a": 1})
    assert store.metric_output("r3", "fd", "h1") == (3.0, {"a": 1})
    assert store.metric_output("r3", "fd", "h2") is None  # a different item set is not reused


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "r.sqlite"
    ResultsStore(path).save_run(_result())
    con = sqlite3.connect(path)
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    con.commit()
    con.close()
    with pytest.raises(SabenchError, match="newer than this sabench"):
        ResultsStore(path).runs()


def test_unknown_run_is_a_one_line_error(tmp_path):
    with pytest.raises(SabenchError, match="nope"):
        ResultsStore(tmp_path / "r.sqlite").load_run("nope")


def _writer(path: str, tag: str, n: int, barrier) -> None:
    store = ResultsStore(path)
    store.schema_version()  # open (and maybe create) the file, then start together
    barrier.wait(60)
    for i in range(n):
        store.put_item_scores(f"run-{tag}", "m", {f"item{i}": float(i)})
        store.save_run(_result(f"{tag}-{i}", suite=tag))


def test_two_processes_writing_at_once(tmp_path):
    path = str(tmp_path / "shared.sqlite")
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_writer, args=(path, tag, 40, barrier)) for tag in ("a", "b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    store = ResultsStore(path)
    assert len(store.runs(suite="a")) == 40 and len(store.runs(suite="b")) == 40
    assert store.item_scores("run-a", "m") == {f"item{i}": float(i) for i in range(40)}
    assert store.item_scores("run-b", "m") == {f"item{i}": float(i) for i in range(40)}


def test_run_id_is_the_plans_hash_and_sensitive_to_every_field():
    from dataclasses import replace

    base = make_plan()
    assert base.run_id == make_plan().run_id
    changed = [replace(base, suite_version="2"), replace(base, seed=1), replace(base, replicates=2),
               replace(base, limit=5), replace(base, preset="audioldm_eval"),
               replace(base, system=SystemInfo("sine", "1", "none", 16000, 1, (("amplitude", 0.4),))),
               replace(base, metrics=base.metrics[:1]),
               replace(base, metrics=(base.metrics[0], replace(base.metrics[1], backbone_checkpoint_sha256="cd" * 32))),
               replace(base, backbones=(replace(base.backbones[0], device="cuda:0"),)),
               replace(base, samples_sha256="1" * 64),
               replace(base, inputs=(("duration", 4.0), ("loader", "m:f"), ("loader_args", [])))]
    ids = [p.run_id for p in changed]
    assert base.run_id not in ids and len(set(ids)) == len(ids)


def test_plan_round_trips_through_the_store(tmp_path):
    from dataclasses import replace

    plan = make_plan()
    r = replace(_result(run_id=plan.run_id), metrics=plan.metrics, plan=plan)
    store = ResultsStore(tmp_path / "r.sqlite")
    store.save_run(r)
    back = ResultsStore(tmp_path / "r.sqlite").load_run(plan.run_id)
    assert back.plan == plan and back.plan.run_id == plan.run_id and back.metrics == plan.metrics


def test_a_result_that_does_not_match_its_plan_is_refused(tmp_path):
    from dataclasses import replace

    plan = make_plan()
    with pytest.raises(SabenchError, match="does not match its run plan"):
        ResultsStore(tmp_path / "r.sqlite").save_run(replace(_result(run_id="other"), metrics=plan.metrics, plan=plan))


def test_schema_1_store_is_migrated_and_its_runs_kept_as_legacy(tmp_path):
    path = tmp_path / "r.sqlite"
    ResultsStore(path).save_run(_result("old"))
    con = sqlite3.connect(path)  # make it look like a file written by results schema 1
    con.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    con.execute("ALTER TABLE runs DROP COLUMN plan_json")  # schema 1 had no plan column
    con.commit()
    con.close()
    store = ResultsStore(path)
    assert store.runs() == [] and store.legacy_runs() == ["old"]
    assert store.schema_version() == SCHEMA_VERSION
    assert store.load_run("old").plan is None  # still readable by id, never listed


def test_gate_refuses_a_legacy_run(tmp_path):
    """A schema-1 run is kept in the store but the gate will not compare it (one line, exit 2)."""
    from reports import gate

    path = tmp_path / "r.sqlite"
    ResultsStore(path).save_run(_result("old"))
    con = sqlite3.connect(path)
    con.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    con.execute("ALTER TABLE runs DROP COLUMN plan_json")
    con.commit()
    con.close()
    ResultsStore(path).runs()  # migrate
    assert gate.main(["--results", str(path), "--run", "old", "--write-baseline", str(tmp_path / "b.json")]) == 2
    assert not (tmp_path / "b.json").exists()
