"""VGGish: the log-mel front end against closed forms, and the network against a functional
re-computation from the saved state dict (torchvggish key names)."""

from __future__ import annotations

import numpy as np
import pytest

from harness.backbones import vggish as V
from harness.errors import WeightsError

from backbone_testkit import noise


def test_example_count_and_silence():
    # 3 s @ 16 kHz: 1 + (48000 - 400) // 160 = 298 frames -> 3 examples of 96 frames
    ex = V.log_mel_examples(np.zeros(48000, np.float32))
    assert ex.shape == (3, 96, 64) and ex.dtype == np.float32
    np.testing.assert_allclose(ex, np.log(0.01), rtol=0, atol=1e-6)  # log(0 + 0.01)
    assert V.log_mel_examples(np.zeros(V.MIN_SAMPLES, np.float32)).shape == (1, 96, 64)
    assert V.log_mel_examples(np.zeros(V.MIN_SAMPLES - 1, np.float32)).shape[0] == 0


def test_mel_matrix_closed_form():
    m = V.mel_matrix()
    assert m.shape == (257, 64) and np.all(m >= 0) and np.all(m[0] == 0)
    # each band peaks at its centre frequency (HTK mel, 125-7500 Hz edges)
    mel = lambda f: 1127.0 * np.log(1 + f / 700.0)  # noqa: E731
    centres_mel = np.linspace(mel(125.0), mel(7500.0), 66)[1:-1]
    centres_hz = 700.0 * (np.exp(centres_mel / 1127.0) - 1)
    bin_hz = np.linspace(0, 8000, 257)
    peak_hz = bin_hz[np.argmax(m, axis=0)]
    assert np.all(np.abs(peak_hz - centres_hz) <= 8000 / 256 / 2 + 1e-9)  # within half an FFT bin


def test_sine_energy_lands_in_its_band():
    t = np.arange(32000) / 16000.0
    ex = V.log_mel_examples((0.5 * np.sin(2 * np.pi * 1000.0 * t)).astype(np.float32))
    band = int(np.argmax(ex.mean(axis=(0, 1))))
    mel = lambda f: 1127.0 * np.log(1 + f / 700.0)  # noqa: E731
    centres = np.linspace(mel(125.0), mel(7500.0), 66)[1:-1]
    assert abs(band - int(np.argmin(np.abs(centres - mel(1000.0))))) <= 1


def _functional_vggish(state, x):
    """VGGish forward written with torch.nn.functional straight from the state dict."""
    import torch.nn.functional as F

    h = x
    for conv in (0, 3, 6, 8, 11, 13):
        h = F.relu(F.conv2d(h, state[f"features.{conv}.weight"], state[f"features.{conv}.bias"], padding=1))
        if conv in (0, 3, 8, 13):
            h = F.max_pool2d(h, 2, 2)
    h = h.permute(0, 2, 3, 1).flatten(1)
    h = F.relu(F.linear(h, state["embeddings.0.weight"], state["embeddings.0.bias"]))
    h = F.relu(F.linear(h, state["embeddings.2.weight"], state["embeddings.2.bias"]))
    return F.linear(h, state["embeddings.4.weight"], state["embeddings.4.bias"])


@pytest.mark.slow
def test_real_loading_shapes_and_independent_forward(vggish_weights):
    import torch

    bb = V.VGGishBackbone(weights=vggish_weights)
    batch = [noise(16000, 1), noise(48000, 2)]  # 1 and 3 examples
    out = bb.embed(batch)
    assert out["embedding"].shape == (2, 128) and out["frames"].shape == (2, 3, 128)
    assert out["n_frames"].tolist() == [1, 3]
    assert np.all(out["frames"][0, 1:] == 0)
    assert V.pooled_frames(out).shape == (4, 128)
    assert (out["frames"] < 0).any()  # pre-activation: the final ReLU is removed
    again = bb.embed(batch)
    np.testing.assert_array_equal(out["frames"], again["frames"])
    state = torch.load(vggish_weights / V.RELPATH, weights_only=True)
    for i, clip in enumerate(batch):
        x = torch.from_numpy(V.log_mel_examples(clip))[:, None]
        ref = _functional_vggish(state, x).numpy()
        n = out["n_frames"][i]
        np.testing.assert_allclose(out["frames"][i, :n], ref, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(out["embedding"][i], ref.mean(0), rtol=1e-4, atol=1e-5)
    assert bb.info.sample_rate == 16000 and len(bb.info.checkpoint_sha256) == 64


@pytest.mark.slow
def test_wrong_keys_and_pickles(vggish_weights, tmp_path):
    import torch

    (tmp_path / "vggish").mkdir()
    state = torch.load(vggish_weights / V.RELPATH, weights_only=True)
    state["embeddings.4.weight"] = torch.zeros(64, 4096)  # a 64-d head: wrong shape
    torch.save(state, tmp_path / V.RELPATH)
    with pytest.raises(WeightsError, match="does not match"):
        V.VGGishBackbone(weights=tmp_path).load()
    torch.save({"features.0.weight": torch.zeros(64, 1, 3, 3), "pca": np.array([1.0])}, tmp_path / V.RELPATH)
    with pytest.raises(WeightsError):
        V.VGGishBackbone(weights=tmp_path).load()
