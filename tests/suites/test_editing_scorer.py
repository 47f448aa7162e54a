"""The editing benchmark's ready-made scorer (a sabench system edits, a CLAP backbone scores),
checked end to end through `python -m suites.editing.construct` on a three-clip CSV with the
mini CLAP, against the same cosines computed directly from the backbone."""

from __future__ import annotations

import csv
import json
import math
import re

import numpy as np
import pytest

from harness import audio as audio_io
from harness.records import Audio

ROWS = [("1", "aaa", "30", "A dog barks while a man speaks"),
        ("2", "bbb", "0", "Rain falls and thunder rumbles"),
        ("3", "ccc", "10", "A car engine revs loudly")]                    # ccc: no clip on disk


@pytest.fixture()
def tree(tmp_path, monkeypatch):
    monkeypatch.setenv("SABENCH_CACHE", str(tmp_path / "cache"))
    with open(tmp_path / "test.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["audiocap_id", "youtube_id", "start_time", "caption"])
        w.writerows(ROWS)
    clips = tmp_path / "clips"
    clips.mkdir()
    t = np.arange(16000 * 2) / 16000
    audio_io.write(clips / "Yaaa.wav", Audio((0.3 * np.sin(2 * np.pi * 220 * t))[None].astype(np.float32), 16000))
    square = 0.2 * np.sign(np.sin(2 * np.pi * 3 * t))  # (T,) 3 Hz square wave
    audio_io.write(clips / "bbb_0.wav", Audio(square[None].astype(np.float32), 16000))
    return tmp_path


def independent_cosines(sources, edits, texts):
    """cos(source, text), cos(edit, text) straight from the mini CLAP backbone (float64)."""
    from harness.registry import BACKBONES, load_catalog

    load_catalog()
    bb = BACKBONES.get("mini_clap")()
    bb.load()
    a = np.asarray(bb.embed([audio_io.load(p, bb.recipe) for p in sources])["embedding"], np.float64)
    e = np.asarray(bb.embed([audio_io.load(p, bb.recipe) for p in edits])["embedding"], np.float64)
    x = np.asarray(bb.embed_text(texts), np.float64)

    def cos(u, v):
        return (u * v).sum(1) / np.maximum(np.linalg.norm(u, axis=1) * np.linalg.norm(v, axis=1), 1e-8)
    return cos(a, x), cos(e, x)


def test_scorer_values_and_the_construct_command(tree, capsys):
    from suites.audiocaps.loader import Row
    from suites.editing import construct
    from suites.editing.scoring import SystemClapScorer

    cands = construct.generate_candidates([Row(*r) for r in ROWS])
    scorer = SystemClapScorer("noise", "mini_clap", tree / "clips", seed=3, profile="mini")
    scores = scorer(cands)
    ok = [i for i, c in enumerate(cands) if not c.id.endswith(":3")]
    assert sorted(scorer.dropped) == sorted(c.id for c in cands if c.id.endswith(":3"))   # ccc: no clip
    assert all(math.isnan(scores[i][0]) for i in range(len(cands)) if i not in ok)
    from harness.artifacts import ArtifactStore

    store = ArtifactStore(scorer.cache_dir / "artifacts")
    edits = [store.get_audio(scorer._request(cands[i], tree / "clips" / (
        "Yaaa.wav" if cands[i].youtube_id == "aaa" else "bbb_0.wav")).key(scorer.system.info)).path for i in ok]
    sources = [str(tree / "clips" / ("Yaaa.wav" if cands[i].youtube_id == "aaa" else "bbb_0.wav")) for i in ok]
    src_ref, edit_ref = independent_cosines(sources, edits, [cands[i].target_text for i in ok])
    # tolerance 1e-6: the same float32 embeddings; cosines in float64 in both paths
    np.testing.assert_allclose([scores[i][0] for i in ok], src_ref, rtol=0, atol=1e-6)
    np.testing.assert_allclose([scores[i][1] for i in ok], edit_ref, rtol=0, atol=1e-6)
    assert len({round(scores[i][1], 6) for i in ok}) > 1                   # edits differ per candidate

    out = tree / "editing.jsonl"
    code = construct.main(["--csv", str(tree / "test.csv"), "--out", str(out), "--n", "4",
                           "--scorer-system", "noise", "--scorer-clap", "mini_clap", "--audio-dir",
                           str(tree / "clips"), "--max-source-target", "1.0", "--min-delta", "-2"])
    printed = capsys.readouterr().out
    assert code == 0 and re.search(r"\d+ candidate\(s\) could not be scored \(dropped\), e\.g\. \w+:3: "
                                   r"no clip for ccc", printed)
    header, *pairs = [json.loads(line) for line in out.read_text().splitlines()]
    assert header["params"]["scorer"].startswith("system=noise@") and "clap=mini_clap" in header["params"]["scorer"]
    assert len(pairs) == 4 and all(p["youtube_id"] != "ccc" for p in pairs)
    assert all(p["clap_source_target"] is not None for p in pairs)


def test_scorer_refuses_a_system_that_cannot_edit(tree):
    from harness.errors import SabenchError
    from suites.editing.scoring import SystemClapScorer
    from systems.testing import SineSystem

    class GenerateOnly(SineSystem):
        capabilities = frozenset({"generate"})

    with pytest.raises(SabenchError, match="cannot edit"):
        SystemClapScorer(GenerateOnly(), "mini_clap", tree / "clips")


def test_scorer_drops_a_batch_with_the_wrong_number_of_outputs_by_name(tree):
    from suites.audiocaps.loader import Row
    from suites.editing import construct
    from suites.editing.scoring import SystemClapScorer
    from systems.testing import NoiseSystem

    class OneShort(NoiseSystem):
        def edit(self, requests, sources):
            return super().edit(requests, sources)[:-1]

    cands = construct.generate_candidates([Row(*r) for r in ROWS])
    scorer = SystemClapScorer(OneShort(batch_size=1), "mini_clap", tree / "clips", seed=3, profile="mini")
    scores = scorer(cands)
    with_clip = [c.id for c in cands if not c.id.endswith(":3")]
    assert with_clip and all("returned 0 outputs for 1 requests" in scorer.dropped[i] for i in with_clip)
    assert all(math.isnan(s[0]) and math.isnan(s[1]) for s in scores)
