"""DiT backbone shared by the Semantic Planner, the Acoustic Synthesizer and the Base Model.

One code path at every size; the size is configuration (`DiTConfig`, `PRESETS`).

Per block (adaLN-Zero, DiT-style; `adaln="single"` gives PixArt's adaLN-single):

    c   = MLP_t(sinusoid_256(t)) + MLP_g(global text embedding)          # (B, D)
    mod = Linear(SiLU(c)) -> shift1, scale1, gate1, shift2, scale2, gate2 # zero-init
    x   = x + gate1 * SelfAttn_RoPE(LN(x) * (1 + scale1) + shift1)
    x   = x + CrossAttn(LN_affine(x), MLP_ctx(T5 tokens), key padding mask)  # out zero-init
    x   = x + gate2 * MLP(LN(x) * (1 + scale2) + shift2)
    out = Linear_zero(LN(x) * (1 + scale) + shift)

Every residual branch is zero at initialisation, so a fresh model is the identity map
followed by a zero output layer (predicts v = 0).

Null conditioning (for classifier-free guidance) lives here: `drop` (B,) bool replaces that
row's T5 tokens by one learned null token (mask = first position only) and its global
embedding by a learned null vector. The frame-aligned condition is never dropped.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class DiTConfig:
    """Everything that changes the DiT's shape. Stored in every checkpoint's config.json."""

    in_dim: int = 128
    """Channels of the generated latent (128 for DAC-VAE, d for the planner)."""
    width: int = 1152
    depth: int = 28
    heads: int = 16
    mlp_ratio: float = 4.0
    text_dim: int = 1024
    """Width of the token condition (Flan-T5-large: 1024)."""
    global_dim: int = 512
    """Width of the global condition (LAION-CLAP text: 512; MS-CLAP 2023: 1024)."""
    frame_dim: int = 0
    """Width of the frame-aligned condition (synthesizer: d); 0 = none."""
    adaln: str = "zero"
    """"zero" (per-block Linear(D, 6D), DiT) or "single" (shared Linear + per-block table)."""
    text_proj: str = "mlp"
    """Token projection: "mlp" (Linear-GELU-Linear) or "linear"."""
    t_freq: int = 256
    rope_theta: float = 10000.0
    abs_pos: bool = False
    """Also add a fixed sinusoidal embedding of the absolute frame index to the input (DiT's
    absolute table, next to RoPE). The paper uses RoPE only (False); RoPE is relative, so a
    small model has to infer where in the clip a frame is from the clip's edges, which costs
    it event order (docs/mini_world.md). Checkpoints without the field read it as False."""

    def __post_init__(self) -> None:
        if self.width % self.heads or (self.width // self.heads) % 2:
            raise ValueError(f"width {self.width} must split into {self.heads} heads of even size")
        if self.adaln not in ("zero", "single") or self.text_proj not in ("mlp", "linear"):
            raise ValueError(f"bad adaln {self.adaln!r} or text_proj {self.text_proj!r}")

    def to_dict(self) -> dict:
        return asdict(self)


PRESETS: dict[str, dict] = {
    "paper": dict(width=1152, depth=28, heads=16),   # SemanticAudio App. A.1
    "small": dict(width=512, depth=8, heads=8),
    "mini": dict(width=256, depth=4, heads=4),       # the mini world's CPU size
    "tiny": dict(width=64, depth=2, heads=2),        # unit tests
}


def preset(name: str, **overrides) -> DiTConfig:
    """A `DiTConfig` from a named preset plus field overrides."""
    if name not in PRESETS:
        raise KeyError(f"unknown DiT preset {name!r}; available: {', '.join(PRESETS)}")
    return replace(DiTConfig(**PRESETS[name]), **overrides)


# ----------------------------------------------------------------------------- helpers

def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal features of t in [0, 1] (scaled by 1000, DiT-style). t: (B,) -> (B, dim)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = 1000.0 * t.float()[:, None] * freqs[None]                   # (B, half)
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)       # (B, dim)


def rope_tables(n: int, head_dim: int, theta: float, device) -> tuple[torch.Tensor, torch.Tensor]:
    """cos/sin tables for rotary positions 0..n-1 (rotate-half layout: channel i pairs with
    i + head_dim / 2). Returns two (n, 1, head_dim) float32 tensors."""
    inv = 1.0 / theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32, device=device) / head_dim)
    ang = torch.arange(n, dtype=torch.float32, device=device)[:, None] * inv[None]  # (n, hd/2)
    ang = torch.cat([ang, ang], dim=-1)[:, None, :]                    # (n, 1, hd)
    return ang.cos(), ang.sin()


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate channel pairs (i, i + hd/2) by position. x: (..., T, H, hd); cos/sin: (T, 1, hd)."""
    x1, x2 = x.chunk(2, dim=-1)                                        # 2 x (..., T, H, hd/2)
    rot = torch.cat([-x2, x1], dim=-1)                                 # (..., T, H, hd)
    return torch.addcmul(x * cos.to(x.dtype), rot, sin.to(x.dtype))   # (..., T, H, hd)


def modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """x * (1 + scale) + shift. x: (B, T, D); shift/scale: (B, D)."""
    return torch.addcmul(shift[:, None], x, 1 + scale[:, None])       # (B, T, D)


def mlp(d_in: int, d_hidden: int, d_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(d_in, d_hidden), nn.GELU(approximate="tanh"), nn.Linear(d_hidden, d_out))


# ----------------------------------------------------------------------------- layers

class SelfAttention(nn.Module):
    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.out = nn.Linear(width, width)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        B, T, D = x.shape
        qkv = self.qkv(x).view(B, T, 3, self.heads, D // self.heads)   # (B, T, 3, H, hd)
        qk = apply_rope(qkv[:, :, :2].transpose(1, 2), cos, sin)       # (B, 2, T, H, hd) q and k at once
        q, k = qk.transpose(2, 3).unbind(1)                            # 2 x (B, H, T, hd)
        v = qkv[:, :, 2].transpose(1, 2)                               # (B, H, T, hd)
        y = F.scaled_dot_product_attention(q, k, v)                    # (B, H, T, hd)
        return self.out(y.transpose(1, 2).reshape(B, T, D))           # (B, T, D)


class CrossAttention(nn.Module):
    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(width, width)
        self.kv = nn.Linear(width, 2 * width)
        self.out = nn.Linear(width, width)

    def forward(self, x: torch.Tensor, ctx: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        B, T, D = x.shape
        L, H = ctx.shape[1], self.heads
        q = self.q(x).view(B, T, H, D // H).transpose(1, 2)            # (B, H, T, hd)
        k, v = self.kv(ctx).view(B, L, 2, H, D // H).permute(2, 0, 3, 1, 4)  # 2 x (B, H, L, hd)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask[:, None, None, :])  # (B, H, T, hd)
        return self.out(y.transpose(1, 2).reshape(B, T, D))           # (B, T, D)


class DiTBlock(nn.Module):
    def __init__(self, cfg: DiTConfig):
        super().__init__()
        D = cfg.width
        self.norm1 = nn.LayerNorm(D, elementwise_affine=False, eps=1e-6)
        self.attn = SelfAttention(D, cfg.heads)
        self.norm_x = nn.LayerNorm(D, eps=1e-6)
        self.cross = CrossAttention(D, cfg.heads)
        self.norm2 = nn.LayerNorm(D, elementwise_affine=False, eps=1e-6)
        self.mlp = mlp(D, int(D * cfg.mlp_ratio), D)
        if cfg.adaln == "zero":
            self.ada = nn.Sequential(nn.SiLU(), nn.Linear(D, 6 * D))
        else:
            self.table = nn.Parameter(torch.zeros(6, D))

    def modulation(self, c: torch.Tensor, shared: torch.Tensor | None) -> torch.Tensor:
        """(B, 6, D) shift/scale/gate from c (adaLN-Zero) or shared + table (adaLN-single)."""
        if shared is None:
            return self.ada(c).view(c.shape[0], 6, -1)                 # (B, 6, D)
        return shared + self.table[None]                               # (B, 6, D)

    def forward(self, x, c, shared, ctx, mask, cos, sin) -> torch.Tensor:
        sh1, sc1, g1, sh2, sc2, g2 = self.modulation(c, shared).unbind(1)  # 6 x (B, D)
        x = torch.addcmul(x, g1[:, None], self.attn(modulate(self.norm1(x), sh1, sc1), cos, sin))  # (B, T, D)
        x = x + self.cross(self.norm_x(x), ctx, mask)                  # (B, T, D)
        return torch.addcmul(x, g2[:, None], self.mlp(modulate(self.norm2(x), sh2, sc2)))  # (B, T, D)


class DiT(nn.Module):
    """Velocity network v(x_t, t | tokens, global, frames)."""

    def __init__(self, cfg: DiTConfig):
        super().__init__()
        self.cfg = cfg
        D = cfg.width
        self.x_in = nn.Linear(cfg.in_dim, D)
        self.frame_in = nn.Linear(cfg.frame_dim, D) if cfg.frame_dim else None
        self.t_mlp = mlp(cfg.t_freq, D, D)
        self.g_mlp = mlp(cfg.global_dim, D, D)
        self.ctx_proj = mlp(cfg.text_dim, D, D) if cfg.text_proj == "mlp" else nn.Linear(cfg.text_dim, D)
        self.null_tokens = nn.Parameter(torch.randn(cfg.text_dim) * 0.02)
        self.null_global = nn.Parameter(torch.randn(cfg.global_dim) * 0.02)
        self.t_block = nn.Sequential(nn.SiLU(), nn.Linear(D, 6 * D)) if cfg.adaln == "single" else None
        self.blocks = nn.ModuleList(DiTBlock(cfg) for _ in range(cfg.depth))
        self.final_norm = nn.LayerNorm(D, elementwise_affine=False, eps=1e-6)
        if cfg.adaln == "zero":                                        # final shift/scale from c
            self.final_ada = nn.Sequential(nn.SiLU(), nn.Linear(D, 2 * D))
        else:                                                          # PixArt: table + c
            self.final_table = nn.Parameter(torch.zeros(2, D))
        self.final = nn.Linear(D, cfg.in_dim)
        self._init()

    def _init(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
        nn.init.normal_(self.t_mlp[0].weight, std=0.02)
        nn.init.normal_(self.t_mlp[2].weight, std=0.02)
        zero = [self.final] + [b.cross.out for b in self.blocks]
        zero += [b.ada[1] for b in self.blocks] + [self.final_ada[1]] if self.t_block is None else [self.t_block[1]]
        for lin in zero:                                               # adaLN-Zero: gates and outputs 0
            nn.init.zeros_(lin.weight)
            nn.init.zeros_(lin.bias)

    def null_conditions(self, tokens, mask, glob, drop):
        """Replace rows where drop is True by the learned null token / null global vector."""
        if drop is None or not bool(drop.any()):
            return tokens, mask, glob
        d = drop[:, None]                                              # (B, 1)
        null_tok = torch.zeros_like(tokens) + self.null_tokens.to(tokens.dtype)  # (B, L, Dt)
        tokens = torch.where(d[..., None], null_tok, tokens)           # (B, L, Dt)
        first = torch.zeros_like(mask)
        first[:, 0] = True
        mask = torch.where(d, first, mask)                             # (B, L) bool
        glob = torch.where(d, self.null_global.to(glob.dtype).expand_as(glob), glob)  # (B, Dg)
        return tokens, mask, glob

    def forward(self, x, t, tokens, mask, glob, frames=None, drop=None) -> torch.Tensor:
        """x: (B, T, C) noisy latent; t: (B,) in [0, 1]; tokens: (B, L, Dt); mask: (B, L) bool
        (True = real token); glob: (B, Dg); frames: (B, T, Df) or None; drop: (B,) bool or None.
        Returns the velocity (B, T, C)."""
        tokens, mask, glob = self.null_conditions(tokens, mask.bool(), glob, drop)
        h = self.x_in(x)                                               # (B, T, D)
        if self.frame_in is not None:
            if frames is None or frames.shape[:2] != x.shape[:2]:
                raise ValueError(f"frame condition must be (B, T, {self.cfg.frame_dim}) "
                                 f"aligned with x {tuple(x.shape)}")
            h = h + self.frame_in(frames)                              # (B, T, D)
        if self.cfg.abs_pos:
            pos = torch.arange(x.shape[1], device=x.device, dtype=torch.float32) / 1000.0  # (T,) frame index
            h = h + timestep_embedding(pos, self.cfg.width).to(h.dtype)[None]            # (1, T, D) sin-cos
        c = self.t_mlp(timestep_embedding(t, self.cfg.t_freq)) + self.g_mlp(glob)  # (B, D)
        shared = None if self.t_block is None else self.t_block(c).view(c.shape[0], 6, -1)  # (B, 6, D)
        ctx = self.ctx_proj(tokens)                                    # (B, L, D)
        cos, sin = rope_tables(x.shape[1], self.cfg.width // self.cfg.heads, self.cfg.rope_theta, x.device)
        for blk in self.blocks:
            h = blk(h, c, shared, ctx, mask, cos, sin)                 # (B, T, D)
        if self.t_block is None:
            sh, sc = self.final_ada(c).chunk(2, dim=-1)                # 2 x (B, D)
        else:
            sh, sc = (self.final_table[None] + c[:, None]).unbind(1)   # 2 x (B, D)
        return self.final(modulate(self.final_norm(h), sh, sc))        # (B, T, C)


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
