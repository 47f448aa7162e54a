"""Resonate's 44.1 kHz mel-VAE (MMAudio `VAE_44k`, file `v1-44.pth`) and its log-mel front end.

Written from the published facts (resonate/ext/autoencoder/*, mel_converter.py; names and
shapes only). 1-D conv U-Net with EDM2 magnitude-preserving layers:
- `MPConv1D`: bias-free conv whose stored weight is normalised once at load time
  (w <- w / (1e-4 + |w_o| / sqrt(fan_in)) / sqrt(fan_in), per output channel) - what the
  original's `remove_weight_norm()` does before inference;
- resnet blocks: pixel norm over channels, mp-SiLU (silu / 0.596), two k3 convs, 1x1
  shortcut when widths differ, mp-sum with t = 0.3; single-head attention with q/k/v
  normalised over channels; activations clamped to +-256 after every block;
- encoder 128 -> 512 (k3), levels x(1, 2, 4) with 2 blocks each, x2 average-pool
  downsampling after level 0, middle (block, attention, block), mp-SiLU, k3 conv to 2 x 40
  (mean, logvar) with a learned gain; the decoder mirrors it (3 blocks per level,
  nearest-exact x2 upsampling + k3 conv before level 0);
- mel statistics `data_mean` / `data_std` (128,) are buffers in the checkpoint.
Log-mel: clamp to [-1, 1], reflect-pad 768 each side, |STFT| (n_fft 2048, hop 512, Hann 2048,
center False, +1e-9 under the root), librosa Slaney mel (128 bands, 0-22050 Hz), ln(max(., 1e-5)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

CLIP = 256.0


@dataclass(frozen=True)
class MelVAEConfig:
    data_dim: int = 128
    embed_dim: int = 40
    hidden_dim: int = 512
    ch_mult: tuple[int, ...] = (1, 2, 4)
    num_res_blocks: int = 2


TINY = MelVAEConfig(data_dim=16, embed_dim=8, hidden_dim=8)


def pixel_norm(x: torch.Tensor, dim, eps: float = 1e-4) -> torch.Tensor:
    """x / (eps + |x| * sqrt(#reduced / #all)) over `dim` (EDM2 `normalize`)."""
    n = torch.linalg.vector_norm(x, dim=dim, keepdim=True, dtype=torch.float32)
    n = eps + n * math.sqrt(n.numel() / x.numel())
    return x / n.to(x.dtype)


def mp_silu(x: torch.Tensor) -> torch.Tensor:
    return F.silu(x) / 0.596


def mp_sum(a: torch.Tensor, b: torch.Tensor, t: float = 0.3) -> torch.Tensor:
    return a.lerp(b, t) / math.sqrt((1 - t) ** 2 + t ** 2)


class MPConv1D(nn.Module):
    """Bias-free conv (B, C_in, T) -> (B, C_out, T); call `fold()` once after loading."""

    def __init__(self, c_in: int, c_out: int, k: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(c_out, c_in, k))

    @torch.no_grad()
    def fold(self) -> None:
        w = self.weight.float()
        fan_in = w[0].numel()
        self.weight.copy_((pixel_norm(w, dim=[1, 2]) / math.sqrt(fan_in)).to(self.weight.dtype))

    def forward(self, x: torch.Tensor, gain=1.0) -> torch.Tensor:
        w = self.weight * gain
        return F.conv1d(x, w, padding=w.shape[-1] // 2)


class ResBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv1, self.conv2 = MPConv1D(c_in, c_out, 3), MPConv1D(c_out, c_out, 3)
        if c_in != c_out:
            self.nin_shortcut = MPConv1D(c_in, c_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = pixel_norm(x, dim=1)
        h = self.conv2(mp_silu(self.conv1(mp_silu(x))))
        if hasattr(self, "nin_shortcut"):
            x = self.nin_shortcut(x)
        return mp_sum(x, h)


class Attention(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.qkv, self.proj_out = MPConv1D(c, 3 * c, 1), MPConv1D(c, c, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, n = x.shape
        y = pixel_norm(self.qkv(x).reshape(b, 1, c, 3, n), dim=2)          # (B, 1, C, 3, T)
        q, k, v = (t.transpose(-1, -2) for t in y.unbind(3))               # (B, 1, T, C)
        h = F.scaled_dot_product_attention(q, k, v).transpose(-1, -2).reshape(b, c, n)
        return mp_sum(x, self.proj_out(h))


class Resample(nn.Module):
    """`down`: 1x1 conv, avg-pool 2, 1x1 conv; `up`: nearest-exact x2 then k3 conv."""

    def __init__(self, c: int, up: bool):
        super().__init__()
        self.up = up
        if up:
            self.conv = MPConv1D(c, c, 3)
        else:
            self.conv1, self.conv2 = MPConv1D(c, c, 1), MPConv1D(c, c, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.up:
            return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest-exact"))
        return self.conv2(F.avg_pool1d(self.conv1(x), kernel_size=2, stride=2))


class Middle(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.block_1, self.attn_1, self.block_2 = ResBlock(c, c), Attention(c), ResBlock(c, c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block_2(self.attn_1(self.block_1(x))).clamp(-CLIP, CLIP)


class Level(nn.Module):
    """Blocks of one resolution (names `block.i`, optional `downsample` / `upsample`)."""

    def __init__(self, c_in: int, c_out: int, n: int, resample: str | None):
        super().__init__()
        self.block = nn.ModuleList([ResBlock(c_in if i == 0 else c_out, c_out) for i in range(n)])
        if resample == "down":
            self.downsample = Resample(c_out, up=False)
        elif resample == "up":
            self.upsample = Resample(c_out, up=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for blk in self.block:
            x = blk(x).clamp(-CLIP, CLIP)
        if hasattr(self, "downsample"):
            x = self.downsample(x)
        if hasattr(self, "upsample"):
            x = self.upsample(x)
        return x


class Encoder(nn.Module):
    def __init__(self, cfg: MelVAEConfig):
        super().__init__()
        d, m = cfg.hidden_dim, (1,) + tuple(cfg.ch_mult)
        self.conv_in = MPConv1D(cfg.data_dim, d, 3)
        self.down = nn.ModuleList([Level(d * m[i], d * m[i + 1], cfg.num_res_blocks, "down" if i == 0 else None)
                                   for i in range(len(cfg.ch_mult))])
        self.mid = Middle(d * m[-1])
        self.conv_out = MPConv1D(d * m[-1], 2 * cfg.embed_dim, 3)
        self.learnable_gain = nn.Parameter(torch.zeros([]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv_in(x)
        for level in self.down:
            h = level(h)
        return self.conv_out(mp_silu(self.mid(h)), gain=self.learnable_gain + 1)


class Decoder(nn.Module):
    def __init__(self, cfg: MelVAEConfig):
        super().__init__()
        d, m = cfg.hidden_dim, cfg.ch_mult
        self.conv_in = MPConv1D(cfg.embed_dim, d * m[-1], 3)
        self.mid = Middle(d * m[-1])
        ins = [d * m[i + 1] if i + 1 < len(m) else d * m[-1] for i in range(len(m))]
        self.up = nn.ModuleList([Level(ins[i], d * m[i], cfg.num_res_blocks + 1, "up" if i == 1 else None)
                                 for i in range(len(m))])
        self.conv_out = MPConv1D(d * m[0], cfg.data_dim, 3)
        self.learnable_gain = nn.Parameter(torch.zeros([]))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.mid(self.conv_in(z))
        for level in reversed(self.up):
            h = level(h)
        return self.conv_out(mp_silu(h), gain=self.learnable_gain + 1)


class MelVAE(nn.Module):
    """log-mel (B, 128, 2N) <-> latent (B, 40, N); statistics from the checkpoint."""

    def __init__(self, cfg: MelVAEConfig):
        super().__init__()
        self.cfg = cfg
        self.register_buffer("data_mean", torch.zeros(1, cfg.data_dim, 1))
        self.register_buffer("data_std", torch.ones(1, cfg.data_dim, 1))
        self.encoder, self.decoder = Encoder(cfg), Decoder(cfg)

    def fold(self) -> MelVAE:
        for m in self.modules():
            if isinstance(m, MPConv1D):
                m.fold()
        return self

    def encode_mean(self, mel: torch.Tensor) -> torch.Tensor:
        """Posterior mean (the deterministic latent): (B, 128, 2N) -> (B, 40, N)."""
        return self.encoder((mel - self.data_mean) / self.data_std).chunk(2, dim=1)[0]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z) * self.data_std + self.data_mean


class LogMel(nn.Module):
    """Mono waveform (B, T) @ 44.1 kHz -> natural-log mel (B, 128, T / 512)."""

    def __init__(self, n_mels: int = 128, sr: int = 44100, n_fft: int = 2048, hop: int = 512):
        super().__init__()
        import librosa

        self.n_fft, self.hop = n_fft, hop
        fb = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=0, fmax=sr / 2)
        self.register_buffer("mel_basis", torch.from_numpy(fb).float(), persistent=False)
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        p = (self.n_fft - self.hop) // 2
        x = F.pad(wave.clamp(-1, 1)[:, None], (p, p), mode="reflect")[:, 0]
        spec = torch.stft(x, self.n_fft, hop_length=self.hop, win_length=self.n_fft, window=self.window,
                          center=False, normalized=False, onesided=True, return_complex=True)
        mag = torch.sqrt(torch.view_as_real(spec).pow(2).sum(-1) + 1e-9)   # (B, F, frames)
        return torch.log(torch.clamp(self.mel_basis @ mag, min=1e-5))
