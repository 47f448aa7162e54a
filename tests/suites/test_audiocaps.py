"""AudioCaps loader: captions derivation (byte-exact vs the derived files), references, errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.errors import SabenchError
from suites.audiocaps import loader as L

DERIVED = {
    "957-last": "test_957_last_caption.csv",
    "964-third": "test_964_audioldm_third_caption.csv",
    "886-tango": "test_886_tango_third_caption.csv",
    "975-first": "test_975_first_caption.csv",
}


@pytest.mark.parametrize("captions", sorted(DERIVED))
def test_captions_equal_derived_file(data_root: Path, captions: str):
    csv_path = data_root / "audiocaps" / "v1" / "test.csv"
    rows = L.read_rows(csv_path)
    chosen = L.select(rows, captions, L.caption_ids(captions, rows, csv_path, None, None))
    expected = (data_root / "audiocaps" / "derived" / DERIVED[captions]).read_bytes()
    assert L.to_csv_text(chosen).encode("utf-8") == expected


def test_957_matches_tsv_captions_and_order(data_root: Path):
    prompts = L.load_prompts(data_root=data_root, references="optional")
    tsv = (data_root / "audiocaps" / "resonate_test-audiocaps.tsv").read_text(encoding="utf-8").splitlines()[1:]
    assert [(p.id, p.text) for p in prompts] == [tuple(line.split("\t", 1)) for line in tsv]
    assert prompts[0].tag("captions") == "957-last" and prompts[0].duration == 10.0


def test_957_from_missing_list_when_tsv_absent(data_root: Path, tmp_path: Path):
    shutil.copy(data_root / "audiocaps" / "v1" / "test.csv", tmp_path / "test.csv")
    shutil.copy(data_root / "audiocaps" / "audiocaps_test_clips_missing_from_957.txt", tmp_path)
    rows = L.read_rows(tmp_path / "test.csv")
    ids = L.caption_ids("957-last", rows, tmp_path / "test.csv", None, None)
    assert len(ids) == 957
    with_tsv = L.caption_ids("957-last", rows, data_root / "audiocaps" / "v1" / "test.csv", None, None)
    assert sorted(ids) == sorted(with_tsv)


def test_all_4875_and_counts(data_root: Path):
    allp = L.load_prompts("all-4875", data_root=data_root, references="optional")
    assert len(allp) == 4875 and len({p.tag("youtube_id") for p in allp}) == 975
    assert allp[0].id == "ac103549"


def test_references_matched_by_three_conventions(data_root: Path, tmp_path: Path, monkeypatch):
    audio = tmp_path / "audio"
    (audio / "sub").mkdir(parents=True)
    prompts = L.load_prompts(data_root=data_root, references="optional")[:3]
    y = [p.tag("youtube_id") for p in prompts]
    starts = [p.tag("start_time") for p in prompts]
    (audio / f"Y{y[0]}.wav").write_bytes(b"")
    (audio / f"{y[1]}.flac").write_bytes(b"")
    (audio / "sub" / f"{y[2]}_{starts[2]}.wav").write_bytes(b"")
    with pytest.raises(SabenchError) as err:
        L.load_prompts(data_root=data_root, audio_dir=str(audio))
    assert "954 of 957 clips have no audio" in str(err.value)
    got = L.load_prompts(data_root=data_root, audio_dir=str(audio), on_missing="drop")
    assert [Path(p.reference).name for p in got] == [f"Y{y[0]}.wav", f"{y[1]}.flac", f"{y[2]}_{starts[2]}.wav"]
    monkeypatch.setenv("SABENCH_AUDIOCAPS_AUDIO", str(audio))
    kept = L.load_prompts(data_root=data_root, on_missing="keep")
    assert len(kept) == 957 and sum(p.reference is not None for p in kept) == 3


def test_missing_csv_and_audio_errors_name_the_fix(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("SABENCH_AUDIOCAPS", raising=False)
    with pytest.raises(SabenchError, match="AudioCaps test.csv.*SABENCH_AUDIOCAPS"):
        L.load_prompts(data_root=tmp_path)


def test_required_references_error(data_root: Path, monkeypatch):
    monkeypatch.delenv("SABENCH_AUDIOCAPS_AUDIO", raising=False)
    with pytest.raises(SabenchError, match="no audio folder"):
        L.load_prompts(data_root=data_root)


def test_env_var_points_at_csv(data_root: Path, monkeypatch, tmp_path):
    monkeypatch.setenv("SABENCH_AUDIOCAPS", str(data_root / "audiocaps" / "v1" / "test.csv"))
    assert len(L.load_prompts("975-first", references="optional")) == 975


def test_suite_spec_loads_through_registry(data_root: Path, tmp_path: Path):
    from harness.suite import load_suite

    spec = load_suite("audiocaps")
    assert spec.task == "generate" and spec.profile == "real"
    assert [m.name for m in spec.metrics] == ["fd_pann", "is_pann", "kl_pann_ref_to_gen",
                                              "kl_pann_gen_to_ref", "fad_vggish", "clap_laion"]
    audio = tmp_path / "audio"
    audio.mkdir()
    first = L.load_prompts(data_root=data_root, references="optional")[0]
    (audio / f"{first.id}.wav").write_bytes(b"")
    (audio / "ignored.txt").write_text("x")
    import os
    os.environ["SABENCH_AUDIOCAPS_AUDIO"] = str(audio)
    try:
        with pytest.raises(SabenchError, match="956 of 957"):
            spec.prompts(data_root=data_root)
    finally:
        del os.environ["SABENCH_AUDIOCAPS_AUDIO"]
