"""`sabench run` with no suite/system: the default mini job end to end (reduced with --limit),
plus the suite specs it picks up and the skip-instead-of-fail rule for missing capabilities."""

from __future__ import annotations

import json

import pytest

from harness import cli

MINI_SUITES = {"mini-generation", "mini-tta", "mini-reconstruction", "mini-editing"}


def test_default_job_lists_the_mini_suites_and_systems():
    from harness.job import load_job
    from harness.suite import load_suite

    job = load_job()                                       # no name: the default job, "mini"
    assert job.name == "mini" and job.skip_incapable and job.compare_to == "base-model"
    (group,) = job.groups
    assert MINI_SUITES <= set(group.suites)                # (other tests may register more mini suites)
    assert all(load_suite(s).profile == "mini" for s in group.suites)
    assert group.systems == ("semanticaudio:profile=mini,variant=mlp,d=16",
                             "semanticaudio:profile=mini,variant=mlp,d=64",
                             "semanticaudio:profile=mini,variant=rawpe,d=64",
                             "semanticaudio:profile=mini,variant=mlp,d=16,planner=planner-seed1",
                             "semanticaudio:profile=mini,variant=mlp,d=64,planner=planner-seed1",
                             "semanticaudio:profile=mini,variant=rawpe,d=64,planner=planner-seed1",
                             "base-model:profile=mini", "reference-echo", "source-echo")


def test_mini_suites_load_with_their_metrics():
    from harness.registry import METRICS
    from harness.suite import load_suite

    for name in MINI_SUITES:
        spec = load_suite(name)
        assert spec.profile == "mini" and spec.description.strip().startswith("mini profile")
        for m in spec.metrics:
            assert METRICS.get(m.name)(**dict(m.args)).info.higher_is_better in (True, False)


def test_incapable_system_is_skipped(tmp_path, monkeypatch, capsys):
    """A generate-only system in the default job is skipped for edit/reconstruct suites."""
    from systems.testing import SineSystem

    class GenerateOnly(SineSystem):
        capabilities = frozenset({"generate"})

    from harness import job

    mini = job.load_job("mini")
    reduced = job.Job("mini", "t", (job.JobGroup(("mini-reconstruction", "mini-tta"), ("sine",)),),
                      skip_incapable=mini.skip_incapable)
    monkeypatch.setattr(job, "load_job", lambda name=job.DEFAULT_JOB: reduced)
    monkeypatch.setattr(cli, "make_system", lambda spec: GenerateOnly())
    monkeypatch.setenv("SABENCH_CACHE", str(tmp_path / "cache"))
    code = cli.main(["run", "--out", str(tmp_path / "out"), "--limit", "1", "--no-report"])
    assert code == 0
    captured = capsys.readouterr()
    assert "skip mini-reconstruction x sine: cannot reconstruct" in captured.err
    assert "mini-tta v2 [mini] x sine" in captured.out and "mini-reconstruction v" not in captured.out


@pytest.mark.slow
def test_default_job_end_to_end(tmp_path, monkeypatch):
    monkeypatch.setenv("SABENCH_CACHE", str(tmp_path / "cache"))
    from harness import job

    real = job.load_job("mini")                            # keep only the four suites of this world
    groups = tuple(job.JobGroup(tuple(s for s in g.suites if s in MINI_SUITES), g.systems) for g in real.groups)
    monkeypatch.setattr(job, "load_job", lambda name=job.DEFAULT_JOB: job.Job(
        real.name, real.title, groups, real.compare_to, real.skip_incapable))
    out = tmp_path / "out"
    code = cli.main(["run", "--out", str(out), "--limit", "10", "--quiet"])
    assert code == 0
    report = (out / "report.md").read_text()
    assert "mini" in report and "not comparable with paper numbers" in report
    data = json.loads((out / "report.json").read_text())
    assert data["profiles"] == ["mini"]
    from harness.results import ResultsStore

    runs = ResultsStore(out / "results.sqlite").runs()
    pairs = {(r.suite, r.system.name, *(dict(r.system.parameters).get(k) for k in ("variant", "d", "planner")))
             for r in runs}
    assert len(runs) == 33 and len(pairs) == 33            # 4 suites x 8 systems + source-echo (editing only)
    assert all(r.profile == "mini" and r.aggregates for r in runs)


@pytest.mark.slow
def test_mini_suite_prompt_sets(tmp_path, monkeypatch):
    """The documented sizes; every generation row has >= 2 ordered foreground events and
    every TTA row a paraphrase that differs from the canonical caption."""
    from harness.suite import load_suite

    monkeypatch.setenv("SABENCH_CACHE", str(tmp_path / "cache"))
    gen = load_suite("mini-generation").prompts()
    assert len(gen) == 184 and all(len(p.tag("order")) >= 2 for p in gen)
    tta = load_suite("mini-tta").prompts()
    assert len(tta) == 150 and all(p.text != p.tag("canonical") for p in tta)
    edit = load_suite("mini-editing").prompts()
    cats = {p.tag("category") for p in edit}
    assert len(edit) == 140 and len(cats) == 14 and all(p.source and p.reference for p in edit)
    assert len(load_suite("mini-reconstruction").prompts()) == 100
