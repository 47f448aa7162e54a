"""Editing benchmark construction (rule table, filtering, balanced selection) and its loader."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from harness.errors import SabenchError
from suites.audiocaps.loader import read_rows
from suites.editing import construct as C
from suites.editing.loader import category_of, load_prompts, read_benchmark
from suites.editing.rules import CATEGORIES, RULES, Add, Drop, Sub


@pytest.fixture(scope="module")
def candidates(data_root: Path):
    rows = C.pick_captions(read_rows(data_root / "audiocaps" / "v1" / "test.csv"))
    return C.generate_candidates(rows)


def test_candidates_cover_all_14_categories(candidates):
    counts = Counter(c.category for c in candidates)
    assert set(counts) == set(CATEGORIES) and len(CATEGORIES) == 14
    assert min(counts.values()) >= 14  # enough for an equal share of 200
    assert len(candidates) > 500  # the paper: "over 500 candidate edit pairs"


def test_candidates_deterministic_and_minimal(data_root: Path, candidates):
    again = C.generate_candidates(C.pick_captions(read_rows(data_root / "audiocaps" / "v1" / "test.csv")))
    assert again == candidates
    assert len({c.id for c in candidates}) == len(candidates)
    for c in candidates:
        assert c.target_text != c.source_text
        src, tgt = c.source_text.split(), c.target_text.split()
        if c.category == "Sound Removal":
            assert tgt[:len(tgt) - 1] == src[:len(tgt) - 1] and len(tgt) < len(src)
        elif c.category in ("Sound Addition", "Environment Add"):
            assert c.target_text.startswith(c.source_text.rstrip(" ."))


def test_rules_behave():
    assert Sub("Subject Replace", "man", "woman").apply("A man talks as a woman laughs") == \
        "A woman talks as a woman laughs"
    assert Sub("Subject Replace", "man", "woman").apply("Manhole cover") is None
    assert Sub("Event Replace", "siren", "explosion").apply("with a siren") == "with an explosion"
    assert Sub("x", "man", "woman").apply("Man speaks") == "Woman speaks"
    assert Drop().apply("A dog barks followed by a man speaking") == "A dog barks"
    assert Drop().apply("Rain falls while wind blows and thunder roars") == "Rain falls while wind blows"
    assert Drop().apply("Dog barks") is None
    add = Add("Sound Addition", (("while a dog barks", "dog"), ("as birds chirp", "bird")))
    assert add.apply("A dog growls") == "A dog growls as birds chirp"
    assert {r.category for r in RULES} == set(CATEGORIES)


def _fake_scorer(cands):
    """Deterministic fake CLAP: source-target from the id's hash, edited = source + margin."""
    from harness.hashing import sha256_text

    out = []
    for c in cands:
        h = int(sha256_text(c.id)[:8], 16) / 0xFFFFFFFF
        src = 0.1 + 0.4 * h  # in [0.1, 0.5]
        out.append((src, src + (0.05 if h < 0.8 else -0.02)))
    return out


def test_filter_applies_both_thresholds(candidates):
    scores = _fake_scorer(candidates)
    kept = C.filter_candidates(candidates, _fake_scorer, min_delta=0.0, max_source_target=0.3)
    expect = sum(1 for s, e in scores if e - s > 0 and s < 0.3)
    assert len(kept) == expect and 0 < expect < len(candidates)
    assert all(k.clap_edited_target - k.clap_source_target > 0 and k.clap_source_target < 0.3 for k in kept)
    with pytest.raises(SabenchError, match="returned 0 scores"):
        C.filter_candidates(candidates, lambda cs: [])


def test_selection_200_balanced_deterministic(candidates):
    kept = C.filter_candidates(candidates, _fake_scorer)
    sel = C.select_balanced(kept, n=200, seed=7)
    assert len(sel) == 200
    counts = Counter(c.category for c in sel)
    assert set(counts) == set(CATEGORIES)
    assert max(counts.values()) - min(counts.values()) <= 1  # 200 = 14*14 + 4
    assert C.select_balanced(kept, n=200, seed=7) == sel
    assert C.select_balanced(kept, n=200, seed=8) != sel
    for cat in CATEGORIES:
        clips = [c.youtube_id for c in sel if c.category == cat]
        assert len(clips) == len(set(clips))
    assert all(category_of(c.id) == c.category for c in sel)


def test_quotas_water_filling_and_paper():
    avail = {c: 100 for c in CATEGORIES}
    avail["Intensity Change"] = 3
    q = C.quotas(avail, 200)
    assert sum(q.values()) == 200 and q["Intensity Change"] == 3
    assert {v for c, v in q.items() if c != "Intensity Change"} <= {15, 16}
    paper = C.quotas({c: 100 for c in CATEGORIES}, 200, "paper")
    assert paper["Subject Replace"] == 31 and paper["Intensity Change"] == 6
    with pytest.raises(SabenchError, match="only 42 usable"):
        C.quotas({c: 3 for c in CATEGORIES}, 200)


def test_build_write_and_load(data_root: Path, tmp_path: Path):
    out = tmp_path / "editing.jsonl"
    pairs = C.build(data_root / "audiocaps" / "v1" / "test.csv", out, _fake_scorer, "fake", seed=3,
                    max_source_target=0.35)
    header, rows = read_benchmark(out)
    assert header["format"] == C.FORMAT and header["n"] == 200 == len(rows) == len(pairs)
    assert header["params"]["max_source_target"] == 0.35 and header["params"]["scorer"] == "fake"
    assert sum(header["counts"].values()) == 200
    audio = tmp_path / "audio"
    audio.mkdir()
    for r in rows[:150]:
        (audio / f"Y{r['youtube_id']}.wav").write_bytes(b"")
    with pytest.raises(SabenchError, match="no audio"):
        load_prompts(str(out), audio_dir=str(audio))
    for r in rows[150:]:
        (audio / f"{r['youtube_id']}_{r['start_time']}.wav").write_bytes(b"")
    prompts = load_prompts(str(out), audio_dir=str(audio))
    assert len(prompts) == 200
    p = prompts[0]
    assert p.text == rows[0]["target_text"] and p.source_text == rows[0]["source_text"]
    assert p.tag("category") == rows[0]["category"] and Path(p.source).is_file()
    truncated = tmp_path / "t.jsonl"
    truncated.write_text("\n".join(out.read_text().splitlines()[:50]))
    with pytest.raises(SabenchError, match="truncated"):
        load_prompts(str(truncated), audio_dir=str(audio))


def test_cli_unfiltered(data_root: Path, tmp_path: Path):
    out = tmp_path / "e.jsonl"
    assert C.main(["--csv", str(data_root / "audiocaps" / "v1" / "test.csv"), "--out", str(out),
                   "--quotas", "paper", "--clips", str(data_root / "audiocaps" / "resonate_test-audiocaps.tsv")]) == 0
    header, rows = read_benchmark(out)
    assert header["params"]["scorer"] == "none" and header["counts"]["Subject Replace"] == 31
    assert header["params"]["clip_ids_sha256"] is not None
    missing = set((data_root / "audiocaps" / "audiocaps_test_clips_missing_from_957.txt").read_text().split())
    assert not {r["youtube_id"] for r in rows} & missing
