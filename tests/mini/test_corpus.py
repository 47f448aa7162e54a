"""SynthCaps corpus: determinism, captions, and labels that agree with the rendered audio."""

import numpy as np

from harness.hashing import sha256_array
from suites.synthcaps.captions import tokenize, vocabulary
from suites.synthcaps.corpus import CorpusConfig, clips, render_split
from suites.synthcaps.render import HOP, envelope_db, frame_rms_db, render
from suites.synthcaps.scene import Scene
from suites.synthcaps.sources import SOURCE_NAMES


def _hash(seed: int, split: str = "train", n: int = 6) -> str:
    _, audio, labels = render_split(CorpusConfig(seed=seed), split, n)
    return sha256_array(audio) + sha256_array(labels)


def test_same_seed_same_bytes_different_seed_differs():
    assert _hash(3) == _hash(3)
    assert _hash(3) != _hash(4)
    assert _hash(3, "train") != _hash(3, "test")


def test_split_prefix_is_independent_of_split_size():
    small = clips(CorpusConfig(n_train=5), "train")
    large = clips(CorpusConfig(n_train=50), "train", limit=5)
    assert [c.scene for c in small] == [c.scene for c in large]


def test_vocabulary_has_at_least_12_sources_and_covers_captions():
    assert len(SOURCE_NAMES) >= 12
    vocab = set(vocabulary())
    seen = set()
    for c in clips(CorpusConfig(), "train", 200):
        for text in (c.caption, *c.paraphrases):
            assert set(tokenize(text)) <= vocab, text
        assert len(set(c.paraphrases) | {c.caption}) == 3
        seen.update(c.scene.sources())
        assert 1 <= len(c.scene.events) <= 3
    assert seen == set(SOURCE_NAMES)


def test_scene_json_round_trip():
    scene = clips(CorpusConfig(), "test", 3)[2].scene
    assert Scene.from_json(scene.to_json()) == scene


def test_labels_match_rendered_energy_and_peaks_stay_below_one():
    for c in clips(CorpusConfig(seed=1), "test", 40):
        r = render(c.scene)
        assert r.audio.dtype == np.float32 and r.audio.shape == (64000,)
        assert np.abs(r.audio).max() < 1.0
        assert r.labels.shape == (100, len(SOURCE_NAMES))
        for e, x in zip(c.scene.events, r.event_audio, strict=True):
            col = r.labels[:, SOURCE_NAMES.index(e.source)].astype(bool)
            db = envelope_db(x)
            # every labelled frame is louder than every unlabelled frame of the same event
            assert col.any()
            if (~col).any():
                assert db[col].min() > db[~col].max()
            # labelled frames lie inside the event's span (40 ms grid, +-1 frame smoothing)
            frames = np.flatnonzero(col)
            assert frames[0] >= int(e.onset * 16000) // HOP - 1
            assert frames[-1] <= int(np.ceil(e.offset * 16000 / HOP)) + 1
        # unlabelled frames of the whole dry mix are (near) silent in single-event clips
        if len(c.scene.events) == 1:
            col = r.labels.any(axis=1)
            db = frame_rms_db(r.event_audio[0])
            assert db[col].mean() - db[~col].mean() > 20 if (~col).any() else True
