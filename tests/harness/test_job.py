"""Job files (`sabench run --job`): strict parsing, the shipped `paper` job, and a two-group
job end to end (with the unedited-source row of an editing table)."""

from __future__ import annotations

import json

import pytest

from harness import cli
from harness.errors import SabenchError
from harness.job import load_job
from harness.system_spec import build_system


def write(tmp_path, text: str):
    p = tmp_path / "job.yaml"
    p.write_text(text)
    return str(p)


@pytest.mark.parametrize("text,match", [
    ("runs: []\n", "no runs"),
    ("tittle: x\nruns: [{suites: [a], systems: [sine]}]\n", r"unknown key\(s\) \['tittle'\]"),
    ("runs: [{suites: [a], systems: [sine], limit: 3}]\n", r"runs\[0\].*exactly the keys"),
    ("runs: [{suites: [a], systems: []}]\n", "no systems"),
    ("runs: [{suites: a, systems: [sine]}]\n", "bad suites"),
    ("runs: [{suites: [a], systems: [{name: sine, cfg: 3}]}]\n", "bad system entry"),
    ("runs: [{suites: [a], systems: [{name: sine, lable: x}]}]\n", "bad system entry"),
    ("runs: [{suites: [a], systems: [{name: sine, params: {path: 'a,b'}}]}]\n", "not plain scalars"),
    ("runs: [{suites: {profile: nosuch}, systems: [sine]}]\n", "no registered suite has profile"),
    ("runs: [\n", "not valid YAML"),
])
def test_bad_job_files_are_refused_by_name(tmp_path, text, match):
    with pytest.raises(SabenchError, match=match):
        load_job(write(tmp_path, text))


def test_unknown_job_name_lists_the_jobs():
    with pytest.raises(SabenchError, match=r"no such job.*\['mini', 'paper'"):
        load_job("papr")


def test_paper_job_covers_tables_1_to_4():
    """Every suite exists, every system builds from its spec (no weights read), and each paper
    table gets the paper's rows."""
    from harness.suite import load_suite
    from reports.tables import PAPER_TABLES

    job = load_job("paper")
    pairs = job.pairs()
    by_suite: dict[str, list[str]] = {}
    for suite, spec in pairs:
        by_suite.setdefault(suite, []).append(spec)
        assert load_suite(suite).name == suite
        build_system(spec)
    assert set(by_suite) == set(PAPER_TABLES)
    assert len(by_suite["audiocaps"]) == 8 and by_suite["audiocaps"] == by_suite["ttabench"]
    assert "semanticvocoder:device=auto" in by_suite["reconstruction"] and len(by_suite["reconstruction"]) == 6
    assert by_suite["editing"] == ["semanticaudio:variant=mlp,d=128,device=auto", "tangoflux:device=auto",
                                   "resonate:device=auto", "base-model:device=auto", "source-echo"]
    assert job.compare_to == "base-model" and not job.skip_incapable
    labels = {(suite, spec): job.label(suite, spec) for suite, spec in pairs}
    assert all(labels.values())                                            # every row as the paper names it
    assert labels[("editing", "semanticaudio:variant=mlp,d=128,device=auto")] == "Semantic FlowEdit"
    assert labels[("audiocaps", "semanticaudio:variant=mlp,d=128,device=auto")] == "d=128"


def test_job_and_suite_options_are_exclusive(tmp_path, capsys):
    code = cli.main(["run", "--job", "mini", "--suite", "mini-tta", "--system", "sine", "--out", str(tmp_path)])
    assert code == 2 and "--job cannot be combined with --suite/--system" in capsys.readouterr().err


def test_two_group_job_end_to_end(tmp_path, monkeypatch):
    """Group 1: mini-tta x {sine, noise}; group 2: mini-editing x {source-echo, sine}. Four
    runs, paired differences against `compare_to`, and the unedited source scores delta-CLAP
    0 (same samples as the source; tolerance 1e-6: float32 embeddings of equal input)."""
    monkeypatch.setenv("SABENCH_CACHE", str(tmp_path / "cache"))
    path = write(tmp_path, "title: t\ncompare_to: sine\nruns:\n"
                 "  - {suites: [mini-tta], systems: [sine, {name: noise, params: {amplitude: 0.2}}]}\n"
                 "  - {suites: [mini-editing], systems: [{name: source-echo, label: Unedited source}, sine]}\n")
    out = tmp_path / "out"
    assert cli.main(["run", "--job", path, "--out", str(out), "--limit", "10", "--quiet"]) == 0
    runs = json.loads((out / "report.json").read_text())["runs"]
    got = sorted((r["suite"], r["system"]["name"]) for r in runs)
    assert got == [("mini-editing", "sine"), ("mini-editing", "source-echo"),
                   ("mini-tta", "noise"), ("mini-tta", "sine")]
    echo = next(r for r in runs if r["system"]["name"] == "source-echo")
    delta = next(a for a in echo["aggregates"] if a["metric"] == "mini_delta_clap")
    assert delta["n"] == 10 and abs(delta["value"]) < 1e-6
    md = (out / "report.md").read_text()
    assert "Paired differences vs sine" in md
    assert "| Unedited source |" in md and "| source-echo |" not in md      # the job's row label
    (out / "report.md").unlink()
    assert cli.main(["report", "--out", str(out), "--formats", "md"]) == 0   # later, from the store
    assert "| Unedited source [1] |" in (out / "report.md").read_text()  # [1]: the --limit note


def test_keep_going_job_survives_a_system_without_weights(tmp_path, monkeypatch, capsys):
    """tangoflux has no weights here: with --keep-going its pair is reported as not run (by
    name, with the missing file) and the other pairs still run and report; exit code 1.
    Without --keep-going the same job stops with the error."""
    monkeypatch.setenv("SABENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("SABENCH_WEIGHTS", raising=False)
    path = write(tmp_path, "runs:\n  - {suites: [mini-tta], systems: [tangoflux, sine]}\n")
    out = tmp_path / "out"
    code = cli.main(["run", "--job", path, "--out", str(out), "--limit", "10", "--quiet", "--keep-going"])
    err = capsys.readouterr().err
    assert code == 1 and "not run: mini-tta x tangoflux" in err and "tangoflux" in err
    runs = json.loads((out / "report.json").read_text())["runs"]
    assert [r["system"]["name"] for r in runs] == ["sine"] and runs[0]["aggregates"]
    assert cli.main(["run", "--job", path, "--out", str(tmp_path / "o2"), "--limit", "10", "--quiet"]) == 2
