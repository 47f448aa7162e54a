"""`sabench gate` fails closed, through the real CLI: a table of (baseline, run, options) ->
(exit code, message fragment). Exit codes: 0 pass, 1 regression / failed check, 2 usage error
(one stderr line). No case may print a traceback.

The baseline of most cases is `make_run()`: fd_pann 19.1 (lower is better), clap_laion 0.381
(higher, CI [0.375, 0.387]) and delta_clap -0.05 (higher is better, negative), n = 4 items.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest

from harness.records import Failure

from _gate_kit import check_one_line_error, make_run, sabench, with_n, write_baseline_raw, write_run_json

FAIL = (Failure("item-3", "generate", "boom"),)

# (id, run (None: the baseline itself), extra gate argv, exit code, fragment)
COMPARE_CASES = [
    ("identical", None, [], 0, "PASS"),
    ("fd 3% worse (lower is better)", make_run(fd=19.1 * 1.03), [], 1, "REGRESSED"),
    ("fd 3% better", make_run(fd=19.1 * 0.97), [], 0, "IMPROVED"),
    ("fewer items (n=3 vs 4)", with_n(make_run(), 3), [], 1, "fewer items than the baseline (n=3 vs 4)"),
    ("more items (n=5 vs 4)", with_n(make_run(), 5), [], 1, "more items than the baseline (n=5 vs 4)"),
    ("new item failures", make_run(failures=FAIL), [], 1, "1 new item failure(s): item-3 [generate]"),
    ("missing metric", make_run(clap=None), [], 1, "MISSING"),
    ("every metric failed", make_run(fd=None, clap=None, delta=None), [], 1, "FAIL (3 problem(s))"),
    ("NaN value in the run", make_run(fd=math.nan), [], 1, "NON-FINITE"),
    ("inf value in the run", make_run(clap=math.inf), [], 1, "not a finite number"),
    ("abs:0, identical", None, ["--tolerance", "abs:0"], 0, "PASS"),
    ("abs:0, 1e-9 worse", make_run(clap=0.381 - 1e-9), ["--tolerance", "abs:0"], 1, "REGRESSED"),
    ("abs:0, 1e-9 better", make_run(clap=0.381 + 1e-9), ["--tolerance", "abs:0"], 0, "IMPROVED"),
    # delta_clap: higher is better, baseline -0.05; rel:0.02 allows 0.001 either way
    ("negative baseline, 1% worse", make_run(delta=-0.0505), [], 0, "PASS"),
    ("negative baseline, 4% worse", make_run(delta=-0.052), [], 1, "delta_clap: worse than the baseline"),
    ("negative baseline, 4% better", make_run(delta=-0.048), [], 0, "IMPROVED"),
    ("negative baseline, sign flips worse", make_run(delta=0.05), ["--tolerance", "delta_clap=rel:0.5"], 0, "IMPROVED"),
    ("per-metric tolerance lets it pass", make_run(fd=25.0), ["--tolerance", "fd_pann=abs:10"], 0, "PASS"),
    ("ci tolerance, outside the CI", make_run(clap=0.374), ["--tolerance", "clap_laion=ci"], 1, "REGRESSED"),
    ("ci tolerance on a metric without CI", None, ["--tolerance", "fd_pann=ci"], 1, "NO-CI"),
]

USAGE_CASES = [
    ("abs:nan", ["--tolerance", "abs:nan"], "finite number"),
    ("rel:inf", ["--tolerance", "rel:inf"], "finite number"),
    ("metric=rel:-inf", ["--tolerance", "fd_pann=rel:-inf"], "finite number"),
    ("negative amount", ["--tolerance", "abs:-0.1"], "finite number"),
    ("misspelled metric", ["--tolerance", "fd_pan=abs:1"], "fd_pan=...: the baseline has no such metric"),
    ("unknown kind", ["--tolerance", "pct:3"], "unknown tolerance"),
    ("not a number", ["--tolerance", "abs:x"], "not a number"),
    ("no metric before =", ["--tolerance", "=abs:1"], "no metric name"),
]


@pytest.fixture
def baseline(tmp_path: Path) -> Path:
    run_file = write_run_json(make_run(), tmp_path / "base-run.json")
    proc = sabench(["gate", "--write-baseline", str(tmp_path / "b.json"), "--run", str(run_file)], tmp_path)
    check_one_line_error(proc, 0, "baseline written")
    return tmp_path / "b.json"


@pytest.mark.parametrize("name,run,extra,code,fragment", COMPARE_CASES, ids=[c[0] for c in COMPARE_CASES])
def test_compare_cases(tmp_path: Path, baseline: Path, name, run, extra, code, fragment):
    run_file = write_run_json(run or make_run(), tmp_path / "run.json")
    proc = sabench(["gate", "--baseline", str(baseline), "--run", str(run_file), *extra], tmp_path)
    check_one_line_error(proc, code, fragment)


@pytest.mark.parametrize("name,extra,fragment", USAGE_CASES, ids=[c[0] for c in USAGE_CASES])
def test_bad_tolerances_are_usage_errors(tmp_path: Path, baseline: Path, name, extra, fragment):
    run_file = write_run_json(make_run(fd=99.0), tmp_path / "run.json")  # would fail if compared
    proc = sabench(["gate", "--baseline", str(baseline), "--run", str(run_file), *extra], tmp_path)
    check_one_line_error(proc, 2, fragment)
    assert "REGRESSED" not in proc.stdout


def _set_agg(metric: str, key: str, value):
    def edit(data):
        for agg in data["run"]["aggregates"]:
            if agg["metric"] == metric:
                agg[key] = value
    return edit


# (id, run written as the baseline, edit of its JSON, fragment): each refused with exit 2
BAD_BASELINES = [
    ("null value", make_run(), _set_agg("fd_pann", "value", None), "fd_pann value is None"),
    ("nan value", make_run(), _set_agg("clap_laion", "value", "nan"), "clap_laion value is nan"),
    ("inf value", make_run(), _set_agg("delta_clap", "value", "inf"), "not a finite number"),
    ("text value", make_run(), _set_agg("fd_pann", "value", "abc"), "unusable baseline"),
    ("nan CI", make_run(), _set_agg("clap_laion", "ci_low", "nan"), "is not finite"),
    ("n = 0", make_run(), _set_agg("fd_pann", "n", 0), "n=0"),
    ("no aggregates", make_run(fd=None, clap=None, delta=None), None, "no metric produced a number"),
    ("a metric without aggregate", make_run(clap=None), None, "clap_laion has no aggregate"),
    ("item failures", make_run(failures=FAIL), None, "item failure(s)"),
]


@pytest.mark.parametrize("name,run,edit,fragment", BAD_BASELINES, ids=[c[0] for c in BAD_BASELINES])
def test_unusable_baselines_are_refused(tmp_path: Path, name, run, edit, fragment):
    path = write_baseline_raw(run, tmp_path / "b.json", edit)
    run_file = write_run_json(make_run(), tmp_path / "run.json")
    proc = sabench(["gate", "--baseline", str(path), "--run", str(run_file)], tmp_path)
    check_one_line_error(proc, 2, fragment)


# (id, run, fragment): `--write-baseline` refuses runs that are not complete and finite
UNWRITABLE = [
    ("every metric failed", make_run(fd=None, clap=None, delta=None), "no metric produced a number"),
    ("NaN aggregate", make_run(fd=math.nan), "not a finite number"),
    ("inf aggregate", make_run(delta=-math.inf), "not a finite number"),
    ("inf CI", make_run(ci=(0.375, math.inf)), "is not finite"),
    ("a metric missing", make_run(delta=None), "delta_clap has no aggregate"),
    ("item failures", make_run(failures=FAIL), "item failure(s)"),
    ("zero items", with_n(make_run(), 0), "n=0"),
]


@pytest.mark.parametrize("name,run,fragment", UNWRITABLE, ids=[c[0] for c in UNWRITABLE])
def test_incomplete_runs_cannot_become_baselines(tmp_path: Path, name, run, fragment):
    run_file = write_run_json(run, tmp_path / "run.json")
    proc = sabench(["gate", "--write-baseline", str(tmp_path / "b.json"), "--run", str(run_file)], tmp_path)
    check_one_line_error(proc, 2, fragment)
    assert not (tmp_path / "b.json").exists()


def test_bad_inputs_are_one_line(tmp_path: Path, baseline: Path):
    """Files that are folders, binary, absent; stores that are corrupt or folders."""
    run_file = write_run_json(make_run(), tmp_path / "run.json")
    (tmp_path / "dir.json").mkdir()
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe\x00binary")
    (tmp_path / "junk.sqlite").write_bytes(b"this is not an sqlite file" * 100)
    (tmp_path / "folder.sqlite").mkdir()
    cases = [
        (["--baseline", str(tmp_path / "dir.json"), "--run", str(run_file)], "is a folder"),
        (["--baseline", str(tmp_path / "bin.json"), "--run", str(run_file)], "bin.json"),
        (["--baseline", str(tmp_path / "none.json"), "--run", str(run_file)], "baseline not found"),
        (["--baseline", str(baseline), "--run", str(tmp_path / "dir.json")], "is a folder"),
        (["--baseline", str(baseline), "--results", str(tmp_path / "junk.sqlite")], "is corrupt"),
        (["--baseline", str(baseline), "--results", str(tmp_path / "folder.sqlite")], "is a folder"),
        (["--baseline", str(baseline), "--results", str(tmp_path / "absent.sqlite")], "no results store"),
        (["--write-baseline", str(tmp_path / "dir.json"), "--run", str(run_file)], "is a folder"),
        (["--write-baseline", str(tmp_path / "x.json")], "no --run given"),
    ]
    for argv, fragment in cases:
        check_one_line_error(sabench(["gate", *argv], tmp_path), 2, fragment)


def test_gate_reads_runs_from_a_store(tmp_path: Path):
    """The store path: baseline from a stored run; a later stored run with fewer items fails."""
    from harness.results import ResultsStore

    store = ResultsStore(tmp_path / "results.sqlite")
    store.save_run(replace(make_run(), created="2026-01-01T00:00:00Z"))
    store.close()
    db = str(tmp_path / "results.sqlite")
    proc = sabench(["gate", "--write-baseline", "b.json", "--results", db, "--run", "run-a"], tmp_path)
    check_one_line_error(proc, 0, "baseline written")
    check_one_line_error(sabench(["gate", "--baseline", "b.json", "--results", db], tmp_path), 0, "PASS")
    store = ResultsStore(tmp_path / "results.sqlite")
    store.save_run(replace(with_n(make_run(run_id="run-b"), 3), created="2026-01-02T00:00:00Z"))
    store.close()
    check_one_line_error(sabench(["gate", "--baseline", "b.json", "--results", db], tmp_path), 1, "fewer items")
    check_one_line_error(sabench(["gate", "--baseline", "b.json", "--results", db, "--run", "nope"], tmp_path),
                         2, "run nope")
