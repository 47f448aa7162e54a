"""Reconstruction loader: folder and manifest inputs, refusal of bad manifests."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ManifestError, SabenchError
from suites.reconstruction.loader import load_prompts


def _files(root: Path) -> None:
    (root / "b").mkdir(parents=True)
    for rel in ("z.wav", "a.flac", "b/c.wav"):
        (root / rel).write_bytes(b"")
    (root / "notes.txt").write_text("x")


def test_folder(tmp_path: Path):
    _files(tmp_path)
    prompts = load_prompts(audio_dir=str(tmp_path))
    assert [p.id for p in prompts] == ["a", "b/c", "z"]
    assert all(Path(p.reference).is_file() and p.reference.startswith(str(tmp_path)) for p in prompts)


def test_manifest_csv_and_jsonl(tmp_path: Path):
    _files(tmp_path)
    (tmp_path / "m.csv").write_text("id,path,duration\nx,z.wav,4\ny,b/c.wav,\n")
    prompts = load_prompts(manifest=str(tmp_path / "m.csv"))
    assert [(p.id, p.duration) for p in prompts] == [("x", 4.0), ("y", 10.0)]
    (tmp_path / "m.jsonl").write_text('{"id": "q", "path": "a.flac"}\n')
    assert load_prompts(manifest="m.jsonl", data_root=tmp_path)[0].reference == str((tmp_path / "a.flac").resolve())


@pytest.mark.parametrize("body,match", [
    ("id,path\nx,z.wav\nx,a.flac\n", "duplicate id"),
    ("id,path\nx,../outside.wav\n", "outside the data root"),
    ("id,path\nx,nope.wav\n", "does not exist"),
    ("name,file\nx,z.wav\n", "lacks id,path"),
])
def test_bad_manifest(tmp_path: Path, body: str, match: str):
    _files(tmp_path)
    (tmp_path / "m.csv").write_text(body)
    with pytest.raises(ManifestError, match=match):
        load_prompts(manifest=str(tmp_path / "m.csv"))


def test_nothing_given(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("SABENCH_RECON_AUDIO", raising=False)
    with pytest.raises(SabenchError, match="no folder or manifest"):
        load_prompts()
    (tmp_path / "empty").mkdir()
    with pytest.raises(SabenchError, match="no .wav"):
        load_prompts(audio_dir=str(tmp_path / "empty"))
