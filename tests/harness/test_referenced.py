"""`sabench score --path`: pre-generated files are referenced (path + sha256), never copied."""

from __future__ import annotations

import numpy as np
import pytest

from harness import audio
from harness.artifacts import ArtifactStore
from harness.records import Audio
from harness.results import ResultsStore
from harness.runner import run_suite
from harness.suite import load_suite
from systems.precomputed import PrecomputedSystem

import _kit


@pytest.fixture(autouse=True)
def _registered(tmp_cache):
    _kit.register()


class CopyingPrecomputed(PrecomputedSystem):
    """The old path: decoded audio handed to the runner, which stores a float32 copy."""

    serves_files = False


def _folder(tmp_path, n=4):
    rng = np.random.default_rng(3)
    folder = tmp_path / "gen"
    folder.mkdir()
    for i in range(n):
        x = (0.3 * rng.standard_normal((1, 8000))).clip(-1, 1).astype(np.float32)  # (1, T) @ 16 kHz
        audio.write(folder / f"p{i:02d}.wav", Audio(x, _kit.SR), subtype="PCM_16")
    return folder


def _run(tmp_path, system, out):
    spec = load_suite(_kit.write_suite(tmp_path / "suite", n=4, metrics=("test_rms", "test_mean_rms")))
    return run_suite(spec, system, out_dir=out, results=ResultsStore(out / "r.sqlite"), progress=False)


def _stored_audio(out):
    return sorted(p for p in (out / "artifacts").rglob("*") if p.is_file() and p.suffix != ".json")


def test_folder_is_referenced_not_copied_and_numbers_match_the_copy(tmp_path):
    folder = _folder(tmp_path)
    referenced = _run(tmp_path, PrecomputedSystem(folder), tmp_path / "ref")
    copied = _run(tmp_path, CopyingPrecomputed(folder), tmp_path / "copy")
    assert _stored_audio(tmp_path / "ref") == []                      # no audio written
    assert len(_stored_audio(tmp_path / "copy")) == 4                 # the old way: 4 float32 copies
    assert [(s.item_id, s.metric, s.value) for s in referenced.items] == \
        [(s.item_id, s.metric, s.value) for s in copied.items]       # bit-identical item scores
    assert [(a.metric, a.value) for a in referenced.aggregates] == [(a.metric, a.value) for a in copied.aggregates]
    paths = ResultsStore(tmp_path / "ref" / "r.sqlite").samples(referenced.run_id)
    assert {k: v[0] for k, v in paths.items()} == {f"p{i:02d}": str((folder / f"p{i:02d}.wav").resolve())
                                                 for i in range(4)}


def test_reference_read_back_is_verified_and_never_deletes_the_users_file(tmp_path):
    folder = _folder(tmp_path, n=1)
    store = ArtifactStore(tmp_path / "store")
    sample = store.put_reference("k" * 64, folder / "p00.wav")
    assert store.get_audio("k" * 64) == sample and sample.frames == 8000 and sample.channels == 1
    audio.write(folder / "p00.wav", Audio(np.zeros((1, 8000), np.float32), _kit.SR), subtype="PCM_16")
    assert store.get_audio("k" * 64) is None                          # content changed: absent
    assert (folder / "p00.wav").is_file()                             # ... but the file is kept
    assert not store.path_for("k" * 64).with_suffix(".json").exists()  # only the sidecar went


def test_unreadable_file_fails_its_item_only(tmp_path):
    folder = _folder(tmp_path)
    (folder / "p01.wav").write_bytes(b"RIFF not audio")
    spec = load_suite(_kit.write_suite(tmp_path / "suite", n=4, metrics=("test_rms",)))
    out = tmp_path / "out"
    result = run_suite(spec, PrecomputedSystem(folder), out_dir=out, results=ResultsStore(out / "r.sqlite"),
                       progress=False, keep_going=True)
    assert [f.item_id for f in result.failures] == ["p01"] and "p01.wav" in result.failures[0].message
    assert sorted(s.item_id for s in result.items) == ["p00", "p02", "p03"]
