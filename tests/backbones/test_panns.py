"""PANNs Cnn14 16k/32k through the real loading path, on random weights in the Zenodo format."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from harness.backbones.panns import VARIANTS, PannsCnn14
from harness.errors import WeightsError

from backbone_testkit import noise

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("variant", ["panns16k", "panns32k"])
def test_shapes_determinism_and_logits(panns_weights, variant):
    import torch

    sr = VARIANTS[variant].sample_rate
    bb = PannsCnn14(variant, weights=panns_weights)
    assert bb.info.checkpoint_sha256 == "not-loaded"
    batch = [noise(sr, 1), noise(sr, 2), noise(sr * 3 // 2, 3)]  # two lengths -> two groups
    out = bb.embed(batch)
    assert out["embedding"].shape == (3, 2048) and out["logits"].shape == (3, 527)
    assert out["embedding"].dtype == np.float32 and np.all(out["embedding"] >= 0)  # post-ReLU
    again = bb.embed(batch)
    np.testing.assert_array_equal(out["embedding"], again["embedding"])
    np.testing.assert_array_equal(out["logits"], again["logits"])
    # independent: the package's own forward on each clip alone; sigmoid(logits) = clipwise_output
    for i, clip in enumerate(batch):
        with torch.inference_mode():
            ref = bb._model(torch.from_numpy(clip)[None])
        np.testing.assert_allclose(out["embedding"][i], ref["embedding"][0].numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(1 / (1 + np.exp(-out["logits"][i].astype(np.float64))),
                                   ref["clipwise_output"][0].numpy(), rtol=1e-5, atol=1e-7)
    info = bb.info
    assert info.sample_rate == sr and info.recipe.sample_rate == sr and len(info.checkpoint_sha256) == 64


def test_wrong_checkpoint_shapes(panns_weights, tmp_path):
    """The 32 kHz file (n_fft 1024) placed under the 16 kHz name: STFT kernels do not fit."""
    dst = tmp_path / VARIANTS["panns16k"].relpath
    dst.parent.mkdir(parents=True)
    shutil.copy(panns_weights / VARIANTS["panns32k"].relpath, dst)
    with pytest.raises(WeightsError, match="does not match the model"):
        PannsCnn14("panns16k", weights=tmp_path).load()


def test_truncated_missing_and_wrong_container(panns_weights, tmp_path):
    import torch

    dst = tmp_path / VARIANTS["panns16k"].relpath
    dst.parent.mkdir(parents=True)
    with pytest.raises(WeightsError, match="zenodo"):
        PannsCnn14("panns16k", weights=tmp_path).load()
    data = (panns_weights / VARIANTS["panns16k"].relpath).read_bytes()
    dst.write_bytes(data[: len(data) // 3])
    with pytest.raises(WeightsError, match="truncated or corrupt"):
        PannsCnn14("panns16k", weights=tmp_path).load()
    torch.save({"state": {}}, dst)
    with pytest.raises(WeightsError, match="key 'model'"):
        PannsCnn14("panns16k", weights=tmp_path).load()


def test_too_short_input_is_a_clear_error(panns_weights):
    from harness.errors import AudioError

    with pytest.raises(AudioError, match="pad short clips"):
        PannsCnn14("panns16k", weights=panns_weights).embed([np.zeros(1000, np.float32)])
