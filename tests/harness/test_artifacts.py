"""harness.artifacts and harness.paths: content-addressed audio, embedding cache, roots."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import soundfile as sf

from harness import paths
from harness.artifacts import ArtifactStore, EmbeddingCache
from harness.errors import SabenchError
from harness.hashing import sha256_file
from harness.records import Audio, AudioRecipe, BackboneInfo

KEY = "ab" + "0" * 62
RNG = np.random.default_rng(7)


def _clip(channels=2, frames=800, sr=24000) -> Audio:
    x = np.clip(RNG.standard_normal((channels, frames)) * 0.3, -0.95, 0.95)  # in full scale
    return Audio(x.astype(np.float32), sr)


# --------------------------------------------------------------------------- ArtifactStore

def test_round_trip_is_exact_and_laid_out_by_key(tmp_path):
    store = ArtifactStore(tmp_path / "store")
    clip = _clip()
    s = store.put_audio(KEY, clip, seconds=1.5)
    assert s.path == str(tmp_path / "store" / "audio" / "ab" / f"{KEY}.wav")
    assert store.path_for(KEY) == tmp_path / "store" / "audio" / "ab" / f"{KEY}.wav"
    assert (s.sample_rate, s.channels, s.frames, s.seconds) == (24000, 2, 800, 1.5)
    assert s.sha256 == sha256_file(s.path)  # hash of the stored bytes
    got = store.get_audio(KEY)
    assert got == s
    y, sr = sf.read(s.path, dtype="float32", always_2d=True)  # independent reader
    assert sr == 24000 and sf.info(s.path).subtype == "FLOAT"
    np.testing.assert_array_equal(y.T, clip.samples)
    np.testing.assert_array_equal(store.read(got).samples, clip.samples)
    side = json.loads((tmp_path / "store" / "audio" / "ab" / f"{KEY}.json").read_text())
    assert side["sha256"] == s.sha256 and side["frames"] == 800


def test_absent_key_is_none(tmp_path):
    assert ArtifactStore(tmp_path).get_audio(KEY) is None


@pytest.mark.parametrize("damage", ["flip_audio_byte", "truncate_audio", "delete_audio",
                                    "bad_sidecar_json", "sidecar_other_key"])
def test_corrupt_entry_is_deleted_and_recomputed(tmp_path, damage):
    store = ArtifactStore(tmp_path)
    clip = _clip()
    s = store.put_audio(KEY, clip)
    audio_path, side = store.path_for(KEY), store.path_for(KEY).with_suffix(".json")
    data = audio_path.read_bytes()
    if damage == "flip_audio_byte":
        audio_path.write_bytes(data[:-10] + bytes([data[-10] ^ 0xFF]) + data[-9:])
    elif damage == "truncate_audio":
        audio_path.write_bytes(data[:100])
    elif damage == "delete_audio":
        audio_path.unlink()
    elif damage == "bad_sidecar_json":
        side.write_text("{not json")
    else:
        meta = json.loads(side.read_text())
        meta["key"] = "cd" + "1" * 62
        side.write_text(json.dumps(meta))
    assert store.get_audio(KEY) is None
    assert not audio_path.exists() and not side.exists()  # deleted, so it is recomputed
    assert store.put_audio(KEY, clip) == s  # recompute gives the same entry
    assert store.get_audio(KEY) == s


def test_orphan_audio_without_sidecar_is_absent_and_overwritten(tmp_path):
    # A run killed after the audio write but before the sidecar: the entry does not exist.
    store = ArtifactStore(tmp_path)
    store.path_for(KEY).parent.mkdir(parents=True)
    store.path_for(KEY).write_bytes(b"partial garbage")
    assert store.get_audio(KEY) is None
    s = store.put_audio(KEY, _clip())
    assert store.get_audio(KEY) == s


def test_put_is_atomic(tmp_path, monkeypatch):
    store = ArtifactStore(tmp_path)
    clip = _clip(frames=5000)
    final = store.path_for(KEY)
    seen = []
    real_replace = os.replace

    def checking_replace(src, dst):
        # at rename time the final name does not exist yet, and the temp file is complete
        seen.append((os.path.exists(dst), os.path.getsize(src)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", checking_replace)
    store.put_audio(KEY, clip)
    assert seen[0][0] is False and seen[0][1] == final.stat().st_size
    assert len(seen) == 2  # audio first, then the sidecar (the commit marker)

    def failing_replace(src, dst):
        raise OSError("killed")

    monkeypatch.setattr(os, "replace", failing_replace)
    other = "cd" + "2" * 62
    with pytest.raises(OSError):
        store.put_audio(other, clip)
    folder = store.path_for(other).parent
    assert not folder.exists() or list(folder.iterdir()) == []  # no partial or temp files


def test_flac_store_quantises_to_24_bit(tmp_path):
    store = ArtifactStore(tmp_path, fmt="flac")
    clip = _clip(channels=1)
    s = store.put_audio(KEY, clip)
    assert s.path.endswith(".flac") and sf.info(s.path).subtype == "PCM_24"
    y = store.read(store.get_audio(KEY)).samples
    assert np.max(np.abs(y - clip.samples)) <= 2.0 ** -23 + 1e-9


@pytest.mark.parametrize("key", ["", "../../etc", "a/b", "x", "k" * 200, "a b c"])
def test_bad_keys_refused(tmp_path, key):
    with pytest.raises(SabenchError, match="not a valid key"):
        ArtifactStore(tmp_path).path_for(key)


def test_stores_refuse_package_dirs():
    for cls in (ArtifactStore, EmbeddingCache):
        with pytest.raises(SabenchError, match="inside the installed package"):
            cls(paths.REPO_ROOT / "harness" / "cache")
        with pytest.raises(SabenchError, match="inside the installed package"):
            cls("/usr/lib/python3/site-packages/x")


# --------------------------------------------------------------------------- paths

def test_cache_root_env_and_refusal(tmp_cache, monkeypatch):
    assert paths.cache_root() == tmp_cache
    monkeypatch.setenv("SABENCH_CACHE", str(paths.REPO_ROOT / "harness"))
    with pytest.raises(SabenchError, match="inside the installed package"):
        paths.cache_root()
    monkeypatch.delenv("SABENCH_CACHE")
    assert paths.cache_root() == paths.Path.home() / ".cache" / "sabench"


def test_weights_and_shared_roots(tmp_path, monkeypatch):
    monkeypatch.delenv("SABENCH_WEIGHTS", raising=False)
    assert paths.weights_root() is None
    monkeypatch.setenv("SABENCH_WEIGHTS", str(tmp_path / "w"))
    assert paths.weights_root() == tmp_path / "w"
    assert paths.weights_root(str(tmp_path / "flag")) == tmp_path / "flag"  # flag wins
    monkeypatch.setenv("SABENCH_SHARED", str(tmp_path))
    assert paths.shared_root() == tmp_path
    monkeypatch.setenv("SABENCH_SHARED", str(tmp_path / "absent"))
    assert paths.shared_root() is None


# --------------------------------------------------------------------------- EmbeddingCache

def _info(**kw) -> BackboneInfo:
    base = dict(name="mini_clf", checkpoint_sha256="c" * 64, sample_rate=16000,
                recipe=AudioRecipe(16000), version="1")
    base.update(kw)
    return BackboneInfo(**base)


def test_key_changes_with_everything_that_changes_numbers():
    audio_sha = "a" * 64
    k = EmbeddingCache.key(audio_sha, _info())
    assert k == EmbeddingCache.key(audio_sha, _info())  # stable
    variants = [
        EmbeddingCache.key("b" * 64, _info()),
        EmbeddingCache.key(audio_sha, _info(checkpoint_sha256="d" * 64)),
        EmbeddingCache.key(audio_sha, _info(recipe=AudioRecipe(16000, resampler="polyphase"))),
        EmbeddingCache.key(audio_sha, _info(recipe=AudioRecipe(16000, length="crop",
                                                               max_seconds=10))),
        EmbeddingCache.key(audio_sha, _info(name="panns_cnn14")),
        EmbeddingCache.key(audio_sha, _info(version="2")),
    ]
    assert len({k, *variants}) == len(variants) + 1


def test_embedding_round_trip_keeps_dtypes(tmp_path):
    cache = EmbeddingCache(tmp_path)
    key = EmbeddingCache.key("a" * 64, _info())
    out = {"embedding": RNG.standard_normal((3, 16)).astype(np.float32),
           "logits": RNG.standard_normal((3, 5)), "frames": np.arange(3, dtype=np.int64)}
    assert cache.get(key) is None
    cache.put(key, out)
    got = cache.get(key)
    assert set(got) == set(out)
    for name in out:
        assert got[name].dtype == out[name].dtype
        np.testing.assert_array_equal(got[name], out[name])
    assert cache.path_for(key) == tmp_path / "embeddings" / key[:2] / f"{key}.npz"


@pytest.mark.parametrize("damage", ["truncate", "garbage", "tamper_array", "wrong_key"])
def test_corrupt_embeddings_are_none_and_deleted(tmp_path, damage):
    cache = EmbeddingCache(tmp_path)
    key = EmbeddingCache.key("a" * 64, _info())
    out = {"embedding": np.ones((2, 4), np.float32)}
    cache.put(key, out)
    path = cache.path_for(key)
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:50])
    elif damage == "garbage":
        path.write_bytes(b"\x00" * 300)
    elif damage == "tamper_array":  # a valid npz whose arrays no longer match the digest
        with np.load(path) as z:
            d = {n: z[n] for n in z.files}
        d["embedding"] = d["embedding"] * 2
        with open(path, "wb") as f:
            np.savez(f, **d)
    else:  # the file of another key copied into place
        other = EmbeddingCache.key("b" * 64, _info())
        cache.put(other, out)
        path.write_bytes(cache.path_for(other).read_bytes())
    assert cache.get(key) is None
    assert not path.exists()
    cache.put(key, out)  # recompute
    np.testing.assert_array_equal(cache.get(key)["embedding"], out["embedding"])


def test_reserved_output_names_refused(tmp_path):
    with pytest.raises(SabenchError, match="reserved"):
        EmbeddingCache(tmp_path).put("k" * 64, {"__key__": np.zeros(1)})
