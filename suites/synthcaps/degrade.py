"""Controlled degradations used to train and test the mini quality predictor (numpy only).

Each degraded clip gets a target quality q = 1 - severity (clean clips q = 1):

| kind      | severity s in [0.1, 1] means                                   |
|-----------|----------------------------------------------------------------|
| noise     | white noise at SNR = 40 - 40 s dB (s = 1 -> 0 dB)              |
| clipping  | hard clip at (1 - 0.95 s) x peak, then rescaled to the old peak |
| bandlimit | low-pass at 8000 (1 - 0.9 s) Hz                                 |
| dropout   | a fraction 0.5 s of 40 ms blocks set to zero                    |
"""

from __future__ import annotations

import numpy as np

from harness.seeding import derive_seed, numpy_rng
from suites.synthcaps.dsp import SR, lowpass

KINDS = ("noise", "clipping", "bandlimit", "dropout")


def degrade(x: np.ndarray, kind: str, severity: float, seed: int) -> np.ndarray:
    """(T,) float32 -> (T,) float32 degraded copy."""
    rng = numpy_rng(seed)
    x = x.astype(np.float64)
    if kind == "noise":
        p = np.mean(x ** 2) + 1e-10
        snr_db = 40.0 - 40.0 * severity
        y = x + rng.standard_normal(x.shape[0]) * np.sqrt(p / 10 ** (snr_db / 10))
    elif kind == "clipping":
        peak = np.abs(x).max() + 1e-10
        t = (1.0 - 0.95 * severity) * peak
        y = np.clip(x, -t, t) * (peak / t)
    elif kind == "bandlimit":
        y = lowpass(x, 8000.0 * (1.0 - 0.9 * severity), 8.0)
    elif kind == "dropout":
        block = int(0.04 * SR)
        n = x.shape[0] // block
        drop = rng.uniform(size=n) < 0.5 * severity
        y = x.copy()
        for i in np.flatnonzero(drop):
            y[i * block:(i + 1) * block] = 0.0
    else:
        raise ValueError(f"unknown degradation {kind!r}; use one of {KINDS}")
    return y.astype(np.float32)


def degrade_batch(audio: np.ndarray, seed: int, clean_fraction: float = 0.2
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(B, T) clean -> ((B, T) degraded, (B,) target quality), from one seed."""
    rng = numpy_rng(seed)
    out, q = np.empty_like(audio, dtype=np.float32), np.ones(audio.shape[0], np.float32)
    for i, x in enumerate(audio):
        if rng.uniform() < clean_fraction:
            out[i] = x
            continue
        kind = KINDS[int(rng.integers(len(KINDS)))]
        s = float(rng.uniform(0.1, 1.0))
        out[i] = degrade(x, kind, s, derive_seed(seed, i))
        q[i] = 1.0 - s
    return out, q
