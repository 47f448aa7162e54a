"""Real, heterogeneous submissions: every `.wav` in shared/data/realset-dev/*/ is read by
harness.audio and checked against two independent sources: the file header as libsndfile
reports it (`soundfile.info`) and the table in shared/data/README.md. Skipped when the
shared folder is absent.
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from harness import audio
from harness.records import AudioRecipe

# shared/data/README.md, "realset-dev" table: file -> (rate Hz, channels, subtype, seconds).
# The table rounds durations to 2 decimals, hence DURATION_TOL = 0.005 s (half a digit).
README_TABLE = {
    "gt.wav": (32000, 1, "PCM_16", 10.0),
    "audioldm2.wav": (16000, 1, "PCM_16", 10.24),
    "makeanaudio.wav": (16000, 1, "PCM_16", 10.24),
    "ezaudio.wav": (24000, 1, "PCM_16", 10.0),
    "semanticvocoder.wav": (24000, 1, "PCM_16", 10.0),
    "mmaudio.wav": (44100, 1, "FLOAT", 10.01),
    "stableaudio.wav": (44100, 2, "PCM_16", 10.0),
    "tangoflux.wav": (44100, 2, "PCM_16", 10.0),
}
DURATION_TOL = 0.005


@pytest.fixture(scope="module")
def realset_files(shared_dir):
    root = shared_dir / "data" / "realset-dev"
    files = sorted(root.glob("*/*.wav"))
    if not files:
        pytest.skip(f"no .wav files under {root}")
    return files


def test_every_file_matches_header_and_readme(realset_files):
    assert len(realset_files) == 5 * len(README_TABLE)
    for path in realset_files:
        info = sf.info(str(path))
        rate, channels, subtype, seconds = README_TABLE[path.name]
        assert (info.samplerate, info.channels, info.subtype) == (rate, channels, subtype), path
        a = audio.read(path)
        assert a.sample_rate == info.samplerate and a.channels == info.channels, path
        assert a.frames == info.frames and a.samples.dtype == np.float32, path
        assert abs(a.duration - seconds) <= DURATION_TOL, (path, a.duration)
        assert np.isfinite(a.samples).all() and np.abs(a.samples).max() <= 1.0, path


def test_int16_values_equal_raw_integers(realset_files):
    # Independent decode: libsndfile's raw int16 samples / 32768 must equal read()'s floats.
    for path in [p for p in realset_files if README_TABLE[p.name][2] == "PCM_16"][:8]:
        raw, _ = sf.read(str(path), dtype="int16", always_2d=True)  # (T, C) int16
        np.testing.assert_array_equal(audio.read(path).samples, raw.T.astype(np.float32) / 32768)


def test_shaped_for_a_16k_backbone(realset_files):
    # One folder through the batched path: every system's clip becomes exactly 10 s @ 16 kHz
    # mono, whatever its native rate, channels or sample format; values equal an independent
    # pipeline (soundfile -> channel mean -> torchaudio.functional.resample with the
    # kaiser_best parameters -> first 160000 samples). Tolerance 1e-6: the channel mean is
    # float32 in both, only summation order may differ.
    import torch
    import torchaudio.functional as F

    folder = [p for p in realset_files if p.parent == realset_files[0].parent]
    recipe = AudioRecipe(16000, length="crop", max_seconds=10.0)
    shaped = audio.load_many(folder, recipe, workers=2)
    for path, x in zip(folder, shaped, strict=True):
        assert x.shape == (160000,) and x.dtype == np.float32, path
        raw, sr = sf.read(str(path), dtype="float32", always_2d=True)  # (T, C)
        mono = torch.from_numpy(np.ascontiguousarray(raw.mean(axis=1, dtype=np.float32)))
        ref = F.resample(mono[None], sr, 16000, lowpass_filter_width=64,
                         rolloff=0.9475937167399596, resampling_method="sinc_interp_kaiser",
                         beta=14.769656459379492)[0, :160000].numpy()
        n = ref.shape[0]
        np.testing.assert_allclose(x[:n], ref, rtol=0, atol=1e-6, err_msg=str(path))
        assert np.all(x[n:] == 0), path  # clips shorter than 10 s are zero-padded
