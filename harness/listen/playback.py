"""Playback copies of the clips a listening test serves (never used for scoring).

- `prepare(src, dest, lufs)`: read any clip (`harness.audio.read`), normalise its integrated
  loudness (ITU-R BS.1770 via pyloudnorm) to `lufs`, limit the gain so the peak stays at or
  below -1 dBFS, and write a bare 16-bit PCM WAV (RIFF/fmt/data chunks only: no tags, names or
  timestamps, so a served file says nothing about where it came from).
- `anchor(x, sr, seed)`: the low anchor, a degraded copy: 3.5 kHz low-pass (the MUSHRA
  anchor) plus white noise 20 dB below the signal.
- `check_tone(sr, seconds, seed)`: the loudness-check clip (pink noise).
"""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np

from harness.paths import atomic_write_bytes
from harness.seeding import numpy_rng

PEAK_DBFS = -1.0
MIN_LOUDNESS_SECONDS = 0.4
"""BS.1770 gates 400 ms blocks: shorter clips are measured on a tiled copy."""


def loudness(x: np.ndarray, sr: int) -> float:
    """Integrated loudness in LUFS of (C, T) float audio; -inf for silence."""
    from harness.extras import require

    pyloudnorm = require("pyloudnorm", extra="listen", item="sabench listen (playback loudness)")

    y = x.T.astype(np.float64)                                   # (T, C)
    need = int(np.ceil(MIN_LOUDNESS_SECONDS * sr)) + 1
    if y.shape[0] < need:
        y = np.tile(y, (int(np.ceil(need / max(1, y.shape[0]))), 1))[:need]
    return float(pyloudnorm.Meter(sr).integrated_loudness(y))


def normalise(x: np.ndarray, sr: int, lufs: float) -> tuple[np.ndarray, float]:
    """(C, T) float audio at `lufs` (peak-limited by lowering the gain); returns (audio, gain dB)."""
    now = loudness(x, sr)
    if not np.isfinite(now):
        return x.astype(np.float32), 0.0
    gain_db = lufs - now
    peak = float(np.max(np.abs(x)))
    if peak > 0:
        gain_db = min(gain_db, PEAK_DBFS - 20 * np.log10(peak))
    return (x * 10 ** (gain_db / 20)).astype(np.float32), float(gain_db)


def wav_bytes(x: np.ndarray, sr: int) -> bytes:
    """A bare PCM-16 WAV of (C, T) float audio in [-1, 1]."""
    pcm = np.clip(np.round(x.T * 32767.0), -32768, 32767).astype("<i2")  # (T, C) int16
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(int(x.shape[0]))
        w.setsampwidth(2)
        w.setframerate(int(sr))
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


def prepare(src: str | Path, dest: Path, lufs: float, degrade_seed: int | None = None) -> float:
    """Write the playback copy of `src` to `dest` (degraded first when `degrade_seed` is given);
    returns its duration in seconds."""
    from harness import audio

    a = audio.read(src)
    x = a.samples                                               # (C, T) float32
    if x.shape[0] > 2:
        x = x[:2]
    if degrade_seed is not None:
        x = anchor(x, a.sample_rate, degrade_seed)
    y, _ = normalise(x, a.sample_rate, lufs)
    atomic_write_bytes(dest, wav_bytes(y, a.sample_rate))
    return x.shape[1] / float(a.sample_rate)


def anchor(x: np.ndarray, sr: int, seed: int) -> np.ndarray:
    """(C, T) low anchor: 3.5 kHz low-pass (8th-order Butterworth) + white noise at -20 dB SNR."""
    from scipy.signal import butter, sosfilt

    cut = min(3500.0, 0.45 * sr)
    sos = butter(8, cut, btype="low", fs=sr, output="sos")
    y = sosfilt(sos, x.astype(np.float64), axis=1)               # (C, T)
    rms = float(np.sqrt(np.mean(y * y))) or 1e-3
    noise = numpy_rng(seed).standard_normal(y.shape) * rms * 0.1  # -20 dB
    return (y + noise).astype(np.float32)


def check_tone(dest: Path, lufs: float, seed: int, sr: int = 44100, seconds: float = 3.0) -> float:
    """The loudness-check clip: pink noise (1/f spectrum) at the study's level."""
    n = int(sr * seconds)
    spec = np.fft.rfft(numpy_rng(seed).standard_normal(n))      # (n/2+1,) complex
    f = np.arange(spec.shape[0], dtype=np.float64)
    f[0] = 1.0
    pink = np.fft.irfft(spec / np.sqrt(f), n)[None, :]           # (1, n) @ sr
    fade = np.minimum(1.0, np.minimum(np.arange(n), np.arange(n)[::-1]) / (0.05 * sr))
    pink = pink * fade / np.max(np.abs(pink))
    y, _ = normalise(pink, sr, lufs)
    atomic_write_bytes(dest, wav_bytes(y, sr))
    return seconds


__all__ = ["anchor", "check_tone", "loudness", "normalise", "prepare", "wav_bytes"]
