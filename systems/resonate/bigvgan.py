"""BigVGAN-v2 generator (NVIDIA, arXiv 2206.04658) as Resonate uses it: log-mel -> waveform.

Written from the published facts (resonate/ext/bigvgan_v2/*, the
`bigvgan_v2_44khz_128band_512x` config; names and shapes only):
conv_pre k7 -> per stage: ConvTranspose1d (rate u, kernel k, padding (k - u) / 2), then the
mean of AMP blocks (one per resblock kernel; each: for every dilation, anti-aliased SnakeBeta
-> dilated conv -> anti-aliased SnakeBeta -> conv, residual) -> anti-aliased SnakeBeta ->
conv_post k7 (no bias) -> clamp to [-1, 1] (`use_tanh_at_final` false).
Anti-aliasing: x2 upsampling and x2 downsampling with 12-tap Kaiser-windowed sinc filters
(cutoff 0.25, half-width 0.3, replicate padding) around the activation.
SnakeBeta (log-scale parameters): x + sin^2(x e^alpha) / (e^beta + 1e-9).

Checkpoints store weight-normalised convolutions (`weight_g`/`weight_v`, or
`parametrizations.weight.original0/1`); `fold_weight_norm` turns them into plain weights
w = g v / |v| (norm over all but dim 0) before the strict key check.
"""

from __future__ import annotations

import math
import re

import torch
import torch.nn.functional as F
from torch import nn


def kaiser_sinc(cutoff: float, half_width: float, size: int) -> torch.Tensor:
    """(1, 1, size) low-pass filter, normalised to unit sum."""
    half = size // 2
    a = 2.285 * (half - 1) * math.pi * 4 * half_width + 7.95
    beta = 0.1102 * (a - 8.7) if a > 50 else (0.5842 * (a - 21) ** 0.4 + 0.07886 * (a - 21) if a >= 21 else 0.0)
    window = torch.kaiser_window(size, periodic=False, beta=beta)
    t = torch.arange(-half, half) + 0.5 if size % 2 == 0 else torch.arange(size) - half
    f = 2 * cutoff * window * torch.sinc(2 * cutoff * t)
    return (f / f.sum()).view(1, 1, size)


class UpSample(nn.Module):
    def __init__(self, ratio: int = 2, size: int = 12):
        super().__init__()
        self.ratio, self.pad = ratio, size // ratio - 1
        self.crop_l = self.pad * ratio + (size - ratio) // 2
        self.crop_r = self.pad * ratio + (size - ratio + 1) // 2
        self.register_buffer("filter", kaiser_sinc(0.5 / ratio, 0.6 / ratio, size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = x.shape[1]
        x = F.pad(x, (self.pad, self.pad), mode="replicate")
        x = self.ratio * F.conv_transpose1d(x, self.filter.expand(c, -1, -1), stride=self.ratio, groups=c)
        return x[..., self.crop_l:-self.crop_r]


class LowPass(nn.Module):
    def __init__(self, ratio: int = 2, size: int = 12):
        super().__init__()
        self.stride, self.pad = ratio, (size // 2 - 1, size // 2)
        self.register_buffer("filter", kaiser_sinc(0.5 / ratio, 0.6 / ratio, size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = x.shape[1]
        x = F.pad(x, self.pad, mode="replicate")
        return F.conv1d(x, self.filter.expand(c, -1, -1), stride=self.stride, groups=c)


class DownSample(nn.Module):
    def __init__(self):
        super().__init__()
        self.lowpass = LowPass()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lowpass(x)


class SnakeBeta(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.alpha, self.beta = nn.Parameter(torch.zeros(c)), nn.Parameter(torch.zeros(c))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = self.alpha.exp()[None, :, None], self.beta.exp()[None, :, None]
        return x + torch.sin(x * a).pow(2) / (b + 1e-9)


class AntiAliased(nn.Module):
    """upsample x2 -> SnakeBeta -> downsample x2 (names `upsample`, `act`, `downsample`)."""

    def __init__(self, c: int):
        super().__init__()
        self.upsample, self.act, self.downsample = UpSample(), SnakeBeta(c), DownSample()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.downsample(self.act(self.upsample(x)))


class AMPBlock(nn.Module):
    def __init__(self, c: int, k: int, dilations):
        super().__init__()
        self.convs1 = nn.ModuleList([nn.Conv1d(c, c, k, dilation=d, padding=d * (k - 1) // 2) for d in dilations])
        self.convs2 = nn.ModuleList([nn.Conv1d(c, c, k, padding=(k - 1) // 2) for _ in dilations])
        self.activations = nn.ModuleList([AntiAliased(c) for _ in range(2 * len(dilations))])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, (c1, c2) in enumerate(zip(self.convs1, self.convs2, strict=True)):
            x = x + c2(self.activations[2 * i + 1](c1(self.activations[2 * i](x))))
        return x


class BigVGAN(nn.Module):
    """(B, num_mels, F) log-mel -> (B, 1, F * prod(upsample_rates)) in [-1, 1]."""

    def __init__(self, h: dict):
        super().__init__()
        if h.get("resblock", "1") != "1" or h.get("activation") != "snakebeta" or not h.get("snake_logscale"):
            raise ValueError("only the v2 layout (resblock 1, snakebeta, log-scale) is implemented")
        c0, ks = h["upsample_initial_channel"], h["resblock_kernel_sizes"]
        self.n_kernels = len(ks)
        self.conv_pre = nn.Conv1d(h["num_mels"], c0, 7, padding=3)
        self.ups = nn.ModuleList([nn.ModuleList([nn.ConvTranspose1d(c0 // 2 ** i, c0 // 2 ** (i + 1), k, u,
                                                                    padding=(k - u) // 2)])
                                  for i, (u, k) in enumerate(zip(h["upsample_rates"], h["upsample_kernel_sizes"],
                                                                 strict=True))])
        chans = [c0 // 2 ** (i + 1) for i in range(len(self.ups))]
        self.resblocks = nn.ModuleList([AMPBlock(c, k, d) for c in chans
                                        for k, d in zip(ks, h["resblock_dilation_sizes"], strict=True)])
        self.activation_post = AntiAliased(chans[-1])
        self.conv_post = nn.Conv1d(chans[-1], 1, 7, padding=3, bias=h.get("use_bias_at_final", True))
        self.tanh = h.get("use_tanh_at_final", True)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = self.conv_pre(mel)
        for i, up in enumerate(self.ups):
            x = up[0](x)
            blocks = self.resblocks[i * self.n_kernels:(i + 1) * self.n_kernels]
            x = sum(b(x) for b in blocks) / self.n_kernels
        x = self.conv_post(self.activation_post(x))
        return torch.tanh(x) if self.tanh else x.clamp(-1.0, 1.0)


_G = re.compile(r"^(.*)\.(weight_g|parametrizations\.weight\.original0)$")


def fold_weight_norm(state: dict) -> dict:
    """Replace (g, v) pairs of weight-normalised convs by w = g v / |v|; other keys unchanged."""
    out = {}
    for k, v in state.items():
        m = _G.match(k)
        if m is None:
            if not (k.endswith(".weight_v") or k.endswith(".parametrizations.weight.original1")):
                out[k] = v
            continue
        base = m.group(1)
        vv = state.get(f"{base}.weight_v", state.get(f"{base}.parametrizations.weight.original1"))
        if vv is None:
            out[k] = v                                       # unpaired: left for the key check
            continue
        norm = torch.linalg.vector_norm(vv.float(), dim=list(range(1, vv.ndim)), keepdim=True)
        out[f"{base}.weight"] = (v.float() * vv.float() / norm).to(vv.dtype)
    return out


def fold_shapes(shapes: dict) -> dict:
    """name -> shape after `fold_weight_norm` (for comparing published key lists)."""
    out = {}
    for k, shape in shapes.items():
        if _G.match(k):
            continue                                        # g: replaced by the folded weight
        for tail in (".weight_v", ".parametrizations.weight.original1"):
            if k.endswith(tail):
                k = k[: -len(tail)] + ".weight"
        out[k] = list(shape)
    return out
