"""MS-CLAP 2023: msclap's own model classes built offline and run under the installed
transformers (msclap declares transformers<5), on random weights in the `{"model": ...}` format."""

from __future__ import annotations

import numpy as np
import pytest

from harness.backbones.ms_clap import CLIP, MsClap, fit_7s
from harness.errors import WeightsError

from backbone_testkit import noise

pytestmark = pytest.mark.slow


def test_fit_7s_policy():
    x = np.arange(5, dtype=np.float32)
    y = fit_7s(x)
    assert y.shape == (CLIP,) and np.array_equal(y[:10], np.tile(x, 2))
    long = np.arange(CLIP + 100, dtype=np.float32)
    assert np.array_equal(fit_7s(long), long[:CLIP])


def test_constructs_and_runs_under_installed_transformers(msclap_weights):
    import msclap.models.clap as clap_mod
    import torch
    import transformers

    assert int(transformers.__version__.split(".")[0]) >= 5
    bb = MsClap(weights=msclap_weights)
    bb.load()
    assert isinstance(bb._model, clap_mod.CLAP)
    assert isinstance(bb._model.caption_encoder.base, transformers.GPT2Model)
    batch = [noise(44100 * 2, 1), noise(44100 * 9, 2)]
    out = bb.embed(batch)["embedding"]
    assert out.shape == (2, 1024) and out.dtype == np.float32
    np.testing.assert_array_equal(out, bb.embed(batch)["embedding"])
    # deterministic policy: long clip == its first 7 s; short clip == tiled to 7 s
    np.testing.assert_allclose(out[1], bb.embed([batch[1][:CLIP]])["embedding"][0], atol=1e-5)
    np.testing.assert_allclose(out[0], bb.embed([np.tile(batch[0], 4)[:CLIP]])["embedding"][0], atol=1e-5)

    texts = ["a dog barks", "rain falls on a roof"]
    emb = bb.embed_text(texts)
    assert emb.shape == (2, 1024)
    np.testing.assert_array_equal(emb, bb.embed_text(texts))
    # independent pooling check: GPT-2 hidden state at the last non-'!' token -> projection
    tok = bb._tokenizer(texts[0] + " <|endoftext|>", max_length=77, padding="max_length", return_tensors="pt")
    assert tok["input_ids"].shape == (1, 77) and bb._tokenizer.pad_token_id == 0
    last = int((tok["input_ids"][0] != 0).sum()) - 1
    assert tok["input_ids"][0, last] == bb._tokenizer.convert_tokens_to_ids("<|endoftext|>")
    with torch.inference_mode():
        h = bb._model.caption_encoder.base(input_ids=tok["input_ids"], attention_mask=tok["attention_mask"])[0]
        ref = bb._model.caption_encoder.projection(h[0, last][None])[0].numpy()
    np.testing.assert_allclose(emb[0], ref, rtol=1e-5, atol=1e-5)
    assert bb.info.sample_rate == 44100 and "first_7s" in bb.info.version


def test_missing_and_wrong_checkpoints(msclap_weights, tmp_path):
    import shutil

    import torch

    shutil.copytree(msclap_weights / "ms_clap" / "gpt2", tmp_path / "ms_clap" / "gpt2")
    with pytest.raises(WeightsError, match="microsoft/msclap"):
        MsClap(weights=tmp_path).load()
    state = torch.load(msclap_weights / "ms_clap" / "CLAP_weights_2023.pth", weights_only=True)["model"]
    cut = {k: v for k, v in state.items() if not k.startswith("audio_encoder.projection")}
    torch.save({"model": cut}, tmp_path / "ms_clap" / "CLAP_weights_2023.pth")
    with pytest.raises(WeightsError, match="lacks"):
        MsClap(weights=tmp_path).load()
    bad = dict(state)
    bad["caption_encoder.projection.linear1.weight"] = torch.zeros(1024, 512)
    torch.save({"model": bad}, tmp_path / "ms_clap" / "CLAP_weights_2023.pth")
    with pytest.raises(WeightsError, match="does not match"):
        MsClap(weights=tmp_path).load()
    torch.save(state, tmp_path / "ms_clap" / "CLAP_weights_2023.pth")
    with pytest.raises(WeightsError, match="key 'model'"):
        MsClap(weights=tmp_path).load()
