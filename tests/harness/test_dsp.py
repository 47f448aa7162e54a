"""harness.dsp: the core's own mel filterbank and sinc resampler equal torchaudio's bit for bit
(so stored numbers did not move when torchaudio left the core dependencies), and the mini
world's front ends run with torchaudio unimportable."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from harness.dsp import SincResampler, htk_mel_filterbank

ta = pytest.importorskip("torchaudio")


@pytest.mark.parametrize("n_fft,fmin,fmax,n_mels,sr", [
    (1024, 30.0, 8000.0, 64, 16000),  # the mini LogMel front end
    (512, 0.0, 4000.0, 40, 8000),
    (2048, 50.0, 14000.0, 128, 44100),
])
def test_mel_filterbank_equals_torchaudio(n_fft, fmin, fmax, n_mels, sr):
    ref = ta.functional.melscale_fbanks(n_fft // 2 + 1, fmin, fmax, n_mels, sr, norm=None,
                                        mel_scale="htk")
    ours = htk_mel_filterbank(n_fft // 2 + 1, fmin, fmax, n_mels, sr)
    assert ours.dtype == torch.float32 and ours.shape == (n_fft // 2 + 1, n_mels)
    assert torch.equal(ours, ref)


@pytest.mark.parametrize("sr_in,sr_out", [(44100, 16000), (16000, 48000), (22050, 16000),
                                          (32000, 16000), (16000, 44100), (8000, 11025)])
@pytest.mark.parametrize("window,width,rolloff,beta", [
    ("hann", 6, 0.99, None), ("kaiser", 64, 0.9475937167399596, 14.769656459379492),
    ("kaiser", 16, 0.9, None)])
def test_resampler_equals_torchaudio(sr_in, sr_out, window, width, rolloff, beta):
    x = torch.from_numpy(np.random.default_rng(7).standard_normal((2, 3, 1234)).astype(np.float32))
    method = {"hann": "sinc_interp_hann", "kaiser": "sinc_interp_kaiser"}[window]
    ref = ta.transforms.Resample(sr_in, sr_out, resampling_method=method, lowpass_filter_width=width,
                                 rolloff=rolloff, beta=beta, dtype=torch.float32)(x)
    ours = SincResampler(sr_in, sr_out, width=width, rolloff=rolloff, window=window, beta=beta)(x)
    assert ours.shape == ref.shape == (2, 3, -(-1234 * sr_out // sr_in))
    assert torch.equal(ours, ref)


@pytest.mark.parametrize("sr_in,sr_out", [(44100, 16000), (16000, 48000), (22050, 16000)])
def test_float64_kernel_equals_torchaudio_resample_without_dtype(sr_in, sr_out):
    x = torch.from_numpy(np.random.default_rng(8).standard_normal((2, 2345)).astype(np.float32))
    prm = dict(lowpass_filter_width=64, rolloff=0.9475937167399596, beta=14.769656459379492)
    ref = ta.transforms.Resample(sr_in, sr_out, resampling_method="sinc_interp_kaiser", **prm)(x)
    ours = SincResampler(sr_in, sr_out, width=64, rolloff=prm["rolloff"], window="kaiser",
                         beta=prm["beta"], kernel="float64")
    assert ours.kernel.dtype == torch.float32
    assert torch.equal(ours(x), ref)
    f32 = SincResampler(sr_in, sr_out, width=64, rolloff=prm["rolloff"], window="kaiser", beta=prm["beta"])
    assert not torch.equal(f32(x), ref)  # the two kernels do differ (~5e-6)


def test_resampler_refuses_unknown_window():
    with pytest.raises(ValueError, match="window must be"):
        SincResampler(16000, 8000, window="blackman")
    with pytest.raises(ValueError, match="kernel must be"):
        SincResampler(16000, 8000, kernel="float16")


def test_core_front_ends_run_without_torchaudio():
    """With torchaudio unimportable, resampling and the mini log-mel give the same values."""
    code = (
        "import sys; sys.modules['torchaudio'] = None\n"
        "import numpy as np, torch\n"
        "from harness import audio\n"
        "from suites.synthcaps.backbones.features import LogMel\n"
        "x = np.random.default_rng(3).standard_normal((1, 4410)).astype(np.float32)\n"
        "y = audio.resample(x, 44100, 16000)\n"
        "m = LogMel()(torch.from_numpy(y))\n"
        "print(float(np.abs(y).sum()), float(m.sum()))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    from harness import audio
    from suites.synthcaps.backbones.features import LogMel

    x = np.random.default_rng(3).standard_normal((1, 4410)).astype(np.float32)
    y = audio.resample(x, 44100, 16000)
    m = LogMel()(torch.from_numpy(y))
    # same values (up to float summation order: torch's thread count may differ in-process)
    np.testing.assert_allclose([float(v) for v in out.stdout.split()],
                               [float(np.abs(y).sum()), float(m.sum())], rtol=1e-5)
