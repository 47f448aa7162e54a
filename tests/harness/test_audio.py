"""harness.audio: reading every supported format, refusing bad input, resampling, shaping.

Expected values are computed independently of harness.audio: files are written with
soundfile directly from known integers, and decoded values are compared with the integer
divided by the format's full scale (2**15, 2**23, 2**31) -- exact, because the division by a
power of two is exact in float32 for 16/24-bit values (int32 values are first rounded to
float32, which is what any float32 decoder must do).
"""

from __future__ import annotations

import io
import math
import os

import numpy as np
import pytest
import soundfile as sf

from harness import audio
from harness.errors import AudioError, SabenchError
from harness.records import Audio, AudioRecipe

RNG = np.random.default_rng(1234)

# --------------------------------------------------------------------------- formats

INT_CASES = [  # (container, subtype, full-scale bits)
    ("WAV", "PCM_16", 16), ("WAV", "PCM_24", 24), ("WAV", "PCM_32", 32),
    ("FLAC", "PCM_16", 16), ("FLAC", "PCM_24", 24),
]


@pytest.mark.parametrize("container,subtype,bits", INT_CASES)
@pytest.mark.parametrize("channels,rate", [(1, 16000), (2, 44100), (6, 48000)])
def test_integer_formats_decode_exactly(tmp_path, container, subtype, bits, channels, rate):
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    v = RNG.integers(lo, hi + 1, size=(257, channels), dtype=np.int64)
    v[0, 0], v[1, 0] = lo, hi  # both extremes
    ext = ".wav" if container == "WAV" else ".flac"
    path = tmp_path / f"x{ext}"
    # soundfile's int32 path writes the top `bits` bits: shift the value into place.
    sf.write(path, (v << (32 - bits)).astype(np.int32), rate, subtype=subtype, format=container)
    assert sf.info(str(path)).subtype == subtype
    a = audio.read(path)
    assert a.samples.dtype == np.float32 and a.samples.shape == (channels, 257)
    assert a.sample_rate == rate and a.channels == channels and a.frames == 257
    expected = (v.astype(np.float32) / np.float32(2.0 ** (bits - 1))).T  # (C, T)
    np.testing.assert_array_equal(a.samples, expected)


@pytest.mark.parametrize("subtype,dtype", [("FLOAT", np.float32), ("DOUBLE", np.float64)])
@pytest.mark.parametrize("channels,rate", [(1, 22050), (2, 24000), (6, 96000)])
def test_float_formats_decode_exactly(tmp_path, subtype, dtype, channels, rate):
    x = (RNG.standard_normal((300, channels)) * 0.3).astype(dtype)
    x[0, 0] = 1.5  # float files may exceed full scale: kept, not clipped
    sf.write(tmp_path / "f.wav", x, rate, subtype=subtype)
    a = audio.read(tmp_path / "f.wav")
    np.testing.assert_array_equal(a.samples, x.astype(np.float32).T)
    assert a.sample_rate == rate


def test_write_float_wav_is_exact_and_flac_quantises(tmp_path):
    x = np.clip(RNG.standard_normal((2, 1000)) * 0.25, -0.95, 0.95).astype(np.float32)
    src = Audio(x, 32000)
    audio.write(tmp_path / "a.wav", src)
    y, sr = sf.read(tmp_path / "a.wav", dtype="float32", always_2d=True)
    assert sr == 32000 and sf.info(str(tmp_path / "a.wav")).subtype == "FLOAT"
    np.testing.assert_array_equal(y.T, x)
    audio.write(tmp_path / "a.flac", src, subtype="PCM_24")
    y2 = audio.read(tmp_path / "a.flac").samples
    # 24-bit quantisation: error at most one step (2**-23), by construction of PCM_24.
    assert np.max(np.abs(y2 - x)) <= 2.0 ** -23 + 1e-9


def test_write_is_atomic_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "keep.wav"
    audio.write(target, Audio(np.zeros((1, 10), np.float32), 8000))
    before = target.read_bytes()

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        audio.write(target, Audio(np.ones((1, 50), np.float32) * 0.5, 8000))
    assert target.read_bytes() == before  # old file intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.wav"]  # no temp left


def test_write_refuses_nan_bad_suffix_and_bad_subtype(tmp_path):
    bad = Audio(np.array([[0.0, np.nan]], np.float32), 8000)
    with pytest.raises(AudioError, match="NaN"):
        audio.write(tmp_path / "n.wav", bad)
    ok = Audio(np.zeros((1, 4), np.float32), 8000)
    with pytest.raises(AudioError, match="suffix"):
        audio.write(tmp_path / "n.mp3", ok)
    with pytest.raises(AudioError, match="FLAC/FLOAT"):
        audio.write(tmp_path / "n.flac", ok, subtype="FLOAT")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- bad input

def _one_line(err: pytest.ExceptionInfo, name: str) -> None:
    msg = str(err.value)
    assert "\n" not in msg and name in msg and "fix:" in msg


def _wav_bytes(n=1000, subtype="PCM_16") -> bytes:
    import io

    buf = io.BytesIO()
    sf.write(buf, np.linspace(-0.5, 0.5, n, dtype=np.float32), 16000, subtype=subtype,
             format="WAV")
    return buf.getvalue()


BAD_FILES = {
    "missing": (None, "not found"),
    "empty": (b"", "empty"),
    "not_audio": (b"hello, this is a text file\n" * 20, "not a readable"),
    "truncated_header": (lambda: _wav_bytes()[:30], "not a readable"),
    "truncated_data": (lambda: _wav_bytes()[:-301], "truncated"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_files_raise_one_line_error(tmp_path, case):
    content, needle = BAD_FILES[case]
    path = tmp_path / f"{case}.wav"
    if content is not None:
        path.write_bytes(content() if callable(content) else content)
    with pytest.raises(AudioError, match=needle) as err:
        audio.read(path)
    _one_line(err, path.name)


def test_folder_is_not_audio(tmp_path):
    with pytest.raises(AudioError, match="folder"):
        audio.read(tmp_path)


def test_truncated_flac(tmp_path):
    x = (RNG.standard_normal(48000) * 0.1).astype(np.float32)
    sf.write(tmp_path / "f.flac", x, 48000, subtype="PCM_16")
    data = (tmp_path / "f.flac").read_bytes()
    (tmp_path / "t.flac").write_bytes(data[: len(data) // 2])
    with pytest.raises(AudioError) as err:
        audio.read(tmp_path / "t.flac")
    _one_line(err, "t.flac")


def test_zero_length_audio(tmp_path):
    sf.write(tmp_path / "z.wav", np.zeros((0, 1), np.float32), 16000)
    with pytest.raises(AudioError, match="zero-length") as err:
        audio.read(tmp_path / "z.wav")
    _one_line(err, "z.wav")


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_samples(tmp_path, value):
    x = np.zeros((100, 2), np.float32)
    x[37, 1] = value
    sf.write(tmp_path / "n.wav", x, 16000, subtype="FLOAT")
    with pytest.raises(AudioError, match="1 NaN/Inf samples \\(first at frame 37\\)") as err:
        audio.read(tmp_path / "n.wav")
    _one_line(err, "n.wav")


@pytest.mark.parametrize("subtype", ["ULAW", "ALAW", "IMA_ADPCM", "MS_ADPCM", "PCM_U8"])
def test_companded_or_8bit_refused_unless_not_strict(tmp_path, subtype):
    x = np.linspace(-0.5, 0.5, 2000, dtype=np.float32)
    sf.write(tmp_path / "c.wav", x, 8000, subtype=subtype)
    with pytest.raises(AudioError, match=subtype) as err:
        audio.read(tmp_path / "c.wav")
    _one_line(err, "c.wav")
    a = audio.read(tmp_path / "c.wav", strict=False)  # decodable on request
    assert a.sample_rate == 8000 and a.channels == 1
    # companding errors are small relative to full scale (u-law/A-law/ADPCM ~ 1e-2 worst case)
    n = min(a.frames, x.shape[0])
    assert np.max(np.abs(a.samples[0, :n] - x[:n])) < 0.1


def test_other_container_and_implausible_rate(tmp_path):
    sf.write(tmp_path / "a.aiff", np.full(100, 0.25, np.float32), 16000, subtype="PCM_16")
    with pytest.raises(AudioError, match="container AIFF"):
        audio.read(tmp_path / "a.aiff")
    assert audio.read(tmp_path / "a.aiff", strict=False).samples[0, 5] == 0.25
    sf.write(tmp_path / "slow.wav", np.zeros(100, np.float32), 200, subtype="PCM_16")
    with pytest.raises(AudioError, match="implausible sample rate 200 Hz"):
        audio.read(tmp_path / "slow.wav")


def test_six_channels_read_then_policy(tmp_path):
    x = (RNG.standard_normal((500, 6)) * 0.1).astype(np.float32)
    sf.write(tmp_path / "six.wav", x, 48000, subtype="FLOAT")
    a = audio.read(tmp_path / "six.wav")
    assert a.channels == 6
    with pytest.raises(AudioError, match="6 channels, at most 2") as err:
        audio.read(tmp_path / "six.wav", max_channels=2)
    _one_line(err, "six.wav")
    assert audio.check_channels(a, "six", max_channels=6) is a
    # shape() down-mixes any count: mean over the 6 channels.
    y = audio.shape(a, AudioRecipe(sample_rate=48000))
    np.testing.assert_allclose(y, x.mean(axis=1), rtol=0, atol=1e-7)


# --------------------------------------------------------------------------- resampling

def _sine(f, sr, seconds=1.0, amp=0.5):
    t = np.arange(int(sr * seconds)) / sr
    return (amp * np.sin(2 * np.pi * f * t)).astype(np.float32)[None]  # (1, T) @ sr


def _amplitude(y, f, sr):
    """Least-squares amplitude of a sine at f over the middle half (edges excluded)."""
    n = y.shape[-1]
    seg = slice(n // 4, 3 * n // 4)
    t = np.arange(n)[seg] / sr
    basis = np.stack([np.sin(2 * np.pi * f * t), np.cos(2 * np.pi * f * t)], axis=1)
    coef, *_ = np.linalg.lstsq(basis, y[seg].astype(np.float64), rcond=None)
    return float(np.hypot(*coef))


# Tolerances: measured responses (see the report) with margin. kaiser_best measured
# <= 0.022 dB ripple to 0.9 Nyquist and <= -146 dB for tones >= 1.1x the new Nyquist
# (float32 noise floor); hann (torchaudio defaults) droops 0.53 dB at 0.8 and 2.4 dB at 0.9,
# and rejects 14 dB at 1.1x / 45 dB at 1.3x; scipy polyphase (Kaiser 5.0 window, side lobes
# near -55..-60 dB) -0.66 dB at 0.9, -59.8 dB at 1.35x (48k->32k).
RESPONSE = {  # name: (passband fraction, max |dB| in passband, stopband fraction, min rejection)
    "sinc_kaiser_best": (0.9, 0.05, 1.1, 100.0),
    "sinc_hann_default": (0.5, 0.05, 1.3, 40.0),
    "polyphase": (0.8, 0.05, 1.3, 50.0),
}


@pytest.mark.parametrize("name", sorted(RESPONSE))
@pytest.mark.parametrize("sr_in,sr_out", [(44100, 16000), (48000, 32000)])
def test_downsampling_frequency_response(name, sr_in, sr_out):
    pass_frac, pass_db, stop_frac, stop_db = RESPONSE[name]
    nyq = sr_out / 2
    for frac in (0.1, 0.3, pass_frac):
        y = audio.resample(_sine(frac * nyq, sr_in), sr_in, sr_out, name)[0]
        gain_db = 20 * math.log10(_amplitude(y, frac * nyq, sr_out) / 0.5)
        assert abs(gain_db) <= pass_db, (name, frac, gain_db)
    for frac in (stop_frac, 1.35):
        y = audio.resample(_sine(frac * nyq, sr_in), sr_in, sr_out, name)[0]
        mid = y[y.shape[0] // 4: 3 * y.shape[0] // 4].astype(np.float64)
        level_db = 20 * math.log10(max(np.sqrt(2 * np.mean(mid ** 2)), 1e-12) / 0.5)
        assert level_db <= -stop_db, (name, frac, level_db)


@pytest.mark.parametrize("name", sorted(RESPONSE))
def test_upsampling_keeps_passband_and_rejects_images(name):
    sr_in, sr_out = 16000, 44100
    pass_frac, pass_db, _, _ = RESPONSE[name]
    f = pass_frac * sr_in / 2
    y = audio.resample(_sine(f, sr_in), sr_in, sr_out, name)[0]
    assert abs(20 * math.log10(_amplitude(y, f, sr_out) / 0.5)) <= pass_db
    f = 0.5 * sr_in / 2  # image of 4 kHz lands at 12 kHz, above the old Nyquist
    y = audio.resample(_sine(f, sr_in), sr_in, sr_out, name)[0]
    seg = y[len(y) // 4: 3 * len(y) // 4].astype(np.float64)
    spec = np.abs(np.fft.rfft(seg * np.hanning(len(seg)))) ** 2
    freqs = np.fft.rfftfreq(len(seg), 1 / sr_out)
    image_db = 10 * math.log10(spec[freqs > 1.05 * sr_in / 2].max() / spec.max())
    assert image_db <= -50.0, (name, image_db)  # measured: kaiser -114, hann -55, poly -65


@pytest.mark.parametrize("name", sorted(RESPONSE))
@pytest.mark.parametrize("frames", [1, 1001, 44100])
def test_resample_length_rule_and_identity(name, frames):
    x = RNG.standard_normal((2, frames)).astype(np.float32)
    for sr_in, sr_out in [(44100, 16000), (16000, 48000), (22050, 32000)]:
        y = audio.resample(x, sr_in, sr_out, name)
        assert y.shape == (2, math.ceil(frames * sr_out / sr_in)) and y.dtype == np.float32
    same = audio.resample(x, 16000, 16000, name)
    np.testing.assert_array_equal(same, x)
    assert same is not x


def test_kaiser_best_matches_torchaudio_functional():
    import torch
    import torchaudio.functional as F

    x = RNG.standard_normal((2, 4410)).astype(np.float32)
    ref = F.resample(torch.from_numpy(x), 44100, 16000, lowpass_filter_width=64,
                     rolloff=0.9475937167399596, resampling_method="sinc_interp_kaiser",
                     beta=14.769656459379492).numpy()
    # the cached module builds the same float32 kernel as the functional call: bit-identical
    np.testing.assert_array_equal(audio.resample(x, 44100, 16000), ref)
    ref = F.resample(torch.from_numpy(x), 44100, 16000).numpy()  # torchaudio defaults
    np.testing.assert_array_equal(audio.resample(x, 44100, 16000, "sinc_hann_default"), ref)


def test_unknown_resampler():
    with pytest.raises(SabenchError, match="unknown resampler"):
        audio.resample(np.zeros((1, 10), np.float32), 8000, 16000, "nearest")


# --------------------------------------------------------------------------- shaping

def test_downmix_policies():
    x = np.stack([np.full(100, 0.2), np.full(100, -0.6)]).astype(np.float32)  # (2, T)
    a = Audio(x, 16000)
    np.testing.assert_allclose(audio.shape(a, AudioRecipe(16000, mono="mean")), -0.2, atol=1e-7)
    np.testing.assert_allclose(audio.shape(a, AudioRecipe(16000, mono="first")), 0.2, atol=1e-7)


def test_length_policies_exact_sample_counts():
    a = Audio(np.full((1, 16000 * 3), 0.1, np.float32), 16000)  # 3 s
    sr = 8000
    full = audio.shape(a, AudioRecipe(sr))
    assert full.shape == (math.ceil(48000 * sr / 16000),)
    pad = audio.shape(a, AudioRecipe(sr, length="pad_min", min_seconds=5.0))
    assert pad.shape == (40000,) and np.all(pad[24000:] == 0)
    longer = audio.shape(a, AudioRecipe(sr, length="pad_min", min_seconds=2.0))
    assert longer.shape == (24000,)  # pad_min never crops
    crop = audio.shape(a, AudioRecipe(sr, length="crop", max_seconds=1.25))
    assert crop.shape == (10000,)
    np.testing.assert_array_equal(crop, full[:10000])  # deterministic: from the start
    crop_pad = audio.shape(a, AudioRecipe(sr, length="crop", max_seconds=4.0))
    assert crop_pad.shape == (32000,) and np.all(crop_pad[24000:] == 0)
    trunc = audio.shape(a, AudioRecipe(sr, length="truncate", max_seconds=4.0))
    assert trunc.shape == (24000,)


def test_documented_order_dc_then_pad_then_peak_then_int16():
    # DC removal happens before the length policy (the mean of the whole clip is removed,
    # and a padded tail stays exactly 0); peak normalisation after cropping (the loud part
    # beyond the crop does not set the gain).
    x = np.concatenate([np.full(8000, 0.3), 0.05 * np.sin(np.arange(8000)), np.full(8000, 0.9)])
    a = Audio(x.astype(np.float32)[None], 8000)
    r = AudioRecipe(8000, dc_remove=True, length="crop", max_seconds=2.0)
    y = audio.shape(a, r)
    np.testing.assert_allclose(y, (x - x.mean())[:16000], atol=1e-6)
    r = AudioRecipe(8000, length="crop", max_seconds=2.0, peak_normalize_db=-1.0)
    y = audio.shape(a, r)
    assert abs(np.max(np.abs(y)) - 10 ** (-1 / 20)) < 1e-6
    r = AudioRecipe(8000, length="pad_min", min_seconds=4.0, dc_remove=True)
    assert np.all(audio.shape(a, r)[24000:] == 0)


def test_peak_normalisation_leaves_silence_alone():
    y = audio.shape(Audio(np.zeros((1, 100), np.float32), 8000),
                    AudioRecipe(8000, peak_normalize_db=-3.0))
    assert np.all(y == 0)


def test_int16_roundtrip_equals_a_real_pcm16_file(tmp_path):
    x = (RNG.uniform(-1.2, 1.2, 5000)).astype(np.float32)
    y = audio.shape(Audio(x[None], 16000), AudioRecipe(16000, int16_roundtrip=True))
    sf.write(tmp_path / "q.wav", x, 16000, subtype="PCM_16")  # the file path it emulates
    ref, _ = sf.read(tmp_path / "q.wav", dtype="float32")
    np.testing.assert_array_equal(y, ref)
    assert np.all(y * 32768 == np.round(y * 32768))  # on the int16 grid
    inside = np.abs(x) < 0.99
    assert np.max(np.abs(y[inside] - x[inside])) <= 1.0 / 32768 + 1e-7  # one step at most


def test_recipe_id_changes_with_every_policy():
    base = AudioRecipe(16000)
    variants = [AudioRecipe(16000, mono="first"), AudioRecipe(16000, resampler="polyphase"),
                AudioRecipe(16000, length="crop", max_seconds=10), AudioRecipe(32000),
                AudioRecipe(16000, dc_remove=True), AudioRecipe(16000, peak_normalize_db=-1),
                AudioRecipe(16000, int16_roundtrip=True)]
    ids = {base.id()} | {v.id() for v in variants}
    assert len(ids) == len(variants) + 1


@pytest.mark.parametrize("recipe,needle", [
    (AudioRecipe(16000, mono="left"), "mono policy"),
    (AudioRecipe(16000, length="fit"), "length policy"),
    (AudioRecipe(16000, resampler="linear"), "resampler"),
    (AudioRecipe(16000, length="crop"), "max_seconds"),
    (AudioRecipe(16000, length="pad_min"), "min_seconds"),
    (AudioRecipe(0), "sample_rate"),
])
def test_bad_recipes(recipe, needle):
    with pytest.raises(SabenchError, match=needle):
        audio.shape(Audio(np.zeros((1, 10), np.float32), 16000), recipe)


def test_load_many_equals_per_file_load_and_keeps_order(tmp_path):
    paths = []
    for i, (sr, ch) in enumerate([(44100, 2), (16000, 1), (48000, 1), (44100, 1), (24000, 2)]):
        p = tmp_path / f"c{i}.wav"
        sf.write(p, (RNG.standard_normal((sr // 10, ch)) * 0.1).astype(np.float32), sr,
                 subtype="PCM_16")
        paths.append(p)
    recipe = AudioRecipe(16000, length="crop", max_seconds=0.1)
    many = audio.load_many(paths, recipe, workers=3)
    for p, y in zip(paths, many, strict=True):
        np.testing.assert_array_equal(y, audio.load(p, recipe))
        assert y.shape == (1600,)
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"")
    got = audio.load_many([paths[0], bad, paths[1]], recipe, workers=2, errors="collect")
    assert isinstance(got[1], AudioError) and "bad.wav" in str(got[1])
    np.testing.assert_array_equal(got[2], many[1])
    with pytest.raises(AudioError, match="bad.wav"):
        audio.load_many([paths[0], bad], recipe, workers=2)


def test_float_wav_encoding_is_deterministic_across_seconds():
    """libsndfile stamps float WAVs (PEAK chunk) with the time; encode() zeroes it."""
    import time as _time

    from harness.audio import encode
    from harness.records import Audio as _Audio

    clip = _Audio(np.linspace(-0.5, 0.5, 400, dtype=np.float32)[None, :], 16000)
    first = encode(clip)
    _time.sleep(1.05)
    second = encode(clip)
    assert first == second
    peak = first.find(b"PEAK")
    assert peak > 0 and first[peak + 12:peak + 16] == b"\x00" * 4
    assert sf.read(io.BytesIO(first), dtype="float32")[0].tolist() == clip.samples[0].tolist()
