"""`sabench listen` end to end on test-kit stores: design files and the recorded draw, simulated
raters recovering known means, CSV export/import, A/B and edit studies, and `sabench report`
filling the MOS column of the Table 1 / Table 4 layouts."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from _listen_kit import make_store, make_study

from harness import cli
from harness.listen.analysis import summarize
from harness.listen.design import add_raters
from harness.listen.simulate import BackgroundServer, call
from harness.listen.store import ListenStore
from harness.results import ResultsStore
from harness.seeding import derive_seed, numpy_rng


def _real_suite(suite: str, name: str) -> str:
    """The kit suite renamed to a paper suite with the real profile (for the paper layouts)."""
    p = Path(suite)
    p.write_text(p.read_text().replace("name: tiny", f"name: {name}").replace("profile: mini", "profile: real"))
    return suite


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("sabench: error: ")
    return err[0]


def test_design_file_and_the_recorded_seeded_draw(tmp_path, tmp_cache, capsys):
    out, suite = make_store(tmp_path, n=6)
    design = tmp_path / "study.yaml"
    design.write_text("study: d1\ntype: mos\nruns: [sine, noise]\nitems: 3\nseed: 5\nraters: 2\n"
                      "references: 1\nanchors: 1\nattention: 1\nlufs: -20\n")
    assert cli.main(["listen", "--out", str(out), "--design", str(design), "--suite", suite, "--quiet"]) == 0
    store = ListenStore(out / "results.sqlite")
    d = store.design_json("d1")
    common = sorted(ResultsStore(out / "results.sqlite").samples(d["runs"][0]))
    want = sorted(numpy_rng(derive_seed(5, "d1", "draw")).choice(common, size=3, replace=False).tolist())
    assert d["draw"] == want and d["lufs"] == -20 and len(d["runs"]) == 2
    trials = store.trials("d1")
    assert len(trials) == 2 * 3 + 1 + 1 + 1 and len(store.raters("d1")) == 2
    assert sorted(t.control for t in trials if t.control) == ["anchor", "attention", "reference"]
    links = (out / "listen" / "d1" / "raters.csv").read_text().splitlines()
    assert links[0] == "token,link" and len(links) == 3
    assert (out / "listen" / "d1" / "raters.csv").stat().st_mode & 0o077 == 0
    # the same command again reuses the study (its draw never changes)
    assert cli.main(["listen", "--out", str(out), "--design", str(design), "--suite", suite, "--quiet"]) == 0
    assert store.design_json("d1") == d and len(store.trials("d1")) == len(trials)
    bad = tmp_path / "bad.yaml"
    bad.write_text("study: d2\nitemz: 3\n")
    assert cli.main(["listen", "--out", str(out), "--design", str(bad)]) == 2
    assert "unknown design key 'itemz'" in _one_line_error(capsys)
    assert cli.main(["listen", "--out", str(out), "--suite", suite, "--study", "d3", "--items", "0"]) == 2
    assert "listening design items: must be an integer >= 1" in _one_line_error(capsys)


def test_simulated_raters_recover_the_known_means_and_ranking(tmp_path, tmp_cache, capsys):
    out, suite = make_store(tmp_path, n=8)
    make_study(out, suite, "--study", "sim", "--items", "8", "--raters", "1")
    capsys.readouterr()
    assert cli.main(["listen", "--out", str(out), "--study", "sim", "--simulate", "12",
                     "--means", "sine=4.0,noise=2.5"]) == 0
    printed = capsys.readouterr().out
    assert "12 raters: " in printed and "0 refused" in printed
    s = summarize(ListenStore(out / "results.sqlite"), "sim")
    by = {m.label: m for m in s.mos}
    assert by["sine"].mean > by["noise"].mean
    for label, mu in (("sine", 4.0), ("noise", 2.5)):
        assert by[label].ci_low <= mu <= by[label].ci_high, (label, by[label])
        assert (by[label].n_raters, by[label].n_items) == (12, 8)
    assert by["hidden reference"].mean > 4 and by["low anchor"].mean < 2
    assert s.screening.kept == 12 and s.alpha is not None and s.alpha > 0.3


def test_export_is_deidentified_and_import_validates_every_row(tmp_path, tmp_cache, capsys):
    out, suite = make_store(tmp_path, n=5)
    make_study(out, suite, "--study", "x", "--items", "3", "--raters", "1", "--simulate", "3")
    store = ListenStore(out / "results.sqlite")
    exported = tmp_path / "ratings.csv"
    assert cli.main(["listen", "--out", str(out), "--study", "x", "--export", str(exported)]) == 0
    rows = list(csv.DictReader(exported.open()))
    assert len(rows) == len(store.ratings("x")) and {r["rater"] for r in rows} == {"1", "2", "3"}
    text = exported.read_text()
    assert not any(r.token in text for r in store.raters("x"))
    assert {r["condition"] for r in rows} >= {"sine", "noise", "hidden reference", "low anchor"}
    trials_csv = tmp_path / "trials.csv"
    assert cli.main(["listen", "--out", str(out), "--study", "x", "--export-trials", str(trials_csv)]) == 0
    trials = list(csv.DictReader(trials_csv.open()))
    crowd = tmp_path / "crowd.csv"
    lines = ["rater,trial_id,value,play_ms"] + [f"worker-{w},{t['trial_id']},{t['ask'] or 4},900"
                                               for w in ("A9", "B7") for t in trials]
    crowd.write_text("\n".join(lines) + "\n")
    before = len(store.ratings("x"))
    assert cli.main(["listen", "--out", str(out), "--study", "x", "--import", str(crowd)]) == 0
    assert len(store.ratings("x")) == before + 2 * len(trials)
    assert "worker-A9" not in (out / "results.sqlite").read_bytes().decode("latin-1")
    for bad, why in (("6", "not a whole number from 1 to 5"), ("x", "not a whole number"),
                     ("0", "not a whole number from 1 to 5")):
        broken = tmp_path / "broken.csv"
        broken.write_text(f"{lines[0]}\nw1,{trials[0]['trial_id']},3,900\nw1,{trials[1]['trial_id']},{bad},900\n")
        assert cli.main(["listen", "--out", str(out), "--study", "x", "--import", str(broken)]) == 2
        assert "broken.csv line 3" in (err := _one_line_error(capsys)) and why in err
    for body, why in (("w1,nope,3,900", "is not in study x"), (f"w1,{trials[0]['trial_id']},3,10", "played 10 ms"),
                      (f"w1,{trials[0]['trial_id']},3,900\nw1,{trials[0]['trial_id']},4,900", "second answer")):
        broken.write_text(f"{lines[0]}\n{body}\n")
        assert cli.main(["listen", "--out", str(out), "--study", "x", "--import", str(broken)]) == 2
        assert why in _one_line_error(capsys)
    assert len(store.ratings("x")) == before + 2 * len(trials)        # nothing from the broken files


def test_ab_study_preference_and_the_randomised_sides(tmp_path, tmp_cache, capsys):
    out, suite = make_store(tmp_path, n=6)
    make_study(out, suite, "--study", "ab", "--type", "ab", "--run", "sine", "--run", "noise", "--items", "6",
               "--raters", "1", "--references", "2", "--attention", "1")
    store = ListenStore(out / "results.sqlite")
    (token,) = add_raters(store, "ab", 1)
    rater = store.rater(token)
    swapped = [a for a in store.assignments(rater) if a.swapped]
    assert swapped and len(swapped) < len(store.assignments(rater))
    with BackgroundServer(out / "results.sqlite") as url:
        call(url, f"/r/{token}/consent", {"agree": True})
        call(url, f"/r/{token}/check", {})
        state = call(url, f"/api/r/{token}")[1]
        t = next(x for x in state["trials"] if x["assignment"] == swapped[0].assignment_id)
        secs = min(c["seconds"] for c in t["clips"])
        msg = {"assignment": t["assignment"], "value": 1, "revision": 0, "play_ms": int(secs * 1000) + 1, "ended": True}
        assert call(url, f"/api/r/{token}/rate", msg)[0] == 200
        assert call(url, f"/api/r/{token}/rate", {**msg, "value": 3, "revision": 1})[0] == 422   # A/B: 1 or 2
    (r,) = store.ratings_of(rater)
    assert r.value == 2                          # "Clip A" on a swapped trial is the second system
    capsys.readouterr()
    assert cli.main(["listen", "--out", str(out), "--study", "ab", "--simulate", "10",
                     "--means", "sine=4.5,noise=2"]) == 0
    s = summarize(store, "ab")
    p = s.preference
    assert p.label_a == "sine" and p.rate_a > 0.7 and p.ci_low > 0.5 and p.p_value < 0.01
    assert "preferred over noise" in capsys.readouterr().out
    assert cli.main(["report", "--out", str(out), "--formats", "html"]) == 0
    html = (out / "report.html").read_text()
    assert f"sine preferred over noise in {p.rate_a:.1%} of {p.n} answers" in html and "Clopper-Pearson" in html


def _md_row(md: str, label: str) -> str:
    return next(line for line in md.splitlines() if line.startswith(f"| {label} |"))


@pytest.mark.parametrize("task,name,table", [("generate", "audiocaps", "Table 1"), ("edit", "editing", "Table 4")])
def test_report_fills_the_mos_column_of_the_paper_tables(tmp_path, tmp_cache, capsys, task, name, table):
    out, suite = make_store(tmp_path, n=5, task=task)
    _real_suite(suite, name)
    assert cli.main(["run", "--suite", suite, "--system", "sine:amplitude=0.25", "--system", "noise", "--out",
                     str(out), "--quiet", "--no-report"]) == 0          # real-profile runs of the paper suite
    make_study(out, suite, "--study", "paper", "--items", "4", "--raters", "1", "--simulate", "6",
               "--means", "sine=4.2,noise=2.4")
    s = summarize(ListenStore(out / "results.sqlite"), "paper")
    assert s.type == ("mos-edit" if task == "edit" else "mos") and s.suite == name
    # MOS: CI always
    assert cli.main(["report", "--out", str(out), "--formats", "md,html", "--mixing", "footnote"]) == 0
    md = (out / "report.md").read_text()
    section = md[md.index(table):]
    assert "MOS↑" in section.splitlines()[4]
    by = {m.label: m for m in s.mos}
    for label in ("sine", "noise"):
        row = _md_row(section, label)
        m = by[label]
        assert f"{m.mean:.2f} [{m.ci_low:.2f}, {m.ci_high:.2f}]" in row
    assert re.search(r"MOS: listening study paper \(overall (audio|edit) quality.*\), "
                     r"6 raters x 4 items per system", section)
    html = (out / "report.html").read_text()
    assert "<h2>Listening tests</h2>" in html and html.count('class="bar"') == len(s.mos)
    if task == "edit":
        assert "source (unedited)" in html


def test_per_rater_shares_cover_the_main_trials_evenly(tmp_path, tmp_cache):
    out, suite = make_store(tmp_path, n=6)
    make_study(out, suite, "--study", "pr", "--items", "6", "--raters", "4", "--per-rater", "3",
               "--references", "1", "--anchors", "1", "--attention", "1")
    store = ListenStore(out / "results.sqlite")
    main = {t.trial_id for t in store.trials("pr") if not t.control}
    controls = {t.trial_id for t in store.trials("pr") if t.control}
    seen: dict[str, int] = {}
    for r in store.raters("pr"):
        mine = [a.trial.trial_id for a in store.assignments(r)]
        assert len(mine) == 3 + 3 and controls <= set(mine)
        for t in set(mine) & main:
            seen[t] = seen.get(t, 0) + 1
    assert len(main) == 12 and set(seen) == main and set(seen.values()) == {1}   # 4 raters x 3 = 12, once each
