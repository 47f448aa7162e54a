"""The two causes found by the peer-parity runs, each pinned by a fast test (no checkpoints):

- fadtk/kadtk resample with `torchaudio.transforms.Resample(...)` (kernel computed in float64,
  stored as float32); sabench's `sinc_kaiser_best_f64kernel` must equal it bit for bit, and the
  float32-kernel `sinc_kaiser_best` must not (it equals `torchaudio.functional.resample`).
- kadtk's KAD arithmetic (float32, lower-median bandwidth of the eval set, x100) on float16
  rows: sabench's `kernel_audio_distance(precision="float32")` returns kadtk's float exactly.
- frechet_audio_distance 0.3.4's PANN path flattens per-clip vectors (issue #37); the runner's
  wrapper keeps the clip axis.
"""

from __future__ import annotations

import numpy as np
import pytest

from harness import audio
from harness.metrics.kad import kernel_audio_distance

import peers_run

pytestmark = pytest.mark.parity
RNG = np.random.default_rng(17)


def _transform_resample(x: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    import torch
    import torchaudio

    r = torchaudio.transforms.Resample(sr_in, sr_out, lowpass_filter_width=64, rolloff=0.9475937167399596,
                                       resampling_method="sinc_interp_kaiser", beta=14.769656459379492)
    with torch.no_grad():
        return r(torch.from_numpy(x)).numpy()  # (1, T') float32


@pytest.mark.parametrize("sr_in", [24000, 32000, 44100])
def test_f64kernel_resampler_is_fadtk_kadtk_transform_bit_for_bit(sr_in):
    x = (0.3 * RNG.standard_normal((1, sr_in // 2))).astype(np.float32)  # (1, 0.5 s) @ sr_in
    peer = _transform_resample(x, sr_in, 16000)
    ours = audio.resample(x, sr_in, 16000, "sinc_kaiser_best_f64kernel")
    assert ours.dtype == np.float32 and ours.shape == peer.shape
    assert np.array_equal(ours, peer)
    other = audio.resample(x, sr_in, 16000, "sinc_kaiser_best")  # float32 kernel: not the same bits
    assert not np.array_equal(other, peer)
    assert np.abs(other - peer).max() < 1e-4


def test_kadtk_presets_use_the_transform_resampler():
    from harness.metrics.presets import get_preset

    for name in ("fadtk", "kadtk"):
        p = get_preset(name)
        assert {c.recipe.resampler for c in (p.fd, p.fad, p.kad)} == {"sinc_kaiser_best_f64kernel"}
    assert get_preset("sabench").fd.recipe.resampler != "sinc_kaiser_best_f64kernel"


@pytest.mark.parametrize("m,n,d", [(20, 20, 2048), (7, 12, 128)])
def test_kad_float32_equals_kadtk_exactly(m, n, d, need):
    need("kadtk")
    import torch
    from kadtk.kad import calc_kernel_audio_distance

    x = (10 + RNG.standard_normal((m, d))).astype(np.float16)  # kadtk stores float16 embeddings
    y = (10.3 + RNG.standard_normal((n, d))).astype(np.float16)
    peer = calc_kernel_audio_distance(torch.tensor(x), torch.tensor(y), (None, None), "cpu").item()
    ours, _h = kernel_audio_distance(x, y, precision="float32")
    assert peer > 0.1
    assert ours == peer
    exact, _ = kernel_audio_distance(x, y, precision="float64")
    assert abs(exact - peer) <= 5e-4 * abs(peer)  # float32 noise of the norm-based distances (measured <= 1e-4)


def test_frechet_audio_distance_pann_clip_axis_kept():
    import torch

    def model(audio, mixup_lambda=None):  # the peer's Cnn14_16k output layout for one clip
        return {"embedding": torch.full((1, 5), float(audio.shape[-1])), "clipwise_output": torch.zeros(1, 3)}

    rows = [peers_run._KeepClipAxis(model)(torch.zeros(1, t), None)["embedding"].data[0] for t in (4, 6)]
    flat = [model(torch.zeros(1, t), None)["embedding"].data[0] for t in (4, 6)]
    assert np.concatenate(rows, axis=0).shape == (2, 5)  # N clips x D, as FD needs
    assert np.concatenate(flat, axis=0).shape == (10,)  # the peer's own path: one long vector
    assert np.concatenate(rows, axis=0)[:, 0].tolist() == [4.0, 6.0]


def test_float16_file_statistics_equal_fadtk_online(tmp_path, need):
    need("fadtk")
    from fadtk.utils import calculate_embd_statistics_online

    from harness.metrics.fd import merge_float16_file
    from harness.metrics.streaming import GaussianStats

    files, stats = [], GaussianStats()
    for i, frames in enumerate((10, 7, 10, 3)):
        rows = 40 + 3 * RNG.standard_normal((frames, 16))  # (F, D) float64 backbone rows
        np.save(tmp_path / f"e{i}.npy", rows.astype(np.float16))  # fadtk stores float16
        files.append(tmp_path / f"e{i}.npy")
        merge_float16_file(stats, rows)
    mu, cov = calculate_embd_statistics_online(files)
    np.testing.assert_allclose(stats.mean, mu, rtol=1e-13, atol=0)
    np.testing.assert_allclose(stats.cov, cov, rtol=1e-10, atol=1e-12)
    exact = GaussianStats().update(np.concatenate([np.load(f).astype(np.float64) for f in files]))
    assert np.abs(exact.mean - mu).max() > 1e-5  # float16 per-file means: not the exact mean


def test_fadtk_grad_switch_is_undone_by_the_runner(need):
    need("fadtk")
    import torch

    import peer_env

    with peer_env.keep_grad_mode():
        import fadtk

        fadtk.FrechetAudioDistance(fadtk.VGGishModel(), audio_load_worker=1, load_model=False)
        assert not torch.is_grad_enabled()  # what fadtk does to the process
    assert torch.is_grad_enabled()
