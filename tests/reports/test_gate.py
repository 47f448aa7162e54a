"""Regression gate: identical runs pass, injected regressions fail, tolerance kinds."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from harness.errors import SabenchError
from harness.records import Aggregate, MetricInfo
from reports import gate
from reports.serialize import read_run, write_run

import _paper_fixture as F


def _run(fd=19.1, clap=0.381, ci=(0.375, 0.387), **kw):
    r = F.run("audiocaps", "semanticaudio", {"fd_pann": fd, "clap_laion": clap}, **kw)
    aggs = (Aggregate("fd_pann", fd, n=957), Aggregate("clap_laion", clap, ci[0], ci[1], 957))
    return replace(r, aggregates=aggs)


def test_identical_run_passes(tmp_path: Path):
    path = gate.write_baseline(_run(), tmp_path / "b.json")
    res = gate.compare(_run(), gate.read_baseline(path))
    assert res.passed and res.exit_code == 0 and [r.status for r in res.rows] == ["ok", "ok"]


def test_injected_regressions_fail_in_the_right_direction(tmp_path: Path):
    base = gate.read_baseline(gate.write_baseline(_run(), tmp_path / "b.json"))
    worse_fd = gate.compare(_run(fd=19.1 * 1.03), base)  # lower is better: +3% > 2%
    assert not worse_fd.passed and worse_fd.rows[0].status == "regressed"
    better_fd = gate.compare(_run(fd=19.1 * 0.97), base)
    assert better_fd.passed and better_fd.rows[0].status == "improved"
    within = gate.compare(_run(fd=19.1 * 1.01, clap=0.381 * 0.99), base)
    assert within.passed
    worse_clap = gate.compare(_run(clap=0.36), base)  # higher is better
    assert not worse_clap.passed and worse_clap.rows[1].status == "regressed"
    table = worse_clap.table()
    assert "FAIL" in table and "REGRESSED" in table and "clap_laion" in table and "-0.021" in table


def test_tolerance_kinds():
    base = _run()
    ci = {"clap_laion": gate.Tolerance("ci")}
    assert gate.compare(_run(clap=0.376), base, ci).passed  # inside [0.375, 0.387]
    assert not gate.compare(_run(clap=0.374), base, ci).passed
    assert gate.compare(_run(clap=0.374), base, {"clap_laion": gate.Tolerance("ci", 0.002)}).passed
    no_ci = gate.compare(_run(), base, {"fd_pann": gate.Tolerance("ci")})
    assert not no_ci.passed and no_ci.rows[0].status == "no-ci"
    absolute = {"fd_pann": gate.Tolerance("abs", 0.5)}
    assert gate.compare(_run(fd=19.5), base, absolute).passed
    assert not gate.compare(_run(fd=19.7), base, absolute).passed
    assert not gate.compare(_run(fd=float("nan")), base).passed
    assert gate.Tolerance.parse("rel:0.05") == gate.Tolerance("rel", 0.05)
    with pytest.raises(SabenchError):
        gate.Tolerance.parse("pct:3")


def test_missing_metric_and_incomparable_runs_fail():
    base = _run()
    only_fd = replace(_run(), aggregates=(Aggregate("fd_pann", 19.1),))
    res = gate.compare(only_fd, base)
    assert not res.passed and res.rows[1].status == "missing"
    other = dict(F.METRICS)
    other["clap_laion"] = MetricInfo("clap_laion", True, "laion_clap", "0" * 64, "r48k")
    moved = _run(metric_infos=other)
    res = gate.compare(moved, base)
    assert not res.passed and "backbone_checkpoint_sha256" in res.problems[0]
    assert gate.compare(moved, base, allow_mismatch=True).passed
    assert not gate.compare(_run(version="2.0.0"), base).passed


def test_gate_main_exit_codes(tmp_path: Path, capsys):
    write_run(_run(), tmp_path / "run.json")
    assert read_run(tmp_path / "run.json") == _run()
    assert gate.gate_main(["--write-baseline", str(tmp_path / "b.json"), "--run", str(tmp_path / "run.json")]) == 0
    assert gate.gate_main(["--baseline", str(tmp_path / "b.json"), "--run", str(tmp_path / "run.json")]) == 0
    write_run(_run(fd=25.0), tmp_path / "bad.json")
    assert gate.gate_main(["--baseline", str(tmp_path / "b.json"), "--run", str(tmp_path / "bad.json")]) == 1
    assert gate.gate_main(["--baseline", str(tmp_path / "b.json"), "--run", str(tmp_path / "bad.json"),
                           "--tolerance", "fd_pann=abs:10"]) == 0
    assert gate.gate_main(["--baseline", str(tmp_path / "nope.json"), "--run", str(tmp_path / "run.json")]) == 2
    out = capsys.readouterr()
    assert "REGRESSED" in out.out and "baseline not found" in out.err


def test_gate_main_with_results_store(tmp_path: Path):
    from harness.results import ResultsStore

    store = ResultsStore(tmp_path / "results.sqlite")
    store.save_run(_run())
    db = str(tmp_path / "results.sqlite")
    assert gate.main(["--write-baseline", str(tmp_path / "b.json"), "--results", db, "--run", _run().run_id]) == 0
    assert gate.main(["--baseline", str(tmp_path / "b.json"), "--results", db]) == 0


def test_backbone_version_and_device_are_part_of_the_identity():
    """A new backbone version (e.g. the mini CLAP text tower fix) or another device fails the
    gate as not comparable; an older baseline that does not record them is not flagged."""
    base = _run()
    infos = {m.name: m for m in base.metrics}
    for field, old, new in (("backbone_version", "1", "2"), ("backbone_device", "cpu", "cuda:0")):
        then = {k: replace(v, **{field: old}) for k, v in infos.items()}
        now = {k: replace(v, **{field: new}) for k, v in infos.items()}
        res = gate.compare(_run(metric_infos=now), _run(metric_infos=then))
        assert not res.passed and any(field in p for p in res.problems), field
        unknown = {k: replace(v, **{field: None}) for k, v in infos.items()}
        assert gate.compare(_run(metric_infos=now), _run(metric_infos=unknown)).passed
