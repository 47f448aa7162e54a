"""Paired system comparisons (`reports.paired`): matching by item id, mean difference and
bootstrap CI against independent computations, verdict direction, refusal of mixing, and the
"Paired differences vs <baseline>" section of the built report."""

from __future__ import annotations

import json
import random
import statistics

import pytest

from harness.errors import SabenchError
from harness.records import Aggregate, ItemScore, MetricInfo, RunResult, SystemInfo, freeze
from reports import build_report
from reports.paired import BETTER, SAME, WORSE, paired_difference, paired_table

CLAP = MetricInfo("clap", True, "clap_mini", "d" * 64, "r16k")
MEL = MetricInfo("mel_loss", False, None, None, "r16k")
FD = MetricInfo("fd", False, "panns_mini", "c" * 64, "r16k", kind="set")


def make_run(name: str, scores: dict[str, dict[str, float]], *, metrics=(CLAP, MEL, FD), version="1",
             profile="mini", shuffle_seed: int | None = None, params=None) -> RunResult:
    """scores: metric -> {item id: value}; items optionally stored in a shuffled order."""
    items = [ItemScore(i, m, v) for m, per in scores.items() for i, v in per.items()]
    if shuffle_seed is not None:
        random.Random(shuffle_seed).shuffle(items)
    aggs = [Aggregate(m, statistics.fmean(per.values()), n=len(per)) for m, per in scores.items()]
    aggs.append(Aggregate("fd", 10.0))
    system = SystemInfo(name, "1", "a" * 64, 16000, parameters=freeze(params or {}))
    return RunResult(f"synth:{name}", "synth", version, profile, system, tuple(metrics), tuple(aggs),
                     tuple(items))


def test_matching_by_id_ignores_item_order():
    ids = [f"p{k:02d}" for k in range(8)]
    b = {i: 0.05 * k * k for k, i in enumerate(ids)}
    a = {i: v + 0.1 for i, v in b.items()}  # every item: a = b + 0.1 exactly
    ra = make_run("sys", {"clap": a}, metrics=(CLAP,), shuffle_seed=1)
    rb = make_run("base", {"clap": b}, metrics=(CLAP,), shuffle_seed=2)
    # Sanity: pairing by stored order would see a mix of signs (not 8 wins).
    assert [s.item_id for s in ra.items] != [s.item_id for s in rb.items]
    assert sum(x.value > y.value for x, y in zip(ra.items, rb.items, strict=True)) < 8
    p = paired_difference(ra, rb, "clap", seed=3, n_boot=500)
    expected = sum(a[i] - b[i] for i in ids) / len(ids)  # hand-rolled mean over ids
    assert p.n == 8 and p.unmatched == 0
    assert p.mean_diff == pytest.approx(expected, abs=1e-12)  # float64 sums of 8 terms
    assert p.frac_a_greater == 1.0
    # Correct pairing: every difference is 0.1, so every resample mean is 0.1 (to rounding).
    assert p.ci_low == pytest.approx(0.1, abs=1e-12) and p.ci_high == pytest.approx(0.1, abs=1e-12)


def test_unmatched_ids_are_left_out_and_counted():
    ra = make_run("sys", {"clap": {"x": 1.0, "y": 2.0, "z": 5.0}}, metrics=(CLAP,))
    rb = make_run("base", {"clap": {"y": 1.0, "z": 1.0, "w": 9.0}}, metrics=(CLAP,))
    p = paired_difference(ra, rb, "clap", seed=0, n_boot=200)
    assert p.n == 2 and p.unmatched == 2
    assert p.mean_diff == pytest.approx(((2 - 1) + (5 - 1)) / 2)


def test_ci_covers_true_difference_and_is_reproducible():
    # Constructed case: a = b + 0.2 + noise (noise of exactly zero mean), so the true
    # per-item mean difference is 0.2; 60 items with noise sd ~0.05 -> CI half-width ~0.013.
    gen = random.Random(11)
    noise = [gen.gauss(0.0, 0.05) for _ in range(60)]
    mu = statistics.fmean(noise)
    noise = [e - mu for e in noise]
    ids = [f"item-{k}" for k in range(60)]
    b = {i: gen.uniform(0.0, 1.0) for i in ids}
    a = {i: b[i] + 0.2 + e for i, e in zip(ids, noise, strict=True)}
    ra = make_run("sys", {"clap": a}, metrics=(CLAP,), shuffle_seed=5)
    rb = make_run("base", {"clap": b}, metrics=(CLAP,))
    p1 = paired_difference(ra, rb, "clap", seed=42)
    p2 = paired_difference(ra, rb, "clap", seed=42)
    p3 = paired_difference(ra, rb, "clap", seed=43)
    assert p1 == p2  # exactly reproducible for a fixed seed
    assert (p3.ci_low, p3.ci_high) != (p1.ci_low, p1.ci_high)  # the seed is really used
    assert p1.mean_diff == pytest.approx(0.2, abs=1e-12)
    assert p1.ci_low < 0.2 < p1.ci_high
    # Width against the normal approximation 2 * 1.96 * sd / sqrt(n); 2000 resamples of a
    # percentile bootstrap agree with it to ~15 %.
    sd = statistics.stdev([a[i] - b[i] for i in ids])
    assert p1.ci_high - p1.ci_low == pytest.approx(2 * 1.96 * sd / 60 ** 0.5, rel=0.15)
    assert p1.verdict() == BETTER and p1.frac_a_greater == 1.0


def test_verdict_respects_lower_is_better():
    ids = [f"q{k}" for k in range(20)]
    base = {i: 1.0 + 0.01 * k for k, i in enumerate(ids)}
    lower = {i: v - 0.3 for i, v in base.items()}  # lower mel loss: better
    ra = make_run("sys", {"mel_loss": lower, "clap": lower}, metrics=(CLAP, MEL))
    rb = make_run("base", {"mel_loss": base, "clap": base}, metrics=(CLAP, MEL))
    mel = paired_difference(ra, rb, "mel_loss", seed=0)
    clap = paired_difference(ra, rb, "clap", seed=0)
    assert mel.mean_diff == pytest.approx(-0.3) and mel.ci_high < 0
    assert mel.verdict() == BETTER
    assert clap.verdict() == WORSE
    same = paired_difference(rb, rb, "mel_loss", seed=0, labels=("x", "y"))
    assert same.mean_diff == 0 and same.verdict() == SAME  # CI [0, 0] includes 0


def test_mixing_and_set_metrics_refused():
    s = {"clap": {"a": 1.0, "b": 2.0}}
    base = make_run("base", s, metrics=(CLAP,))
    other_ckpt = make_run("sys", s, metrics=(MetricInfo("clap", True, "clap_mini", "e" * 64, "r16k"),))
    with pytest.raises(SabenchError, match="synth:sys.*synth:base|synth:base.*synth:sys") as exc:
        paired_difference(other_ckpt, base, "clap", seed=0)
    assert "backbone" in str(exc.value)
    other_version = make_run("sys", s, metrics=(CLAP,), version="2")
    with pytest.raises(SabenchError, match="suite"):
        paired_difference(other_version, base, "clap", seed=0)
    other_profile = make_run("sys", s, metrics=(CLAP,), profile="real")
    with pytest.raises(SabenchError, match="profile"):
        paired_difference(other_profile, base, "clap", seed=0)
    # Another metric's recipe differing does not block comparing clap.
    ok = make_run("sys", {"clap": {"a": 2.0, "b": 2.0}},
                  metrics=(CLAP, MetricInfo("mel_loss", False, None, None, "r44k")))
    assert paired_difference(ok, base, "clap", seed=0).mean_diff == pytest.approx(0.5)
    full = make_run("base", {"clap": {"a": 1.0}})
    with pytest.raises(SabenchError, match="set metric"):
        paired_difference(full, full, "fd", seed=0, labels=("x", "y"))


def test_paired_table_rows_and_set_metric_note():
    ids = [f"r{k}" for k in range(12)]
    base = make_run("base-model", {"clap": {i: 0.3 + 0.01 * k for k, i in enumerate(ids)},
                                   "mel_loss": {i: 1.0 for i in ids}})
    sys1 = make_run("semanticaudio", {"clap": {i: 0.4 + 0.01 * k for k, i in enumerate(ids)},
                                      "mel_loss": {i: 1.0 + (0.1 if k % 2 else -0.1) for k, i in enumerate(ids)}},
                    shuffle_seed=9)
    t = paired_table([sys1, base], "base-model", seed=1, n_boot=300)
    assert t.title == "Paired differences vs base-model"
    assert [r.label for r in t.rows] == ["semanticaudio", "semanticaudio"]
    verdicts = {r.cells[0].text.rstrip("\u2191\u2193"): r.cells[-1].text for r in t.rows}
    assert verdicts == {"clap": BETTER, "mel_loss": SAME}
    clap_row = t.rows[0]
    assert clap_row.cells[1].value == pytest.approx(0.1) and clap_row.cells[3].value == 12
    assert any("fd" in n and "set metric" in n for n in t.footnotes)
    only_clap = paired_table([sys1, base], lambda r: r.system.name == "base-model", metrics=["clap"], seed=1)
    assert len(only_clap.rows) == 1


def test_report_has_paired_section(tmp_path):
    ids = [f"s{k}" for k in range(10)]
    base = make_run("base-model", {"clap": {i: 0.2 + 0.02 * k for k, i in enumerate(ids)}}, metrics=(CLAP,))
    sys1 = make_run("semanticaudio", {"clap": {i: 0.25 + 0.02 * k for k, i in enumerate(ids)}}, metrics=(CLAP,))
    paths = build_report([sys1, base], tmp_path, formats=("md", "json", "csv"), compare_to="base-model")
    md = paths["md"].read_text(encoding="utf-8")
    assert "### Paired differences vs base-model" in md
    row = next(line for line in md.splitlines() if line.startswith("| semanticaudio | clap"))
    assert "+0.0500" in row and BETTER in row and "| 10 |" in row
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    paired = [t for t in data["tables"] if t["name"] == "paired"]
    assert len(paired) == 1 and paired[0]["rows"][0]["values"]["verdict"]["text"] == BETTER
    plain = build_report([sys1, base], tmp_path / "plain", formats=("md",))
    assert "Paired differences" not in plain["md"].read_text(encoding="utf-8")
    with pytest.raises(SabenchError, match="no-such-system"):
        build_report([sys1, base], tmp_path / "bad", formats=("md",), compare_to="no-such-system")


def test_cli_option_and_default_job_baseline(tmp_path):
    from types import SimpleNamespace

    from harness import cli

    ids = [f"t{k}" for k in range(6)]
    base = make_run("base-model", {"clap": {i: 0.5 for i in ids}}, metrics=(CLAP,))
    sys1 = make_run("semanticaudio", {"clap": {i: 0.5 - 0.01 * k for k, i in enumerate(ids)}}, metrics=(CLAP,))
    paths = build_report([sys1, base], tmp_path, "--formats", "md", "--compare-to", "base-model")
    md = paths["md"].read_text(encoding="utf-8")
    assert "### Paired differences vs base-model" in md and "| semanticaudio | clap\u2191 | -0.0250 |" in md
    # suites/jobs/mini.yaml names the default job's baseline; absent from the runs -> none.
    from harness.job import load_job

    job = load_job()
    assert job.compare_to == "base-model"
    assert cli.report_baseline(job, [SimpleNamespace(system=SimpleNamespace(name="sine"))]) is None
    assert cli.report_baseline(job, [SimpleNamespace(system=SimpleNamespace(name="base-model"))]) == "base-model"
