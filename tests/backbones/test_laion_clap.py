"""LAION-CLAP through its real, offline loading path (tiny local tokenizers, random weights
saved as `{"state_dict": {"module."+k: v}, epoch: numpy scalar}` like the published files)."""

from __future__ import annotations

import shutil
import sys

import numpy as np
import pytest

from harness.backbones.laion_clap import CHECKPOINTS, MAX_LEN, LaionClap
from harness.errors import WeightsError

from backbone_testkit import noise

pytestmark = pytest.mark.slow


def test_offline_import_and_construction(laion_weights):
    assert "laion_clap" in sys.modules  # imported by the fixture through the offline guard
    from transformers import RobertaTokenizer

    data = sys.modules["laion_clap.training.data"]
    assert data.roberta_tokenizer.vocab_size == RobertaTokenizer.from_pretrained(
        str(laion_weights / "laion_clap/tokenizers/roberta-base")).vocab_size


def test_non_fusion_shapes_norms_determinism_and_crop(laion_weights):
    bb = LaionClap("630k-audioset-best", weights=laion_weights)
    long = noise(MAX_LEN + 48000, 7)
    batch = [noise(48000, 1), noise(96000, 2), long]
    out = bb.embed(batch)["embedding"]
    assert out.shape == (3, 512) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(out, bb.embed(batch)["embedding"])
    # deterministic crop policy: a > 10 s clip scores as its first 10 s
    np.testing.assert_allclose(out[2], bb.embed([long[:MAX_LEN]])["embedding"][0], atol=1e-5)
    assert not np.allclose(out[0], out[1], atol=1e-4)
    text = bb.embed_text(["a dog barks", "rain on a roof", "a dog barks"])
    assert text.shape == (3, 512)
    np.testing.assert_allclose(np.linalg.norm(text, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(text[0], text[2], atol=1e-6)
    assert "crop_policy=first_10s" in bb.info.version and bb.info.sample_rate == 48000
    assert bb.recipe.int16_roundtrip


def test_fusion_long_clip_is_seeded_and_restores_numpy_state(laion_weights):
    bb = LaionClap("630k-audioset-fusion-best", weights=laion_weights)
    long = noise(MAX_LEN * 2, 3)
    state = np.random.get_state()[1].copy()
    a = bb.embed([long, noise(48000, 4)])["embedding"]
    assert np.array_equal(np.random.get_state()[1], state)
    b = bb.embed([long, noise(48000, 4)])["embedding"]
    assert a.shape == (2, 512)
    np.testing.assert_array_equal(a, b)
    assert "fusion_seeded_by_content" in bb.info.version


def test_wrong_variant_missing_and_bad_pickle(laion_weights, tmp_path):
    import torch

    shutil.copytree(laion_weights / "laion_clap" / "tokenizers", tmp_path / "laion_clap" / "tokenizers")
    with pytest.raises(WeightsError, match="huggingface.co/lukewys/laion_clap"):
        LaionClap("630k-audioset-best", weights=tmp_path).load()
    # a fusion checkpoint under the non-fusion name: fusion layers are unexpected keys
    shutil.copy(laion_weights / CHECKPOINTS["630k-audioset-fusion-best"].relpath,
                tmp_path / CHECKPOINTS["630k-audioset-best"].relpath)
    with pytest.raises(WeightsError, match="does not match the model"):
        LaionClap("630k-audioset-best", weights=tmp_path).load()
    import argparse

    torch.save({"state_dict": {}, "args": argparse.Namespace(lr=1)},
               tmp_path / CHECKPOINTS["630k-audioset-best"].relpath)
    with pytest.raises(WeightsError, match="not a weights-only checkpoint"):
        LaionClap("630k-audioset-best", weights=tmp_path).load()


def test_unknown_checkpoint_name():
    with pytest.raises(WeightsError, match="630k-audioset-best"):
        LaionClap("630k-best-typo")


def test_numpy_scalars_need_the_documented_safe_globals(laion_weights):
    """The fixture file pickles numpy scalars like the 630k files: plain weights-only load fails."""
    import pickle

    import torch

    with pytest.raises(pickle.UnpicklingError):
        torch.load(laion_weights / CHECKPOINTS["630k-audioset-best"].relpath, weights_only=True)


def test_htsat_base_checkpoint(laion_weights, tmp_path):
    import torch

    from harness.backbones.laion_clap import _build_module

    from backbone_testkit import build_seeded

    ck = CHECKPOINTS["music_speech_audioset_epoch_15_esc_89.98"]
    assert ck.amodel == "HTSAT-base" and not ck.fusion
    shutil.copytree(laion_weights / "laion_clap" / "tokenizers", tmp_path / "laion_clap" / "tokenizers")
    clap = build_seeded(lambda: _build_module(ck, tmp_path / "laion_clap" / "tokenizers", "cpu"))
    torch.save({"state_dict": clap.model.state_dict()}, tmp_path / ck.relpath)  # no "module." prefix
    bb = LaionClap(ck.name, weights=tmp_path)
    out = bb.embed([noise(48000, 5)])["embedding"]
    assert out.shape == (1, 512)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    assert "HTSAT-base" in bb.info.version
    # the tiny-HTSAT file does not fit the base model
    shutil.copy(laion_weights / CHECKPOINTS["630k-audioset-best"].relpath, tmp_path / ck.relpath)
    with pytest.raises(WeightsError, match="does not match"):
        LaionClap(ck.name, weights=tmp_path).load()
