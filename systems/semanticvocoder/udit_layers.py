"""Layers of SemanticVocoder's UDiT backbone (norms, position embeddings, RoPE, attention,
feed-forward, adaLN), named as the original `models/dit/{modules,attention,rotary,mask_dit}.py`
so that state-dict names match. Facts only; see `udit.py` for the model and conventions."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class RMSNorm(nn.Module):
    """x / sqrt(mean(x^2) + eps) * weight, normalised in float32 (eps 1e-6)."""

    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xf = x.float()
        return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)).type_as(x) * self.weight


def make_norm(kind: str, dim: int) -> nn.Module:
    return nn.LayerNorm(dim) if kind == "layernorm" else RMSNorm(dim)


def modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    return x * (1 + scale) + shift


def sinusoid_table(length: int, dim: int) -> torch.Tensor:
    """(1, length, dim): sin on even channels, cos on odd, frequencies 10000 ** (-2i / dim)."""
    pos = torch.arange(length, dtype=torch.float32)[:, None]                 # (L, 1)
    div = torch.exp(torch.arange(0, dim, 2).float() * (-math.log(10000.0) / dim))
    pe = torch.zeros(length, dim)
    pe[:, 0::2] = torch.sin(pos * div)
    pe[:, 1::2] = torch.cos(pos * div)
    return pe[None]


class SinusoidalPE(nn.Module):
    def __init__(self, dim: int, length: int):
        super().__init__()
        self.register_buffer("pe", sinusoid_table(length, dim))              # persistent (in the file)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.pe[:, :x.shape[1]]


class ConvPE(nn.Module):
    """F5-TTS style: two grouped k31 convolutions with Mish, added to the input."""

    def __init__(self, dim: int, kernel: int = 31, groups: int = 16):
        super().__init__()
        conv = lambda: nn.Conv1d(dim, dim, kernel, groups=groups, padding=kernel // 2)  # noqa: E731
        self.conv1d = nn.Sequential(conv(), nn.Mish(), conv(), nn.Mish())

    def forward(self, x: torch.Tensor) -> torch.Tensor:                     # (B, L, D)
        return self.conv1d(x.transpose(1, 2)).transpose(1, 2)


class PositionEmbedding(nn.Module):
    """The original `PE_wrapper`: abs (learned, <= length tokens), sinu, conv or none."""

    def __init__(self, dim: int, method: str, length: int):
        super().__init__()
        self.method = method
        if method == "abs":
            self.length = length
            self.abs_pe = nn.Parameter(torch.zeros(1, length, dim))
        elif method == "conv":
            self.conv_pe = ConvPE(dim)
        elif method == "sinu":
            self.sinu_pe = SinusoidalPE(dim, length)

    def forward(self, x: torch.Tensor) -> torch.Tensor:                     # (B, L, D)
        if self.method == "abs":
            if x.shape[1] > self.length:
                raise ValueError(f"{x.shape[1]} tokens but the learned position table has {self.length}")
            return x + self.abs_pe[:, :x.shape[1]]
        if self.method == "conv":
            return x + self.conv_pe(x)
        if self.method == "sinu":
            return self.sinu_pe(x)
        return x


class Rotary(nn.Module):
    """Rotary embedding over the last dim of (B, H, L, d); halves rotated, float32 tables."""

    def __init__(self, head_dim: int):
        super().__init__()
        inv = 1.0 / (10000 ** (torch.arange(0, head_dim, 2).float() / head_dim))
        self.register_buffer("inv_freq", inv)                                # persistent (in the file)

    def rotate(self, x: torch.Tensor) -> torch.Tensor:                     # (B, H, L, d)
        pos = torch.arange(x.shape[-2], device=x.device, dtype=torch.float32)
        freqs = torch.outer(pos, self.inv_freq.float())                      # (L, d/2)
        emb = torch.cat([freqs, freqs], dim=-1)                              # (L, d)
        xf = x.float()
        x1, x2 = xf.chunk(2, dim=-1)
        return (xf * emb.cos() + torch.cat([-x2, x1], dim=-1) * emb.sin()).type_as(x)


class Attention(nn.Module):
    """Multi-head attention (self when context is None); key mask (B, Lk) bool or None."""

    def __init__(self, dim: int, heads: int, context_dim: int | None, qkv_bias: bool,
                 qk_norm: str | None, rope_mode: str):
        super().__init__()
        self.heads, head_dim = heads, dim // heads
        kv_dim = dim if context_dim is None else context_dim
        self.to_q = nn.Linear(dim, dim, bias=qkv_bias)
        self.to_k = nn.Linear(kv_dim, dim, bias=qkv_bias)
        self.to_v = nn.Linear(kv_dim, dim, bias=qkv_bias)
        norm = (lambda: nn.Identity()) if qk_norm is None else (lambda: make_norm(qk_norm, head_dim))
        self.norm_q, self.norm_k = norm(), norm()
        self.proj = nn.Linear(dim, dim)
        self.rope_mode = rope_mode
        if rope_mode in ("shared", "x_only"):
            self.rotary = Rotary(head_dim)
        elif rope_mode == "dual":
            self.rotary_x, self.rotary_c = Rotary(head_dim), Rotary(head_dim)

    def _rope(self, q: torch.Tensor, k: torch.Tensor, extras: int):
        if self.rope_mode == "shared":
            return self.rotary.rotate(q), self.rotary.rotate(k)
        if self.rope_mode == "x_only":
            rot = self.rotary.rotate
            return (torch.cat([q[:, :, :extras], rot(q[:, :, extras:])], dim=2),
                    torch.cat([k[:, :, :extras], rot(k[:, :, extras:])], dim=2))
        if self.rope_mode == "dual":
            rx, rc = self.rotary_x.rotate, self.rotary_c.rotate
            return (torch.cat([rc(q[:, :, :extras]), rx(q[:, :, extras:])], dim=2),
                    torch.cat([rc(k[:, :, :extras]), rx(k[:, :, extras:])], dim=2))
        return q, k

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None,
                key_mask: torch.Tensor | None = None, extras: int = 0) -> torch.Tensor:
        B, L, _ = x.shape
        ctx = x if context is None else context
        split = lambda t: t.reshape(B, t.shape[1], self.heads, -1).transpose(1, 2)  # noqa: E731
        q = self.norm_q(split(self.to_q(x)))                                 # (B, H, L, d)
        k = self.norm_k(split(self.to_k(ctx)))                               # (B, H, Lk, d)
        v = split(self.to_v(ctx))                                            # (B, H, Lk, d)
        q, k = self._rope(q, k, extras)
        mask = None if key_mask is None else key_mask[:, None, None, :].bool()  # (B, 1, 1, Lk)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)       # (B, H, L, d)
        return self.proj(out.transpose(1, 2).reshape(B, L, -1))              # (B, L, D)


class _Proj(nn.Module):
    """First FF layer: Linear(dim, inner or 2 inner) + activation (the original's `net.0`)."""

    def __init__(self, dim: int, inner: int, kind: str):
        super().__init__()
        self.kind = kind
        gated = kind in ("geglu", "gesnake")
        self.proj = nn.Linear(dim, inner * (2 if gated else 1))
        if kind in ("snake", "gesnake"):
            self.alpha = nn.Parameter(torch.ones(1, 1, inner))
            self.beta = nn.Parameter(torch.ones(1, 1, inner))

    def snake(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.beta * torch.sin(x * self.alpha).pow(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.proj(x)
        if self.kind == "gelu":
            return F.gelu(h)
        if self.kind == "gelu-approximate":
            return F.gelu(h, approximate="tanh")
        if self.kind == "geglu-approximate":
            return h * torch.sigmoid(1.702 * h)
        if self.kind == "snake":
            return self.snake(h)
        h, gate = h.chunk(2, dim=-1)
        return h * (F.gelu(gate) if self.kind == "geglu" else self.snake(gate))


class FeedForward(nn.Module):
    """net = [activation projection, dropout (p = 0), Linear(inner, dim)]."""

    def __init__(self, dim: int, mult: float, kind: str):
        super().__init__()
        inner = int(dim * mult)
        self.net = nn.ModuleList([_Proj(dim, inner, kind), nn.Dropout(0.0), nn.Linear(inner, dim)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net[2](self.net[0](x))


class AdaLN(nn.Module):
    """Six modulation vectors (B, 6, D) per block, by time-fusion mode."""

    def __init__(self, dim: int, mode: str, rank: int | None, alpha: float | None):
        super().__init__()
        self.mode = mode
        if mode == "ada":
            self.time_ada = nn.Linear(dim, 6 * dim)
        if mode in ("ada_sola", "ada_sola_bias"):
            self.lora_a = nn.Linear(dim, rank * 6, bias=False)
            self.lora_b = nn.Linear(rank * 6, dim * 6, bias=False)
            self.scaling = alpha / rank
        if mode in ("ada_single", "ada_sola_bias"):
            self.scale_shift_table = nn.Parameter(torch.zeros(6, dim))

    def forward(self, t: torch.Tensor, shared: torch.Tensor | None) -> torch.Tensor:
        B = t.shape[0]                                                       # t: SiLU(time) (B, D)
        if self.mode == "ada":
            return self.time_ada(t).reshape(B, 6, -1)
        ada = shared
        if self.mode.startswith("ada_sola"):
            ada = ada + self.lora_b(self.lora_a(t)) * self.scaling
        ada = ada.reshape(B, 6, -1)
        return ada + self.scale_shift_table[None] if hasattr(self, "scale_shift_table") else ada
