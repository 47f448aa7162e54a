"""Parity of the torch re-implementation with descript-audio-codec's losses (dac + audiotools)."""

import numpy as np
import pytest
import torch

from harness.metrics.recon import (
    MEL_DAC_DEFAULT,
    MEL_DAC_TRAINING,
    STFT_DAC_DEFAULT,
    make_mel_loss,
    make_stft_loss,
    spectral_loss,
)

dac_loss = pytest.importorskip("dac.nn.loss")
AudioSignal = pytest.importorskip("audiotools").AudioSignal

# Both sides run the same float32 torch.stft / matmul; on this build they agree bit for bit.
# rtol 1e-5 leaves room for float32 summation-order differences across torch builds/threads
# (relative float32 error of a mean over ~1e5 bins is ~1e-6), while any convention change
# (window, hop, mel norm, pow, eps, log base) moves the loss by > 1e-3.
RTOL = 1e-5


def _signals(sr, kind, seed):
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(sr // 2) / sr  # 0.5 s
    if kind == "noise":
        return 0.1 * torch.randn(t.shape, generator=g), 0.1 * torch.randn(t.shape, generator=g)
    x = 0.5 * torch.sin(2 * torch.pi * 440 * t)
    return x, 0.4 * torch.sin(2 * torch.pi * 445 * t + 0.3) + 0.01 * torch.randn(t.shape, generator=g)


def _dac(loss, x, y, sr):
    return float(loss(AudioSignal(x[None, None].clone(), sr), AudioSignal(y[None, None].clone(), sr)))


@pytest.mark.parametrize("sr", [44100, 16000])
@pytest.mark.parametrize("kind", ["noise", "sine"])
def test_parity_with_dac(sr, kind):
    torch.set_num_threads(1)
    x, y = _signals(sr, kind, seed=sr)
    cases = [
        (dac_loss.MelSpectrogramLoss(), MEL_DAC_DEFAULT),
        (dac_loss.MultiScaleSTFTLoss(), STFT_DAC_DEFAULT),
        (dac_loss.MelSpectrogramLoss(n_mels=[5, 10, 20, 40, 80, 160, 320],
                                     window_lengths=[32, 64, 128, 256, 512, 1024, 2048],
                                     mel_fmin=[0.0] * 7, mel_fmax=[None] * 7, pow=1.0, mag_weight=0.0),
         MEL_DAC_TRAINING),
    ]
    for ref_loss, cfg in cases:
        want = _dac(ref_loss, x, y, sr)
        got = float(spectral_loss(x, y, sr, cfg))
        assert got == pytest.approx(want, rel=RTOL), cfg.name
        assert got > 0.01  # different signals give a clearly non-zero loss


def test_identical_signals_give_zero_and_order_matters():
    x, y = _signals(44100, "sine", seed=1)
    assert float(spectral_loss(x, x, 44100, MEL_DAC_DEFAULT)) == 0.0
    # L1 is symmetric, so swapping estimate and reference gives the same value
    assert float(spectral_loss(x, y, 44100, STFT_DAC_DEFAULT)) == pytest.approx(
        float(spectral_loss(y, x, 44100, STFT_DAC_DEFAULT)), rel=1e-6)


class _AudioCtx:
    profile = "mini"

    def __init__(self, audio):
        self.audio, self.recipes = audio, []

    def load_audio(self, path, recipe):
        self.recipes.append(recipe)
        return self.audio[path]


def test_metric_scores_items_by_id_at_recorded_rate():
    from harness.metrics.base import EvalItem
    from harness.records import Prompt

    x, y = _signals(44100, "sine", seed=2)
    audio = {"out/a.wav": x.numpy(), "ref/a.wav": y.numpy(), "out/b.wav": y.numpy()[:-100], "ref/b.wav": y.numpy()}
    items = [EvalItem("b", Prompt("b", "t"), output="out/b.wav", reference="ref/b.wav"),
             EvalItem("a", Prompt("a", "t"), output="out/a.wav", reference="ref/a.wav")]
    ctx = _AudioCtx(audio)
    out = make_mel_loss().compute(ctx, items)
    assert out.per_item["b"] == 0.0  # identical after cropping to the shorter clip
    assert out.per_item["a"] == pytest.approx(float(spectral_loss(x, y, 44100, MEL_DAC_DEFAULT)), rel=1e-6)
    assert out.extras["max_length_mismatch_samples"] == 100
    assert {r.sample_rate for r in ctx.recipes} == {44100}
    stft = make_stft_loss(sample_rate=48000)
    assert stft.info.name == "stft_loss" and not stft.info.higher_is_better
    assert "@48000" in stft.info.recipe
    assert np.isfinite(stft.compute(ctx, items).per_item["a"])
