"""Resonate's FluxAudio flow-matching transformer (xiquan-li/Resonate, arXiv 2603.11661).

Written from the published facts (networks.py / transformer_layers.py / low_level.py read
for names and shapes only). Published size (`fluxaudio_m_44k`): latent 40, hidden 448 =
7 heads x 64, 16 joint (MMDiT) blocks - the last one pre-only on the text side - then 36
audio-only blocks, SwiGLU MLPs with hidden round_up(2/3 * 4 * 448, 256) = 1280 (kernel-3
convolutions on the audio side, linear on the text side), adaLN (6-way shift/scale/gate) from
global_c = t_embed(t) + text_cond_proj(mean T5), RMS q/k norm then RoPE (theta 10000, pairs of
adjacent channels, separate position tables for audio and text), final adaLN + k7 conv.

Convention (`reverse_flow=True`): x_t = (1 - t) x_data + t noise, v = noise - x_data,
t = 1 noise -> t = 0 data. The checkpoint also holds `latent_mean` / `latent_std` (1, 1, 40)
and the stored empty-text features (`empty_string_feat` (77, 1024), `empty_string_feat_c`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class FluxAudioConfig:
    latent_dim: int = 40
    hidden_dim: int = 448
    num_heads: int = 7
    depth: int = 52
    fused_depth: int = 36
    mlp_ratio: float = 4.0
    text_dim: int = 1024
    text_c_dim: int = 1024
    text_seq_len: int = 77
    max_latent_len: int = 2048
    """RoPE table size: 2048 latents = 47.5 s at 43.07 latents/s."""


TINY = FluxAudioConfig(latent_dim=8, hidden_dim=32, num_heads=2, depth=3, fused_depth=1,
                       text_dim=32, text_c_dim=32, text_seq_len=77, max_latent_len=256)


def swiglu_hidden(dim: int, ratio: float, multiple: int = 256) -> int:
    """int(2/3 * dim * ratio) rounded up to a multiple of 256 (1280 at dim 448)."""
    h = int(2 * int(dim * ratio) / 3)
    return multiple * ((h + multiple - 1) // multiple)


class SeqConv(nn.Conv1d):
    """Conv1d over a channel-last sequence: (B, N, C_in) -> (B, N, C_out)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.transpose(1, 2)).transpose(1, 2)


class SwiGLU(nn.Module):
    """w2(silu(w1 x) * w3 x), bias-free; linear (k = 1) or sequence convolutions (k > 1)."""

    def __init__(self, dim: int, ratio: float, kernel: int = 1):
        super().__init__()
        h = swiglu_hidden(dim, ratio)

        def make(a: int, b: int) -> nn.Module:
            return nn.Linear(a, b, bias=False) if kernel == 1 else \
                SeqConv(a, b, kernel, padding=kernel // 2, bias=False)
        self.w1, self.w2, self.w3 = make(dim, h), make(h, dim), make(dim, h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


def rope_table(length: int, head_dim: int, theta: float = 10000.0, device=None) -> torch.Tensor:
    """(length, head_dim / 2) rotation angles pos * theta^(-2i / head_dim)."""
    freqs = theta ** (-torch.arange(0, head_dim, 2, dtype=torch.float32, device=device) / head_dim)
    return torch.arange(length, dtype=torch.float32, device=device)[:, None] * freqs[None]


def apply_rope(x: torch.Tensor, angles: torch.Tensor) -> torch.Tensor:
    """Rotate adjacent channel pairs: x (B, H, N, Dh), angles (N, Dh/2)."""
    xf = x.float().unflatten(-1, (-1, 2))                     # (B, H, N, Dh/2, 2)
    cos, sin = angles.cos(), angles.sin()                     # (N, Dh/2)
    a, b = xf[..., 0], xf[..., 1]
    out = torch.stack([cos * a - sin * b, sin * a + cos * b], dim=-1)
    return out.flatten(-2).to(x.dtype)


class Attention(nn.Module):
    """qkv projection (channels laid out as (head, dim, q/k/v)) + RMS q/k norm + RoPE."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.q_norm = nn.RMSNorm(dim // heads)
        self.k_norm = nn.RMSNorm(dim // heads)

    def qkv_heads(self, x: torch.Tensor, angles: torch.Tensor):
        b, n, d = x.shape
        qkv = self.qkv(x).view(b, n, self.heads, d // self.heads, 3).permute(0, 2, 1, 3, 4)
        q, k, v = qkv.unbind(-1)                              # each (B, H, N, Dh)
        return apply_rope(self.q_norm(q), angles), apply_rope(self.k_norm(k), angles), v


def modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    return x * (1 + scale) + shift


def attend(q, k, v) -> torch.Tensor:
    """(B, H, N, Dh) x3 -> (B, N, H * Dh)."""
    return F.scaled_dot_product_attention(q, k, v).transpose(1, 2).flatten(2)


class Block(nn.Module):
    """adaLN block: `pre_only` keeps just the modulated qkv (the last joint text block)."""

    def __init__(self, dim: int, heads: int, ratio: float, kernel: int, pre_only: bool = False):
        super().__init__()
        self.pre_only = pre_only
        self.norm1 = nn.LayerNorm(dim, elementwise_affine=False)
        self.attn = Attention(dim, heads)
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(dim, (2 if pre_only else 6) * dim))
        if not pre_only:
            self.linear1 = nn.Linear(dim, dim) if kernel == 1 else SeqConv(dim, dim, kernel, padding=kernel // 2)
            self.norm2 = nn.LayerNorm(dim, elementwise_affine=False)
            self.ffn = SwiGLU(dim, ratio, kernel)

    def pre(self, x: torch.Tensor, c: torch.Tensor, angles: torch.Tensor):
        mods = self.adaLN_modulation(c).chunk(2 if self.pre_only else 6, dim=-1)  # each (B, 1, D)
        return self.attn.qkv_heads(modulate(self.norm1(x), mods[0], mods[1]), angles), mods[2:]

    def post(self, x: torch.Tensor, attn_out: torch.Tensor, mods) -> torch.Tensor:
        if self.pre_only:
            return x
        gate_msa, shift_mlp, scale_mlp, gate_mlp = mods
        x = x + self.linear1(attn_out) * gate_msa
        return x + self.ffn(modulate(self.norm2(x), shift_mlp, scale_mlp)) * gate_mlp

    def forward(self, x: torch.Tensor, c: torch.Tensor, angles: torch.Tensor) -> torch.Tensor:
        qkv, mods = self.pre(x, c, angles)
        return self.post(x, attend(*qkv), mods)


class JointBlock(nn.Module):
    """MMDiT block: audio (kernel 3) and text (linear) streams share one attention."""

    def __init__(self, dim: int, heads: int, ratio: float, pre_only: bool):
        super().__init__()
        self.latent_block = Block(dim, heads, ratio, kernel=3)
        self.text_block = Block(dim, heads, ratio, kernel=1, pre_only=pre_only)

    def forward(self, x, text, c, x_angles, t_angles):
        x_qkv, x_mods = self.latent_block.pre(x, c, x_angles)
        t_qkv, t_mods = self.text_block.pre(text, c, t_angles)
        out = attend(*[torch.cat([a, b], dim=2) for a, b in zip(x_qkv, t_qkv, strict=True)])  # (B, N + L, D)
        n = x.shape[1]
        return (self.latent_block.post(x, out[:, :n], x_mods),
                self.text_block.post(text, out[:, n:], t_mods))


class TimeEmbed(nn.Module):
    """t in [0, 1] -> [cos, sin](t * 10000^(-i/128)) (256) -> Linear, SiLU, Linear."""

    def __init__(self, dim: int, freq_dim: int = 256):
        super().__init__()
        self.freq_dim = freq_dim
        self.mlp = nn.Sequential(nn.Linear(freq_dim, dim), nn.SiLU(), nn.Linear(dim, dim))

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        freqs = 10000.0 ** (-torch.arange(0, self.freq_dim, 2, dtype=torch.float32, device=t.device)
                            / self.freq_dim)
        args = t.float()[:, None] * freqs[None]                                  # (B, 128)
        return self.mlp(torch.cat([args.cos(), args.sin()], dim=-1).to(t.dtype))  # (B, D)


class FluxAudio(nn.Module):
    """The velocity network; parameter names follow the published state dict."""

    def __init__(self, cfg: FluxAudioConfig):
        super().__init__()
        d, r = cfg.hidden_dim, cfg.mlp_ratio
        self.cfg = cfg
        self.audio_input_proj = nn.Sequential(SeqConv(cfg.latent_dim, d, 7, padding=3), nn.SELU(),
                                              SwiGLU(d, r, kernel=7))
        self.text_input_proj = nn.Sequential(nn.Linear(cfg.text_dim, d), SwiGLU(d, r))
        self.text_cond_proj = nn.Sequential(nn.Linear(cfg.text_c_dim, d), SwiGLU(d, r))
        self.final_layer = FinalBlock(d, cfg.latent_dim)
        self.t_embed = TimeEmbed(d)
        n_joint = cfg.depth - cfg.fused_depth
        self.joint_blocks = nn.ModuleList(
            [JointBlock(d, cfg.num_heads, r, pre_only=(i == n_joint - 1)) for i in range(n_joint)])
        self.fused_blocks = nn.ModuleList(
            [Block(d, cfg.num_heads, r, kernel=3) for _ in range(cfg.fused_depth)])
        nan = torch.full((1, 1, cfg.latent_dim), float("nan"))  # must come from the checkpoint
        self.latent_mean = nn.Parameter(nan.clone(), requires_grad=False)
        self.latent_std = nn.Parameter(nan.clone(), requires_grad=False)
        self.empty_string_feat = nn.Parameter(torch.zeros(cfg.text_seq_len, cfg.text_dim), requires_grad=False)
        self.empty_string_feat_c = nn.Parameter(torch.zeros(cfg.text_c_dim), requires_grad=False)

    def project_text(self, tokens: torch.Tensor, pooled: torch.Tensor):
        """T5 tokens (B, 77, 1024), pooled (B, 1024) -> (B, 77, D), (B, D); cacheable per prompt."""
        return self.text_input_proj(tokens), self.text_cond_proj(pooled)

    def velocity(self, x: torch.Tensor, t: torch.Tensor, text: torch.Tensor, text_c: torch.Tensor) -> torch.Tensor:
        """x (B, N, 40) normalised latents, t (B,) in [0, 1], projected text -> v (B, N, 40)."""
        head = self.cfg.hidden_dim // self.cfg.num_heads
        n, m = x.shape[1], text.shape[1]
        if n > self.cfg.max_latent_len:
            raise ValueError(f"{n} latents exceed the RoPE table ({self.cfg.max_latent_len})")
        x_ang, t_ang = rope_table(n, head, device=x.device), rope_table(m, head, device=x.device)
        c = (self.t_embed(t) + text_c)[:, None]                                # (B, 1, D)
        h = self.audio_input_proj(x)                                           # (B, N, D)
        for blk in self.joint_blocks:
            h, text = blk(h, text, c, x_ang, t_ang)
        for blk in self.fused_blocks:
            h = blk(h, c, x_ang)
        return self.final_layer(h, c)

    def normalize(self, z: torch.Tensor) -> torch.Tensor:
        return (z - self.latent_mean) / self.latent_std

    def unnormalize(self, z: torch.Tensor) -> torch.Tensor:
        return z * self.latent_std + self.latent_mean


class FinalBlock(nn.Module):
    def __init__(self, dim: int, out_dim: int):
        super().__init__()
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(dim, 2 * dim))
        self.norm = nn.LayerNorm(dim, elementwise_affine=False)
        self.conv = SeqConv(dim, out_dim, 7, padding=3)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        shift, scale = self.adaLN_modulation(c).chunk(2, dim=-1)
        return self.conv(modulate(self.norm(x), shift, scale))
