"""Honest tables (issue 11): n per cell, --limit and failures noted, mini backbones named,
no ranking across different n, per-metric comparability, true-best bolding, separated markers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from harness.errors import SabenchError
from harness.records import Failure, ItemScore, MetricInfo
from reports import build_report, render, tables
from reports.html import table_html
from reports.provenance import is_mini_backbone

import _paper_fixture as F

FULL = 957


def _t1(label: str, fd: float, is_: float, clap: float | None, **kw):
    return F.run("audiocaps", label, {"fd_pann": fd, "is_pann": is_, "clap_laion": clap},
                 **{"n": FULL, "suite_n": FULL, **kw})


def _bold_cells(tex: str) -> list[str]:
    return re.findall(r"\\textbf\{([^}]*)\}", tex)


def _md_row(md: str, label: str) -> str:
    return next(ln for ln in md.splitlines() if ln.startswith(f"| {label}"))


# (a) a --limit run beside a full run ------------------------------------------------------

def test_limit_run_beside_full_run_is_not_ranked_and_noted():
    full = _t1("tangoflux", 22.6, 12.05, 0.361)
    lim = _t1("resonate", 16.0, 11.04, 0.403, n=5, limit=5)  # better everywhere, on 5 items
    t = tables.table1([full, lim])
    assert set(t.unranked) == {"fd_pann", "is_pann", "clap_laion"}
    assert _bold_cells(render.latex(t)) == []
    assert "best" not in table_html(t).replace("td.best", "")
    md = render.markdown(t)
    assert _md_row(md, "resonate") == "| resonate [1] | 16.0 (n=5) | 11.04 (n=5) | 0.403 (n=5) |"
    assert _md_row(md, "tangoflux") == "| tangoflux | 22.6 | 12.05 | 0.361 |"  # n = the suite's: not shown
    assert "[1] --limit 5: first 5 of 957 prompts" in md
    assert "Note: CLAP: not ranked, rows scored different numbers of items (n: tangoflux 957, resonate 5)" in md


def test_two_limit_runs_of_the_same_size_are_ranked():
    a = _t1("a", 16.0, 11.0, 0.40, n=5, limit=5)
    b = _t1("b", 17.0, 12.0, 0.30, n=5, limit=5)
    t = tables.table1([a, b])
    assert t.unranked == () and _bold_cells(render.latex(t)) == ["16.0 (n=5)", "0.400 (n=5)", "12.00 (n=5)"]


def test_same_n_but_different_items_is_not_ranked():
    a = _t1("a", 16.0, 11.0, 0.40, items=(ItemScore("p1", "clap_laion", 0.4), ItemScore("p2", "clap_laion", 0.4)))
    b = _t1("b", 17.0, 12.0, 0.30, items=(ItemScore("p1", "clap_laion", 0.3), ItemScore("p3", "clap_laion", 0.3)))
    t = tables.table1([a, b])
    assert t.unranked == ("clap_laion",) and "CLAP: not ranked, rows scored different items (same n)" in t.notes


def test_a_failed_item_changes_n_and_stops_ranking():
    a = _t1("a", 16.0, 11.0, 0.40)
    b = _t1("b", 17.0, 12.0, 0.30, n_by_metric={"clap_laion": FULL - 1},
            failures=(Failure("p7", "generate", "CUDA out of memory"),))
    t = tables.table1([a, b])
    md = render.markdown(t)
    assert t.unranked == ("clap_laion",) and "0.300 (n=956)" in md
    assert "| b [1] |" in md and "[1] 1 failure(s) on 1 item(s) (generate: 1); listed under Failures" in md
    assert _bold_cells(render.latex(t)) == ["16.0", "12.00"]  # FD and IS still ranked


def test_results_without_a_plan_say_n_is_unknown():
    a = F.run("audiocaps", "a", {"clap_laion": 0.4}, planned=False, n=10)
    b = F.run("audiocaps", "b", {"clap_laion": 0.3}, planned=False, n=4)
    t = tables.table1([a, b])
    md = render.markdown(t)
    assert "Note: n planned unknown (no run plan stored with the result): a, b" in md
    assert "| a | — | — | 0.400 (n=10) |" in md and "| b | — | — | 0.300 (n=4) |" in md
    assert t.unranked == ("clap_laion",)
    same = tables.table1([a, F.run("audiocaps", "c", {"clap_laion": 0.3}, planned=False, n=10)])
    assert "(n=" not in render.markdown(same) and same.unranked == ()


# (b) a metric missing from one run ------------------------------------------------------

def test_failed_metric_leaves_an_empty_cell_and_a_note_other_columns_ranked():
    other = dict(F.METRICS)  # the failed run never loaded LAION-CLAP: its identity differs, and must not matter
    other["clap_laion"] = MetricInfo("clap_laion", True, "laion_clap", "0" * 64, "r48k")
    ok = _t1("tangoflux", 22.6, 12.05, 0.361)
    ok2 = _t1("resonate", 16.0, 11.04, 0.403)
    bad = _t1("base", 25.0, 7.11, None, metric_infos=other,
              failures=(Failure("*", "metric:clap_laion", "WeightsError: 630k-audioset-best.pt missing"),))
    t = tables.table1([ok, bad, ok2])  # default mixing="refuse": no error
    md = render.markdown(t)
    assert "| base [1,2] | 25.0 | 7.11 | — |" in md
    assert "[1] 1 failure(s) (metric:clap_laion: 1); listed under Failures" in md
    assert "[2] base: clap_laion failed (WeightsError: 630k-audioset-best.pt missing)" in md
    assert "not comparable" not in md and t.unranked == ()
    assert _bold_cells(render.latex(t)) == ["12.05", "16.0", "0.403"]


def test_metric_dropped_by_the_plan_is_noted():
    dropped = F.run("audiocaps", "base", {"fd_pann": 25.0, "is_pann": 7.11}, n=FULL, suite_n=FULL,
                    failures=(Failure("*", "plan:metric:clap_laion", "metric clap_laion (backbone laion_clap): "
                                      "weights not found"),))
    t = tables.table1([_t1("a", 20.0, 9.0, 0.3), dropped])
    assert "base: clap_laion dropped by the run plan (metric clap_laion (backbone laion_clap): weights not found)" \
        in t.footnotes
    assert t.rows[1].cells[2].value is None


def test_comparability_is_per_shown_column():
    other = dict(F.METRICS)
    other["clap_ms"] = MetricInfo("clap_ms", True, "ms_clap", "1" * 64, "r44k")
    a = F.run("audiocaps", "a", {"fd_pann": 20.0, "clap_laion": 0.3, "clap_ms": 0.4}, n=FULL, suite_n=FULL)
    b = F.run("audiocaps", "b", {"fd_pann": 21.0, "clap_laion": 0.4, "clap_ms": 0.5}, n=FULL, suite_n=FULL,
              metric_infos=other)
    assert tables.table1([a, b]).footnotes == ()  # clap_ms differs but is not a Table 1 column
    with pytest.raises(SabenchError, match="row 'b' vs 'a'.*clap_ms backbone: ms_clap @ 111111111111"):
        tables.leaderboard([a, b])
    t = tables.leaderboard([a, b], mixing="footnote")
    assert t.unranked == ("clap_ms",) and t.rows[1].notes == (1,)
    assert _bold_cells(render.latex(t)) == ["20.00", "0.400"]  # fd and clap_laion still ranked


def test_backbone_version_counts_when_known():
    v2 = dict(F.METRICS)
    v2["clap_laion"] = MetricInfo("clap_laion", True, "laion_clap", "d" * 64, "r48k", backbone_version="2")
    v1 = dict(F.METRICS)
    v1["clap_laion"] = MetricInfo("clap_laion", True, "laion_clap", "d" * 64, "r48k", backbone_version="1")
    a = F.run("audiocaps", "a", {"clap_laion": 0.3}, metric_infos=v1)
    with pytest.raises(SabenchError, match="clap_laion backbone_version: 2 \\(vs 1\\)"):
        tables.table1([a, F.run("audiocaps", "b", {"clap_laion": 0.3}, metric_infos=v2)])
    tables.table1([a, F.run("audiocaps", "c", {"clap_laion": 0.3})])  # unknown (pre-plan): not a conflict


# (c) ties --------------------------------------------------------------------------------

def test_exact_tie_is_not_bold():
    t = tables.table2([F.run("ttabench", "a", {"clap_ms": 0.459}), F.run("ttabench", "b", {"clap_ms": 0.459})])
    assert _bold_cells(render.latex(t)) == [] and "best" not in table_html(t).replace("td.best", "")
    assert json.loads(render.json_text(t))["rows"][0]["values"]["clap_ms"]["best"] is False


def test_tie_at_shown_precision_bolds_only_the_true_best():
    rows = [F.run("ttabench", "a", {"clap_ms": 0.4589}), F.run("ttabench", "b", {"clap_ms": 0.4591}),
            F.run("ttabench", "c", {"clap_ms": 0.4591}), F.run("ttabench", "d", {"clap_ms": 0.4})]
    t = tables.table2(rows)
    tex = render.latex(t)
    assert "\na & 0.459 &" in tex and r"b & \textbf{0.459}" in tex and r"c & \textbf{0.459}" in tex
    assert render.best_rows(t, 0) == {1, 2}  # two rows truly tied for best, one worse: both bold
    page = table_html(t)
    assert page.count('class="num best"') == 2 and 'class="num best" data-value="0.4591"' in page


def test_single_row_is_not_bold():
    assert _bold_cells(render.latex(tables.table2([F.run("ttabench", "a", {"clap_ms": 0.5})]))) == []


# (d) mini backbones ----------------------------------------------------------------------

def test_mini_backbone_in_a_real_suite_is_named():
    mini = dict(F.METRICS)
    mini["clap_laion"] = MetricInfo("clap_laion", True, "mini_clap", "9" * 64, "r16k")
    t = tables.table1([F.run("audiocaps", "ours", {"clap_laion": 0.38}, metric_infos=mini),
                       F.run("audiocaps", "base", {"clap_laion": 0.32}, metric_infos=mini)])
    md = render.markdown(t)
    assert t.mini_backbones == ("mini_clap",)
    assert "Profile: real (but scored in part with mini backbones: mini_clap; not comparable" in md
    assert "| ours [1] |" in md and "| base [1] |" in md
    assert "[1] mini (SynthCaps stand-in) backbone in a real-profile run: clap_laion by mini_clap" in md
    assert "mini backbones: mini\\_clap" in render.latex(t)
    assert "mini backbones: mini_clap" in table_html(t)
    from reports.html import page
    assert '<p class="profile mini">Profile: real \u2014 some real-profile columns were scored with mini ' \
        'backbones (mini_clap)' in page("r", ["real"], [t])


def test_mini_backbone_found_by_checkpoint_not_only_name():
    manifest = Path(F.__file__).resolve().parents[2] / "suites" / "synthcaps" / "checkpoints" / "manifest.json"
    sha = json.loads(manifest.read_text())["mini_clap.safetensors"]
    assert is_mini_backbone("mini_clap") and is_mini_backbone("clap_copy", sha)
    assert not is_mini_backbone("laion_clap", "d" * 64) and not is_mini_backbone(None)
    renamed = dict(F.METRICS)
    renamed["clap_laion"] = MetricInfo("clap_laion", True, "my_clap", sha, "r16k")
    t = tables.table1([F.run("audiocaps", "ours", {"clap_laion": 0.38}, metric_infos=renamed)])
    assert t.mini_backbones == ("my_clap",)


def test_mini_profile_table_has_no_mini_backbone_notes():
    infos = {"mini_clap": MetricInfo("mini_clap", True, "mini_clap", "9" * 64, "r16k")}
    t = tables.leaderboard([F.run("synthcaps", "sa", {"mini_clap": 0.4}, profile="mini", metric_infos=infos)])
    assert t.footnotes == () and t.mini_backbones == ()
    assert "Profile: mini (embedded SynthCaps world with mini backbones" in render.markdown(t)


# (e) failures listed in the report --------------------------------------------------------

def test_failures_listed_in_markdown_and_html(tmp_path: Path):
    fails = tuple(Failure(f"p{k:03d}", "generate", f"bad <clip> {k} | x") for k in range(60))
    a = _t1("tangoflux", 22.6, 12.05, 0.361, failures=fails, n=FULL - 60)
    b = _t1("resonate", 16.0, 11.04, 0.403, failures=(Failure("*", "metric:clap_laion", "NaN"),))
    paths = build_report([a, b], tmp_path, formats=("md", "html", "json"))
    md = paths["md"].read_text()
    assert "## Failures" in md and f"### tangoflux (audiocaps v1.0.0, run {a.run_id})" in md
    assert "| p000 | generate | bad &lt;clip&gt; 0 \\| x |" in md and "| p049 |" in md and "| p050 |" not in md
    assert "\u2026 and 10 more (all in report.json)" in md
    assert "| * | metric:clap_laion | NaN |" in md
    page = paths["html"].read_text()
    assert "<h2>Failures</h2>" in page and "<td>p049</td>" in page and "<td>p050</td>" not in page
    assert "bad &lt;clip&gt; 0 | x" in page and "<clip>" not in page and "and 10 more" in page
    data = json.loads(paths["json"].read_text())
    assert len(data["runs"][0]["failures"]) == 60  # the JSON keeps them all


def test_no_failures_no_section(tmp_path: Path):
    paths = build_report([_t1("a", 1.0, 2.0, 0.3)], tmp_path, formats=("md", "html"))
    assert "Failures" not in paths["md"].read_text() and "Failures" not in paths["html"].read_text()


# (f) footnote markers ---------------------------------------------------------------------

def test_footnote_markers_are_separated_in_every_format():
    run = _t1("tangoflux", 22.6, 12.05, 0.361, n=5, limit=5, failures=(Failure("p1", "generate", "x"),))
    t = tables.table1([run])
    assert t.rows[0].notes == (1, 2)
    assert "| tangoflux [1,2] |" in render.markdown(t)
    tex = render.latex(t)
    assert "tangoflux [1,2] &" in tex and "{[}1{]} --limit 5" in tex and "{[}2{]} 1 failure(s)" in tex
    assert "tangoflux <sup>[1,2]</sup>" in table_html(t)
    assert "[1] --limit 5" in table_html(t)


# the rest: table 6, CSV, JSON, run files ---------------------------------------------------

def test_table6_notes_limit_and_never_ranks_categories():
    run = F.table6_run()
    limited = F.run("editing", "ours", {"clap_target": 0.3}, items=run.items, suite_n=200, n=20, limit=20)
    t = tables.table6(limited)
    note = "ours: --limit 20: first 20 of 200 prompts (n=20 items planned); not comparable with a full run"
    assert t.notes == (note,)
    assert _bold_cells(render.latex(t)) == []


def test_csv_and_json_carry_n():
    t = tables.table1([_t1("a", 20.0, 9.0, 0.3), _t1("b", 21.0, 8.0, 0.4, n=5, limit=5)])
    lines = render.csv_text(t).splitlines()
    assert lines[0] == "profile,suite,Model,fd_pann,fd_pann_n,is_pann,is_pann_n,clap_laion,clap_laion_n,notes"
    assert lines[2].startswith("real,audiocaps v1.0.0,b,21.0,5,8.0,5,0.4,5,'--limit 5")  # ' : CSV-injection guard
    d = json.loads(render.json_text(t))
    assert d["rows"][1]["values"]["clap_laion"]["n"] == 5 and set(d["unranked"]) == {"fd_pann", "is_pann",
                                                                                      "clap_laion"}


def test_run_files_keep_the_plan(tmp_path: Path):
    from reports.serialize import read_run, write_run

    run = _t1("a", 20.0, 9.0, 0.3, n=5, limit=5)
    back = read_run(write_run(run, tmp_path / "run.json"))
    assert back == run and back.plan.limit == 5
