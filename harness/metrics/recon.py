"""Reconstruction losses: descript-audio-codec `MelSpectrogramLoss` and `MultiScaleSTFTLoss`.

Re-implemented on torch so evaluation does not need audiotools at run time; parity with
`dac.nn.loss` on the same signals is tested (tests/metrics/test_recon.py). Per scale, with
x = estimate (system output), y = reference, S = STFT magnitude or its mel projection:

    loss += log_weight * L1(log10(clamp(Sx, eps) ** pow), log10(clamp(Sy, eps) ** pow))
          + mag_weight * L1(Sx, Sy)                        # total = sum over scales

STFT: periodic Hann (scipy.signal.get_window), hop = w // 4, torch.stft(center=True,
reflect), magnitude |STFT|; mel: librosa.filters.mel (Slaney scale and norm, fmax None ->
sr / 2). L1 is a mean over channels, bins and frames.

Evaluation rate: both signals are shaped by `harness.audio` to `sample_rate` (default
44.1 kHz = DAC `scripts/evaluate.py` "mel-44k"/"stft-44k"); the rate is part of the recorded
recipe because the mel filterbank and frame count depend on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np

from harness.errors import SabenchError
from harness.metrics.base import EvalItem, Metric, MetricContext, MetricOutput
from harness.records import AudioRecipe, MetricInfo

DEFAULT_EVAL_RATE = 44100
"""Hz. DAC's evaluate.py reports at 44.1 kHz (and 22.05 kHz); the SemanticAudio paper does not say."""


@dataclass(frozen=True)
class SpectralLossConfig:
    """One DAC spectral loss configuration (every field changes the number)."""

    name: str
    window_lengths: tuple[int, ...]
    n_mels: tuple[int, ...] | None = None
    """None: plain multi-scale STFT loss; else mel bands per scale."""
    mel_fmin: tuple[float, ...] | None = None
    mel_fmax: tuple[float | None, ...] | None = None
    clamp_eps: float = 1e-5
    mag_weight: float = 1.0
    log_weight: float = 1.0
    pow: float = 2.0

    def mel_band(self, k: int) -> tuple[int, float, float | None] | None:
        """(n_mels, fmin, fmax) of scale k, or None for a plain STFT loss."""
        if self.n_mels is None:
            return None
        if self.mel_fmin is None or self.mel_fmax is None:
            raise SabenchError(f"spectral loss {self.name}", "mel bands need mel_fmin and mel_fmax",
                               "give both, one value per window length")
        return self.n_mels[k], self.mel_fmin[k], self.mel_fmax[k]


MEL_DAC_DEFAULT = SpectralLossConfig("mel_dac_default", (2048, 512), (150, 80), (0.0, 0.0), (None, None))
"""`MelSpectrogramLoss()` class defaults (what DAC's evaluate.py uses without a config)."""
STFT_DAC_DEFAULT = SpectralLossConfig("stft_dac_default", (2048, 512))
"""`MultiScaleSTFTLoss()` class defaults."""
MEL_DAC_TRAINING = SpectralLossConfig(
    "mel_dac_training", (32, 64, 128, 256, 512, 1024, 2048), (5, 10, 20, 40, 80, 160, 320),
    (0.0,) * 7, (None,) * 7, mag_weight=0.0, pow=1.0)
"""DAC conf/base.yml mel loss (7 scales, pow 1, log term only; the 15.0 training weight is not applied)."""

SPECTRAL_PRESETS = {c.name: c for c in (MEL_DAC_DEFAULT, STFT_DAC_DEFAULT, MEL_DAC_TRAINING)}


@lru_cache(maxsize=32)
def _hann(w: int):
    import torch
    from scipy.signal import get_window

    return torch.from_numpy(get_window("hann", w)).float()  # (w,) periodic Hann


@lru_cache(maxsize=64)
def _mel_basis(sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float | None):
    import librosa
    import torch

    return torch.from_numpy(librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax))


def _magnitude(x, w: int):
    """(B, T) float32 -> (B, w//2 + 1, frames) STFT magnitude, hop w//4, centred, reflect-padded."""
    import torch

    spec = torch.stft(x, n_fft=w, hop_length=w // 4, window=_hann(w), center=True,
                      pad_mode="reflect", return_complex=True)
    return spec.abs()


def spectral_loss(x, y, sample_rate: int, cfg: SpectralLossConfig):
    """DAC spectral loss between estimate `x` and reference `y`.

    Args:
        x, y: torch tensors (B, T) or (T,), float32 waveforms @ `sample_rate`, same length.
    Returns:
        0-d torch tensor.
    """
    import torch

    x, y = torch.atleast_2d(x).float(), torch.atleast_2d(y).float()  # (B, T)
    if x.shape != y.shape:
        raise SabenchError("spectral_loss", f"shapes differ {tuple(x.shape)} vs {tuple(y.shape)}",
                           "crop estimate and reference to the same length")
    total = torch.zeros((), dtype=torch.float32)
    for k, w in enumerate(cfg.window_lengths):
        if x.shape[-1] <= w // 2:
            raise SabenchError("spectral_loss", f"{x.shape[-1]} samples is too short for window {w}",
                               f"use clips longer than {w // 2 + 1} samples")
        sx, sy = _magnitude(x, w), _magnitude(y, w)  # (B, F, N)
        band = cfg.mel_band(k)
        if band is not None:
            fb = _mel_basis(sample_rate, w, *band)  # (M, F)
            sx = (sx.transpose(1, 2) @ fb.T).transpose(1, 2)  # (B, M, N)
            sy = (sy.transpose(1, 2) @ fb.T).transpose(1, 2)
        lx = sx.clamp(cfg.clamp_eps).pow(cfg.pow).log10()
        ly = sy.clamp(cfg.clamp_eps).pow(cfg.pow).log10()
        total = total + cfg.log_weight * (lx - ly).abs().mean()
        total = total + cfg.mag_weight * (sx - sy).abs().mean()
    return total


# --------------------------------------------------------------------------- metric

class SpectralLossMetric(Metric):
    """Item metric: DAC spectral loss of each output against its reference (lower is better)."""

    roles = ("output", "reference")

    def __init__(self, name: str, config: SpectralLossConfig, sample_rate: int = DEFAULT_EVAL_RATE,
                 preset: str = "sabench", mono: str = "mean", resampler: str = "sinc_kaiser_best"):
        self.config = config
        self.sample_rate = int(sample_rate)
        self.recipe = AudioRecipe(sample_rate=self.sample_rate, mono=mono, resampler=resampler)
        self._info = MetricInfo(name=name, higher_is_better=False, backbone=None,
                                recipe=f"{self.recipe.id()}:{config.name}@{self.sample_rate}",
                                kind="item", preset=preset)

    @property
    def info(self) -> MetricInfo:
        return self._info

    def compute(self, ctx: MetricContext, items: Sequence[EvalItem]) -> MetricOutput:
        import torch

        from harness.metrics.common import require_paths

        pairs = require_paths(items, ("output", "reference"), self.name)
        per_item: dict[str, float] = {}
        max_trim = 0
        for item_id, (out_path, ref_path) in pairs:
            x = ctx.load_audio(out_path, self.recipe)  # (T,) float32 @ sample_rate
            y = ctx.load_audio(ref_path, self.recipe)
            n = min(len(x), len(y))
            max_trim = max(max_trim, abs(len(x) - len(y)))
            with torch.no_grad():
                loss = spectral_loss(torch.from_numpy(np.ascontiguousarray(x[:n])),
                                     torch.from_numpy(np.ascontiguousarray(y[:n])), self.sample_rate, self.config)
            per_item[item_id] = float(loss)
        extras = {"config": asdict(self.config), "sample_rate": self.sample_rate,
                  "recipe": asdict(self.recipe), "length_policy": "crop both to the shorter",
                  "max_length_mismatch_samples": max_trim, "n": len(per_item)}
        return MetricOutput(per_item=per_item, extras=extras)


def make_mel_loss(name: str = "mel_loss", config: str = "mel_dac_default",
                  sample_rate: int = DEFAULT_EVAL_RATE, preset: str = "sabench", **kw) -> SpectralLossMetric:
    """Mel loss (DAC MelSpectrogramLoss class defaults unless `config` names another preset)."""
    return SpectralLossMetric(name, _config(config), sample_rate, preset, **kw)


def make_stft_loss(name: str = "stft_loss", config: str = "stft_dac_default",
                   sample_rate: int = DEFAULT_EVAL_RATE, preset: str = "sabench", **kw) -> SpectralLossMetric:
    """Multi-scale STFT loss (DAC MultiScaleSTFTLoss class defaults)."""
    return SpectralLossMetric(name, _config(config), sample_rate, preset, **kw)


def make_mel_loss_dac_training(**kw) -> SpectralLossMetric:
    """Mel loss with DAC's training configuration (7 scales, pow 1, mag_weight 0)."""
    return make_mel_loss(**{"name": "mel_loss_dac_training", "config": "mel_dac_training", **kw})


def _config(name: str) -> SpectralLossConfig:
    if name not in SPECTRAL_PRESETS:
        raise SabenchError(f"spectral loss config {name!r}", "unknown", f"use one of {sorted(SPECTRAL_PRESETS)}")
    return SPECTRAL_PRESETS[name]


__all__ = ["SpectralLossConfig", "MEL_DAC_DEFAULT", "STFT_DAC_DEFAULT", "MEL_DAC_TRAINING",
           "spectral_loss", "SpectralLossMetric", "make_mel_loss", "make_stft_loss",
           "make_mel_loss_dac_training"]
