"""Playback copies: loudness at the stated LUFS (peak-limited), bare WAVs, the low anchor, and
the simulator's loopback-only guard."""

from __future__ import annotations

import io
import wave

import numpy as np
import pytest

from harness import audio
from harness.errors import SabenchError
from harness.listen import playback
from harness.listen.simulate import check_loopback
from harness.records import Audio

SR = 16000


def _read(path) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        assert (w.getsampwidth(), w.getframerate()) == (2, SR)
        return np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float64)[None, :] / 32767.0  # (1, T)


def test_clips_are_played_at_the_stated_loudness(tmp_path):
    rng = np.random.default_rng(0)
    x = (0.3 * rng.standard_normal((1, 2 * SR))).astype(np.float32)       # (1, T) @ 16 kHz, about -13 LUFS
    audio.write(tmp_path / "in.wav", Audio(x, SR))
    secs = playback.prepare(tmp_path / "in.wav", tmp_path / "out.wav", lufs=-26.0)
    y = _read(tmp_path / "out.wav")
    assert secs == pytest.approx(2.0) and playback.loudness(y, SR) == pytest.approx(-26.0, abs=0.1)
    assert playback.loudness(x, SR) > -20                                  # it was louder before


def test_the_gain_is_limited_to_keep_the_peak_below_minus_one_dbfs(tmp_path):
    x = np.zeros((1, SR), np.float32)
    x[0, ::4000] = 0.05                                                    # quiet clicks: a huge gain needed
    audio.write(tmp_path / "in.wav", Audio(x, SR))
    playback.prepare(tmp_path / "in.wav", tmp_path / "out.wav", lufs=-10.0)
    y = _read(tmp_path / "out.wav")
    assert np.abs(y).max() == pytest.approx(10 ** (-1 / 20), abs=2e-3)
    assert playback.loudness(y, SR) < -10.0


def test_the_low_anchor_loses_the_highs_and_the_wav_has_no_metadata(tmp_path):
    rng = np.random.default_rng(1)
    x = (0.2 * rng.standard_normal((1, SR))).astype(np.float64)           # white noise (1, T)
    y = playback.anchor(x, SR, seed=3)
    spec_x, spec_y = np.abs(np.fft.rfft(x[0])), np.abs(np.fft.rfft(y[0]))
    f = np.fft.rfftfreq(SR, 1 / SR)
    hi = f > 5000
    assert spec_y[hi].mean() < 0.2 * spec_x[hi].mean()                    # only the -20 dB noise is left up there
    assert np.array_equal(playback.anchor(x, SR, 3), y)                   # seeded
    data = playback.wav_bytes(y.astype(np.float32), SR)
    assert data[:4] == b"RIFF" and data[12:16] == b"fmt " and data[36:40] == b"data" and len(data) == 44 + 2 * SR
    with wave.open(io.BytesIO(data)) as w:
        assert w.getnframes() == SR


@pytest.mark.parametrize("url,ok", [("http://127.0.0.1:9", True), ("http://localhost:80", True),
                                    ("http://[::1]:80", True), ("http://10.0.0.2:80", False),
                                    ("http://example.org", False)])
def test_simulated_raters_only_talk_to_loopback(url, ok):
    if ok:
        check_loopback(url)
    else:
        with pytest.raises(SabenchError, match="loopback"):
            check_loopback(url)
