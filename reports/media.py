"""Small embeddable media for HTML reports: a short 16 kHz WAV and a spectrogram PNG, as
base64 data URIs (no files beside the report, no network).

Audio is shaped by `harness.audio` (the only place audio is read or resampled) with
`PREVIEW_RECIPE`: mono mean, 16 kHz, first `max_seconds` only, peak-normalised to -1 dBFS,
then encoded as 16-bit PCM: about 43 kB base64 per second.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np

from harness.records import Audio, AudioRecipe

PREVIEW_RATE = 16000


def preview_recipe(max_seconds: float = 5.0) -> AudioRecipe:
    return AudioRecipe(sample_rate=PREVIEW_RATE, mono="mean", length="truncate", max_seconds=max_seconds,
                       peak_normalize_db=-1.0)


def preview(source: str | Path | Audio, max_seconds: float = 5.0) -> np.ndarray:
    """(T,) float32 mono @ 16 kHz, at most `max_seconds` long."""
    from harness import audio as A

    recipe = preview_recipe(max_seconds)
    return A.shape(source, recipe) if isinstance(source, Audio) else A.load(source, recipe)


def wav_data_uri(x: np.ndarray, sample_rate: int = PREVIEW_RATE) -> str:
    """16-bit PCM WAV of (T,) float32 samples as a `data:audio/wav;base64,` URI."""
    from harness import audio as A

    data = A.encode(Audio(np.asarray(x, dtype=np.float32)[None, :], sample_rate), "WAV", "PCM_16")  # (1, T)
    return "data:audio/wav;base64," + base64.b64encode(data).decode("ascii")


def spectrogram_db(x: np.ndarray, n_fft: int = 512, hop: int = 160) -> np.ndarray:
    """(F, frames) log-magnitude (dB, floor -100) of (T,) samples; Hann window."""
    x = np.asarray(x, dtype=np.float64)
    if x.shape[0] < n_fft:
        x = np.pad(x, (0, n_fft - x.shape[0]))
    frames = 1 + (x.shape[0] - n_fft) // hop
    idx = np.arange(n_fft)[None, :] + hop * np.arange(frames)[:, None]  # (frames, n_fft)
    spec = np.abs(np.fft.rfft(x[idx] * np.hanning(n_fft)[None, :], axis=1))  # (frames, F)
    return (20.0 * np.log10(np.maximum(spec, 1e-5))).T  # (F, frames) in dB


def spectrogram_png(x: np.ndarray, sample_rate: int = PREVIEW_RATE) -> bytes:
    """A small (about 240 x 100 px) spectrogram PNG, rendered with matplotlib's Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    s = spectrogram_db(x)
    fig = Figure(figsize=(3.2, 1.3), dpi=75)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.imshow(s, origin="lower", aspect="auto", cmap="magma", vmin=s.max() - 80, vmax=s.max(),
              extent=(0, x.shape[0] / sample_rate, 0, sample_rate / 2000))
    ax.set_axis_off()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def png_data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
