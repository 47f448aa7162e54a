"""SemanticVocoder's generative vocoder: a Flow2GAN-style waveform flow model (sabench's own code).

Facts (zeyuxie29/SemanticVocoder@1299396, `flow2gan/models/{generator,modules}.py`, read for
facts only; the parameter names below are the checkpoint's names, so they must match):
- `MaeAudioGenerator(latent_dim, hop_length, **BaseAudioGenerator kwargs)`: the semantic
  latents (B, 768, T') go through a `CondEncoder` (k3 conv + BiasNorm + ConvNeXt blocks), then
  each of N branches (`estimators.i`) maps the current waveform through an STFT (Hann,
  centred, n_fft_i / hop_i), a ConvNeXt decoder over [real; imag] bins conditioned on the
  condition (each frame repeated hop_length / hop_i times, then cut / zero-padded to the STFT
  frame count) and on a sinusoidal time embedding (scale 1000), and an inverse STFT back to a
  waveform cut / zero-padded to the input length; the branch outputs are averaged ("mean").
- The network predicts the clean waveform x1 ("pred_x1"); the Euler solver runs over
  t = linspace(0, 1, N + 1) from x_0 = 0.1 * N(0, I) (length T' * hop_length) with
  v = (x1_hat - x) / (1 - t); the result is clamped to [-1, 1].
- BiasNorm (inference form): x * mean_c((x - b)^2)^-1/2 * exp(log_scale); ChannelScale
  multiplies the residual by a learned (C, 1) scale.
- With `spec_scaling_loss` (default True) the generator also holds the training loss's
  linear-filter spectrogram buffers (`loss_spec.spectrogram.window`, `loss_spec.fb`); they are
  part of the checkpoint's key set but unused at inference, so they are kept as plain buffers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import torch
from torch import Tensor, nn

from harness.errors import WeightsError


@dataclass(frozen=True)
class GeneratorConfig:
    """The generator's shape knobs (defaults = the original's signature defaults)."""

    latent_dim: int = 768
    hop_length: int = 960
    sampling_rate: int = 24000
    n_ffts: tuple[int, ...] = (512, 256, 128)
    hop_lengths: tuple[int, ...] = (256, 128, 64)
    channels: tuple[int, ...] = (768, 512, 384)
    time_embed_channels: int = 512
    hidden_factor: int = 3
    conv_kernel_sizes: tuple[int, ...] = (7, 7, 7)
    num_layers: tuple[int, ...] = (8, 8, 8)
    use_cond_encoder: bool = True
    cond_enc_channels: int = 512
    cond_enc_hidden_factor: int = 3
    cond_enc_conv_kernel_size: int = 7
    cond_enc_num_layers: int = 4
    residual_scale: float | None = 1.0
    init_noise_scale: float = 0.1
    pred_x1: bool = True
    branch_reduction: str = "mean"
    spec_scaling_loss: bool = True
    loss_n_filters: int = 256
    loss_n_fft: int = 1024

    @classmethod
    def from_kwargs(cls, kwargs: Mapping[str, Any], item: str) -> GeneratorConfig:
        """From the vocoder's Hydra kwargs; training-only keys are ignored, unknown ones refused."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(k for k in kwargs if k not in known and k not in TRAINING_ONLY)
        if unknown:
            raise WeightsError(item, f"vocoder config has keys sabench does not implement: {unknown}",
                               "use the published config.json of ZeyuXie/SemanticVocoderSnapshot")
        vals = {k: (tuple(v) if isinstance(v, list) else v) for k, v in kwargs.items() if k in known}
        cfg = cls(**vals)
        cfg.validate(item)
        return cfg

    def validate(self, item: str) -> None:
        n = len(self.n_ffts)
        if any(len(x) != n for x in (self.hop_lengths, self.channels, self.conv_kernel_sizes, self.num_layers)):
            raise WeightsError(item, "vocoder branch lists differ in length", "fix the vocoder config")
        bad = [h for h in self.hop_lengths if self.hop_length % h]
        if bad or self.branch_reduction not in ("mean", "sum") or not self.pred_x1:
            raise WeightsError(item, f"unsupported vocoder config (hops {bad} do not divide "
                               f"{self.hop_length}, reduction {self.branch_reduction!r}, pred_x1 "
                               f"{self.pred_x1})", "use the published config.json")


TRAINING_ONLY = frozenset({
    "_target_", "mel_n_fft", "max_add_noise_scale", "branch_dropout", "loss_hop_length",
    "loss_power", "loss_eps", "loss_scale_min", "loss_scale_max"})
"""Vocoder kwargs that change training only (no parameter, no inference effect)."""


class BiasNorm(nn.Module):
    """Scale by the RMS of (x - bias) over channels (dim 1), times exp(log_scale)."""

    def __init__(self, channels: int):
        super().__init__()
        self.log_scale = nn.Parameter(torch.zeros(()))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: Tensor) -> Tensor:  # (B, C, T)
        rms = (x - self.bias[:, None]).pow(2).mean(dim=1, keepdim=True)
        return x * rms.rsqrt() * self.log_scale.exp()


class ChannelScale(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(channels, 1))

    def forward(self, x: Tensor) -> Tensor:  # (B, C, T)
        return x * self.scale


class ConvNeXtBlock(nn.Module):
    """Depthwise conv -> BiasNorm -> (+cond) -> (x (1 + time)) -> pointwise MLP, plus scaled residual."""

    def __init__(self, ch: int, hidden: int, kernel: int, cond_ch: int | None = None,
                 time_ch: int | None = None, residual_scale: bool = True):
        super().__init__()
        self.dwconv = nn.Conv1d(ch, ch, kernel, padding=kernel // 2, groups=ch)
        self.norm = BiasNorm(ch)
        self.pwconv1 = nn.Conv1d(ch, hidden, 1)
        self.act = nn.PReLU(hidden)
        self.pwconv2 = nn.Conv1d(hidden, ch, 1)
        if cond_ch is not None:
            self.cond_proj = nn.Conv1d(cond_ch, ch, 1)
        if time_ch is not None:
            self.time_embed_proj = nn.Linear(time_ch, ch)
        if residual_scale:
            self.residual_scale = ChannelScale(ch)

    def forward(self, x: Tensor, cond: Tensor | None = None, temb: Tensor | None = None) -> Tensor:
        h = self.norm(self.dwconv(x))                                   # (B, C, T)
        if cond is not None:
            h = h + self.cond_proj(cond)
        if temb is not None:
            h = h * (1.0 + self.time_embed_proj(temb)[:, :, None])
        h = self.pwconv2(self.act(self.pwconv1(h)))
        res = self.residual_scale(x) if hasattr(self, "residual_scale") else x
        return h + res


class CondEncoder(nn.Module):
    def __init__(self, cfg: GeneratorConfig):
        super().__init__()
        ch = cfg.cond_enc_channels
        self.in_proj = nn.Conv1d(cfg.latent_dim, ch, 3, padding=1)
        self.in_norm = BiasNorm(ch)
        self.blocks = nn.ModuleList(
            ConvNeXtBlock(ch, int(ch * cfg.cond_enc_hidden_factor), cfg.cond_enc_conv_kernel_size,
                          residual_scale=cfg.residual_scale is not None)
            for _ in range(cfg.cond_enc_num_layers))

    def forward(self, z: Tensor) -> Tensor:  # (B, 768, T') -> (B, C, T')
        x = self.in_norm(self.in_proj(z))
        for block in self.blocks:
            x = block(x)
        return x


def sinusoidal(t: Tensor, dim: int, scale: float = 1000.0) -> Tensor:
    """(B,) -> (B, dim): [sin, cos] of scale * t * 10000^(-k / (dim/2 - 1))."""
    half = dim // 2
    freqs = torch.exp(torch.arange(half, device=t.device, dtype=torch.float32)
                      * -(math.log(10000.0) / (half - 1)))
    arg = scale * t.float()[:, None] * freqs[None]
    return torch.cat([arg.sin(), arg.cos()], dim=-1)


class Window(nn.Module):
    """Holds a Hann window buffer under the checkpoint's `<name>.window` key."""

    def __init__(self, n: int):
        super().__init__()
        self.register_buffer("window", torch.hann_window(n))


class SpectralDecoder(nn.Module):
    """ConvNeXt stack over real-FFT channels, conditioned on (cond, t)."""

    def __init__(self, cfg: GeneratorConfig, i: int):
        super().__init__()
        io, ch, cc, tc = cfg.n_ffts[i] + 2, cfg.channels[i], cond_channels(cfg), cfg.time_embed_channels
        self.in_proj = nn.Conv1d(io, ch, 1)
        self.in_norm = BiasNorm(ch)
        self.time_mlp = nn.Sequential(nn.Linear(tc, tc * cfg.hidden_factor), nn.SiLU(),
                                      nn.Linear(tc * cfg.hidden_factor, tc))
        self.cond_mlp = nn.Sequential(nn.Conv1d(cc, cc * cfg.hidden_factor, 1),
                                      nn.PReLU(cc * cfg.hidden_factor),
                                      nn.Conv1d(cc * cfg.hidden_factor, cc, 1))
        self.blocks = nn.ModuleList(
            ConvNeXtBlock(ch, int(ch * cfg.hidden_factor), cfg.conv_kernel_sizes[i], cc, tc,
                          cfg.residual_scale is not None) for _ in range(cfg.num_layers[i]))
        self.out_proj = nn.Conv1d(ch, io, 1)
        self.time_dim = tc

    def forward(self, x: Tensor, cond: Tensor, t: Tensor) -> Tensor:
        h = self.in_norm(self.in_proj(x))                               # (B, C, F)
        temb = self.time_mlp(sinusoidal(t, self.time_dim))              # (B, tc)
        cond = self.cond_mlp(cond)                                      # (B, cc, F)
        for block in self.blocks:
            h = block(h, cond, temb)
        return self.out_proj(h)                                         # (B, n_fft + 2, F)


def cond_channels(cfg: GeneratorConfig) -> int:
    return cfg.cond_enc_channels if cfg.use_cond_encoder else cfg.latent_dim


def fit_length(x: Tensor, n: int) -> Tensor:
    """Cut or zero-pad the last axis to n."""
    return x[..., :n] if x.shape[-1] >= n else nn.functional.pad(x, (0, n - x.shape[-1]))


class Branch(nn.Module):
    """One STFT resolution: waveform -> STFT -> decoder -> iSTFT -> waveform."""

    def __init__(self, cfg: GeneratorConfig, i: int):
        super().__init__()
        self.n_fft, self.hop = cfg.n_ffts[i], cfg.hop_lengths[i]
        self.repeat = cfg.hop_length // self.hop
        self.fft, self.ifft = Window(self.n_fft), Window(self.n_fft)
        self.decoder = SpectralDecoder(cfg, i)

    def forward(self, x: Tensor, cond: Tensor, t: Tensor) -> Tensor:  # x (B, L) @ 24 kHz
        spec = torch.stft(x, self.n_fft, self.hop, self.n_fft, self.fft.window, center=True,
                          return_complex=True)                          # (B, F, S) complex
        b, f, s = spec.shape
        feats = torch.cat([spec.real, spec.imag], dim=1)                # (B, 2F, S) [re; im]
        c = fit_length(cond.repeat_interleave(self.repeat, dim=-1), s)  # (B, cc, S)
        out = self.decoder(feats, c, t)                                 # (B, 2F, S)
        spec = torch.complex(out[:, :f], out[:, f:])
        y = torch.istft(spec, self.n_fft, self.hop, self.n_fft, self.ifft.window, center=True)
        return fit_length(y, x.shape[-1])                               # (B, L)


class LossSpectrogramBuffers(nn.Module):
    """The training loss's buffers (`spectrogram.window`, `fb`): kept for the key set only."""

    def __init__(self, cfg: GeneratorConfig):
        super().__init__()
        self.spectrogram = Window(cfg.loss_n_fft)
        self.register_buffer("fb", torch.zeros(cfg.loss_n_fft // 2 + 1, cfg.loss_n_filters))


class SemanticVocoderGenerator(nn.Module):
    """Semantic latents (B, 768, T') @ 25 Hz -> waveform (B, T' * 960) @ 24 kHz."""

    def __init__(self, cfg: GeneratorConfig):
        super().__init__()
        self.cfg = cfg
        if cfg.spec_scaling_loss:
            self.loss_spec = LossSpectrogramBuffers(cfg)
        if cfg.use_cond_encoder:
            self.cond_encoder = CondEncoder(cfg)
        self.estimators = nn.ModuleList(Branch(cfg, i) for i in range(len(cfg.n_ffts)))

    def predict(self, x: Tensor, cond: Tensor, t: Tensor) -> Tensor:
        """x1 estimate (B, L) from x_t (B, L), encoded cond (B, cc, T'), t (B,)."""
        outs = torch.stack([br(x, cond, t) for br in self.estimators], dim=1)  # (B, N, L)
        return outs.mean(dim=1) if self.cfg.branch_reduction == "mean" else outs.sum(dim=1)

    @torch.no_grad()
    def sample(self, latents: Tensor, noise: Tensor, steps: int, clamp: bool = True) -> Tensor:
        """Euler over t = linspace(0, 1, steps + 1) from `noise` (B, T' * hop), already scaled."""
        cond = self.cond_encoder(latents) if self.cfg.use_cond_encoder else latents
        grid = torch.linspace(0, 1, steps + 1, device=noise.device)
        x, dt = noise, grid[1] - grid[0]
        for k in range(steps):
            t = grid[k]
            pred = self.predict(x, cond, t.expand(x.shape[0]))
            x = x + (pred - x) / (1 - t) * dt
        return x.clamp(-1.0, 1.0) if clamp else x
