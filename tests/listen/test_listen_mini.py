"""The mini world end to end: mini-job runs (two suites, two systems, --limit 10), then
`sabench listen --job mini` builds a MOS and an edit-MOS study on them, simulated raters answer
over HTTP, and `sabench report` shows the MOS column."""

from __future__ import annotations

import pytest

from harness import cli
from harness.listen.analysis import summarize
from harness.listen.store import ListenStore


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_listen_on_the_mini_job(tmp_path, tmp_cache, capsys):
    out = tmp_path / "out"
    assert cli.main(["run", "--suite", "mini-generation", "--suite", "mini-editing", "--system",
                     "base-model:profile=mini", "--system", "reference-echo", "--limit", "10", "--out", str(out),
                     "--quiet", "--no-report"]) == 0
    assert cli.main(["listen", "--job", "mini", "--out", str(out), "--items", "5", "--raters", "2",
                     "--simulate", "6", "--means", "base-model=2.0,reference-echo=4.0", "--quiet"]) == 0
    store = ListenStore(out / "results.sqlite")
    assert sorted(store.studies()) == ["mos-edit-mini-editing", "mos-mini-generation"]
    for study in store.studies():
        s = summarize(store, study)
        by = {m.label: m for m in s.mos}
        assert by["reference-echo"].mean > by["base-model"].mean
        assert (by["base-model"].n_raters, by["base-model"].n_items) == (6, 5)
        assert ("source (unedited)" in by) == (study == "mos-edit-mini-editing")
        assert "hidden reference" in by and "low anchor" in by          # the mini suites have references
    capsys.readouterr()
    assert cli.main(["report", "--out", str(out), "--formats", "md"]) == 0
    md = (out / "report.md").read_text()
    assert md.count("MOS↑") == 2 and md.count("6 raters x 5 items per system") == 2
