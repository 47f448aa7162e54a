"""Small numpy DSP helpers for the SynthCaps renderer (numpy only, no global RNG).

Filters are applied in the frequency domain (rfft gain curves), so they are exact, cheap and
deterministic. All signals are float64 while being built and float32 when returned by the
renderer.
"""

from __future__ import annotations

import numpy as np

SR = 16000
"""SynthCaps sample rate in Hz."""


def spectral_filter(x: np.ndarray, gain_fn) -> np.ndarray:
    """Filter `x` (T,) by a real gain curve `gain_fn(freqs_hz) -> (F,)` applied to its rfft."""
    n = x.shape[0]
    if n == 0:
        return x
    spec = np.fft.rfft(x)                                     # (T//2+1,) complex
    f = np.fft.rfftfreq(n, 1.0 / SR)                          # (T//2+1,) Hz
    return np.fft.irfft(spec * gain_fn(f), n)


def bandpass(x: np.ndarray, lo: float, hi: float, order: float = 2.0) -> np.ndarray:
    """Butterworth-shaped magnitude band-pass between `lo` and `hi` Hz (zero phase)."""
    def g(f):
        f = np.maximum(f, 1e-3)
        hp = 1.0 / np.sqrt(1.0 + (lo / f) ** (2 * order)) if lo > 0 else 1.0
        lp = 1.0 / np.sqrt(1.0 + (f / hi) ** (2 * order))
        return hp * lp
    return spectral_filter(x, g)


def lowpass(x: np.ndarray, fc: float, order: float = 2.0) -> np.ndarray:
    return bandpass(x, 0.0, fc, order)


def noise(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.standard_normal(n)


def decay_env(n: int, tau_s: float, attack_s: float = 0.003) -> np.ndarray:
    """Linear attack then exponential decay with time constant `tau_s`."""
    t = np.arange(n) / SR
    att = np.clip(t / max(attack_s, 1e-6), 0.0, 1.0)
    return att * np.exp(-t / tau_s)


def fade(x: np.ndarray, fade_s: float = 0.02) -> np.ndarray:
    """Raised-cosine fade in and out so events never click at their edges."""
    n = x.shape[0]
    k = min(int(fade_s * SR), n // 2)
    if k <= 0:
        return x
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, k))
    y = x.copy()
    y[:k] *= ramp
    y[n - k:] *= ramp[::-1]
    return y


def place(out: np.ndarray, grain: np.ndarray, at: int) -> None:
    """Add `grain` into `out` starting at sample `at` (clipped to the buffer)."""
    if at >= out.shape[0] or at < 0:
        return
    m = min(grain.shape[0], out.shape[0] - at)
    out[at:at + m] += grain[:m]


def harmonic(f0: np.ndarray, amps: list[float]) -> np.ndarray:
    """Sum of harmonics k*f0(t) (f0 an (T,) Hz contour) with amplitudes `amps`."""
    phase = 2 * np.pi * np.cumsum(f0) / SR                    # (T,) radians
    return sum(a * np.sin((k + 1) * phase) for k, a in enumerate(amps))


def normalize_rms(x: np.ndarray, rms: float = 0.1) -> np.ndarray:
    """Scale to a target RMS measured over the active (above -40 dB of peak) part."""
    if not np.any(x):
        return x
    a = np.abs(x)
    active = a > a.max() * 0.01
    r = np.sqrt(np.mean(x[active] ** 2))
    return x * (rms / max(r, 1e-9))


def room_ir(rng: np.random.Generator, room: str) -> np.ndarray:
    """A seeded impulse response: "indoor" = 0.7 s exponentially decaying noise tail with
    early reflections (wet); "outdoor" = a dry impulse plus one faint ground reflection."""
    if room == "outdoor":
        ir = np.zeros(int(0.02 * SR))
        ir[0] = 1.0
        ir[int(0.011 * SR)] = 0.12
        return ir
    n = int(0.7 * SR)
    t = np.arange(n) / SR
    tail = rng.standard_normal(n) * np.exp(-t * 6.9 / 0.6)    # RT60 = 0.6 s
    tail = lowpass(tail, 5000.0)
    ir = 0.45 * tail / np.sqrt(np.sum(tail ** 2))
    ir[0] += 1.0
    for d, g in ((0.013, 0.35), (0.021, 0.3), (0.034, 0.22)):
        ir[int(d * SR)] += g
    return ir


def convolve(x: np.ndarray, ir: np.ndarray) -> np.ndarray:
    """Linear convolution by FFT, truncated to len(x)."""
    n = x.shape[0] + ir.shape[0] - 1
    nfft = 1 << (n - 1).bit_length()
    y = np.fft.irfft(np.fft.rfft(x, nfft) * np.fft.rfft(ir, nfft), nfft)
    return y[: x.shape[0]]
