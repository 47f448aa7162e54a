"""Paper tables from the paper's own numbers: Markdown written by hand from the paper."""

from __future__ import annotations

import pytest

from harness.errors import SabenchError
from reports import render, tables

import _paper_fixture as F

HEAD = "Profile: real \u00b7 suite: {suite} v1.0.0\n\n"

TABLE1_MD = "### Table 1: Text-to-audio generation on AudioCaps\n\n" + HEAD.format(suite="audiocaps") + """\
| Model | FD↓ | IS↑ | CLAP↑ | MOS↑ |
|---|---|---|---|---|
| Resonate | 16.0 | 11.04 | 0.403 | 3.78 |
| TangoFlux | 22.6 | 12.05 | 0.361 | 3.85 |
| Base Model | 25.0 | 7.11 | 0.318 | 3.42 |
| Ours (d=32) | 22.5 | 7.35 | 0.348 | 3.48 |
| Ours (d=64) | 22.2 | 7.40 | 0.356 | 3.52 |
| Ours (d=128) | 19.1 | 9.13 | 0.381 | 3.72 |
| Ours (d=1024) | 20.9 | 8.76 | 0.373 | 3.65 |
| Ours (d=1024, rawPE) | 33.8 | 6.65 | 0.320 | 3.18 |
"""

TABLE2_MD = "### Table 2: TTA-Bench (accuracy prompts)\n\n" + HEAD.format(suite="ttabench") + """\
| Model | CLAP↑ | AES-CU↑ | AES-PQ↑ |
|---|---|---|---|
| Resonate | 0.459 | 5.258 | 5.942 |
| TangoFlux | 0.464 | 5.006 | 5.701 |
| Base Model | 0.426 | 5.119 | 5.897 |
| Ours (d=32) | 0.422 | 4.896 | 5.648 |
| Ours (d=64) | 0.425 | 4.911 | 5.652 |
| Ours (d=128) | 0.459 | 5.187 | 5.936 |
| Ours (d=1024) | 0.458 | 5.045 | 5.735 |
"""

TABLE3_MD = "### Table 3: Acoustic reconstruction\n\n" + HEAD.format(suite="reconstruction") + """\
| Config | Mel Loss↓ | STFT Loss↓ |
|---|---|---|
| Ours d=1024 (rawPE) | 1.202 | 1.670 |
| Ours d=1024 (DDT) | 1.256 | 1.695 |
| Ours (d=128) | 1.413 | 1.828 |
| Ours (d=64) | 1.595 | 1.992 |
| Ours (d=32) | 1.817 | 2.270 |
| SemanticVocoder (Xie et al., 2025) | 1.927 | 2.886 |
"""

TABLE4_MD = "### Table 4: Training-free editing\n\n" + HEAD.format(suite="editing") + """\
| Method | CLAP↑ | ΔCLAP↑ | MOS↑ |
|---|---|---|---|
| Ours (Semantic FlowEdit) | 0.351 | +0.094 | 3.71 |
| TangoFlux FlowEdit | 0.339 | +0.081 | 3.54 |
| Resonate FlowEdit | 0.322 | +0.065 | 3.48 |
| Base Model (DAC FlowEdit) | 0.290 | +0.054 | 3.32 |
| Original Source | 0.257 | — | 3.89 |
"""

TABLE6_MD = "### Table 6: Editing per category (Ours (Semantic FlowEdit))\n\n" + HEAD.format(suite="editing") + """\
| Edit Type | N | CLAP↑ | ΔCLAP↑ |
|---|---|---|---|
| Sound Removal | 22 | 0.309 | +0.160 |
| Subject Replace | 31 | 0.378 | +0.154 |
| Other Replace | 18 | 0.297 | +0.123 |
| Action Replace | 7 | 0.378 | +0.115 |
| Weather Change | 22 | 0.318 | +0.109 |
| Event Replace | 16 | 0.387 | +0.099 |
| Sound Addition | 18 | 0.351 | +0.084 |
| Intensity Change | 6 | 0.389 | +0.078 |
| Material Change | 6 | 0.378 | +0.076 |
| Spatial Change | 6 | 0.341 | +0.071 |
| Vehicle Replace | 12 | 0.319 | +0.059 |
| Atmosphere Change | 12 | 0.335 | +0.047 |
| Environment Add | 14 | 0.347 | +0.045 |
| Temporal Change | 10 | 0.390 | +0.044 |
"""


def test_table1_markdown():
    runs, mos = F.table1_runs()
    assert render.markdown(tables.table1(runs, mos=mos)) == TABLE1_MD


def test_table1_without_ratings_drops_mos():
    runs, _ = F.table1_runs()
    md = render.markdown(tables.table1(runs))
    assert "| Model | FD↓ | IS↑ | CLAP↑ |\n" in md and "MOS" not in md


def test_table2_markdown():
    assert render.markdown(tables.table2(F.table2_runs())) == TABLE2_MD


def test_table3_markdown():
    assert render.markdown(tables.table3(F.table3_runs())) == TABLE3_MD


def test_table4_markdown():
    runs, mos = F.table4_runs()
    assert render.markdown(tables.table4(runs, mos=mos)) == TABLE4_MD


def test_table6_markdown_from_items():
    t = tables.table6(F.table6_run())
    assert render.markdown(t) == TABLE6_MD
    total = tables.table6(F.table6_run(), total=True).rows[-1]
    assert total.label == "Total" and total.cells[0].value == 200
    # the Total row is the mean over all 200 items, i.e. the N-weighted mean of the rows
    # (0.346 / +0.102 from the paper's Table 6; its Table 4 0.351 is the unweighted row mean)
    n = sum(r[1] for r in F.T6)
    assert total.cells[1].value == pytest.approx(sum(r[1] * r[2] for r in F.T6) / n, abs=1e-9)
    assert total.cells[2].value == pytest.approx(sum(r[1] * r[3] for r in F.T6) / n, abs=1e-9)


def test_mixing_suite_versions_refused_or_footnoted():
    runs = F.table2_runs()
    runs[2] = F.run("ttabench", "Base Model", {"clap_ms": 0.426, "aes_cu": 5.119, "aes_pq": 5.897}, version="1.1.0")
    with pytest.raises(SabenchError, match="Base Model.*suite: ttabench v1.1.0"):
        tables.table2(runs)
    t = tables.table2(runs, mixing="footnote")
    assert t.rows[2].notes == (1,) and all(not r.notes for i, r in enumerate(t.rows) if i != 2)
    md = render.markdown(t)
    assert "| Base Model [1] |" in md and "[1] suite: ttabench v1.1.0 (vs ttabench v1.0.0)" in md
    assert set(t.unranked) == {"clap_ms", "aes_cu", "aes_pq"}  # footnoted rows are never ranked


def test_mixing_backbone_checkpoint_and_preset_and_profile():
    runs = F.table3_runs()[:2]
    other = dict(F.METRICS)
    other["clap_laion"] = F.MetricInfo("clap_laion", True, "laion_clap", "9" * 64, "r48k")
    a = F.run("audiocaps", "A", {"clap_laion": 0.3})
    b = F.run("audiocaps", "B", {"clap_laion": 0.3}, metric_infos=other)
    with pytest.raises(SabenchError, match="clap_laion backbone"):
        tables.leaderboard([a, b])
    other["clap_laion"] = F.MetricInfo("clap_laion", True, "laion_clap", "d" * 64, "r48k", preset="audioldm_eval")
    c = F.run("audiocaps", "C", {"clap_laion": 0.3}, metric_infos=other)
    with pytest.raises(SabenchError, match="preset"):
        tables.leaderboard([a, c])
    d = F.run("reconstruction", "D", {"mel_loss": 1.0, "stft_loss": 2.0}, profile="mini")
    with pytest.raises(SabenchError, match="profile: mini"):
        tables.table3(runs + [d])


def test_latex_bold_best_respects_direction():
    runs, mos = F.table1_runs()
    tex = render.latex(tables.table1(runs, mos=mos))
    assert r"\toprule" in tex and r"\midrule" in tex and r"\bottomrule" in tex
    assert r"FD$\downarrow$ & IS$\uparrow$ & CLAP$\uparrow$ & MOS$\uparrow$ \\" in tex
    lines = {ln.split(" & ")[0]: ln for ln in tex.splitlines() if " & " in ln}
    assert lines["Resonate"] == r"Resonate & \textbf{16.0} & 11.04 & \textbf{0.403} & 3.78 \\"
    assert lines["TangoFlux"] == r"TangoFlux & 22.6 & \textbf{12.05} & 0.361 & \textbf{3.85} \\"
    assert tex.count(r"\textbf") == 4
    t3 = render.latex(tables.table3(F.table3_runs()))
    assert r"Ours d=1024 (rawPE) & \textbf{1.202} & \textbf{1.670} \\" in t3
    t2 = render.latex(tables.table2(F.table2_runs()))  # tie: 0.459 twice is not the best (0.464)
    assert r"TangoFlux & \textbf{0.464}" in t2 and t2.count(r"\textbf") == 3
    runs4, mos4 = F.table4_runs()
    t4 = render.latex(tables.table4(runs4, mos=mos4))
    assert r"Original Source & 0.257 & --- & \textbf{3.89} \\" in t4
    assert r"$\Delta$CLAP$\uparrow$" in t4 and r"\textbf{+0.094}" in t4


def test_latex_ties_and_escaping():
    a = F.run("ttabench", "x_&_y%", {"clap_ms": 0.4591})
    b = F.run("ttabench", "b", {"clap_ms": 0.4589})
    tex = render.latex(tables.table2([a, b]))
    # equal at the shown precision, not at full precision: only the true best is bold
    assert r"x\_\&\_y\% & \textbf{0.459}" in tex and "\nb & 0.459 &" in tex


def test_ci_rendering():
    from harness.records import Aggregate

    r = F.run("audiocaps", "A", {"clap_laion": 0.3})
    r = F.RunResult(r.run_id, r.suite, r.suite_version, r.profile, r.system, r.metrics,
                    (Aggregate("clap_laion", 0.381, 0.375, 0.389, 957),))
    t = tables.table1([r])
    assert "| A | — | — | 0.381 ± 0.007 |" in render.markdown(t, ci="pm")
    assert "0.381 [0.375, 0.389]" in render.markdown(t, ci="interval")
    assert "clap_laion_ci_low" in render.csv_text(t)


def test_csv_and_json():
    runs, mos = F.table1_runs()
    t = tables.table1(runs, mos=mos)
    lines = render.csv_text(t).splitlines()
    assert lines[0] == "profile,suite,Model,fd_pann,is_pann,clap_laion,mos,notes"
    assert lines[1] == "real,audiocaps v1.0.0,Resonate,16.0,11.04,0.403,3.78,"
    import json
    d = json.loads(render.json_text(t))
    assert d["profile"] == "real" and d["rows"][5]["values"]["clap_laion"]["value"] == 0.381
    assert [c["higher_is_better"] for c in d["columns"]] == [False, True, True, True]


def test_leaderboard_takes_metrics_from_runs_and_names_mini():
    from harness.records import MetricInfo

    infos = {"mini_fd": MetricInfo("mini_fd", False, kind="set"), "mini_clap": MetricInfo("mini_clap", True)}
    runs = [F.run("synthcaps", "sa", {"mini_fd": 12.345, "mini_clap": 0.41234}, profile="mini", metric_infos=infos),
            F.run("synthcaps", "base", {"mini_fd": 20.0, "mini_clap": 0.3}, profile="mini", metric_infos=infos)]
    t = tables.leaderboard(runs)
    md = render.markdown(t)
    assert "| System | mini_fd↓ | mini_clap↑ |" in md and "| sa | 12.35 | 0.412 |" in md
    assert "Profile: mini (embedded SynthCaps world" in md and "not comparable with paper numbers" in md
    assert "Profile: mini" in render.latex(t)


def test_default_labels_disambiguate_parameters():
    a = F.run("ttabench", "semanticaudio", {"clap_ms": 0.4}, params={"d": 32, "steps": 50})
    b = F.run("ttabench", "semanticaudio", {"clap_ms": 0.5}, params={"d": 128, "steps": 50})
    assert tables.run_labels([a, b]) == ["semanticaudio (d=32)", "semanticaudio (d=128)"]
