"""SemanticVocoder's text-to-latent backbone: a U-shaped DiT over 1-d semantic latents.

Rewritten from the facts of the original `models/dit/mask_dit.py: UDiT` (EzAudio's design, as
used by zeyuxie29/SemanticVocoder with `SingleTaskCrossAttentionAudioFlowMatching`): the
module names below reproduce the original's state-dict names exactly (checked against key lists
derived from the original code, `keys/tta/`).

Forward, for x (B, C, T) latents, integer timesteps (B,), context (B, L, Dc), mask (B, L):

    h = Conv1d_p(x) + pos            (B, T/p, D)     patch embedding + absolute/sinusoidal/conv PE
    t = MLP(cos|sin(timesteps))      (B, D)          256 frequencies, max period 1e4
    c = MLP(context) + context PE    (B, L, D)       cross-attention keys (context fusion "cross")
    time fusion "token": t is prepended as one token (extras = 1); "ada*": SiLU(t) drives adaLN
    depth // 2 "in" blocks, a mid block, depth // 2 "out" blocks with long skips
        (concat [h; skip] -> norm -> Linear(2D, D))
    block: h += (1 - g1) SelfAttn(mod(norm1 h)); h += CrossAttn(norm2 h, norm_ctx c);
           h += (1 - g2) FF(mod(norm3 h))         (the gates enter as 1 - g, as the original)
    final: mod(norm h) -> Linear(D, p C) -> (B, C, T) -> Conv1d k3 (optional)

Attention uses PyTorch SDPA with its default scale head_dim ** -0.5 (the original's `qk_scale`
only affects its non-SDPA fallback, which never runs on torch >= 2); key masks only.
RoPE rotates halves ([x1, x2] -> [-x2, x1]) with inv_freq = 10000 ** (-2i / d) over positions
0..L-1 of the rotated part ("shared": all tokens; "x_only": latents only; "dual": separate
tables for the extra tokens and the latents).

Only the options the released flow-matching class can run are built: `input_type="1d"`,
context fusion "cross" (the class passes unpadded per-prompt T5 states, which "concat" cannot
take), no class embedding (`cls_dim`: the class never passes one).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import torch
from torch import nn

from harness.errors import WeightsError
from systems.semanticvocoder.udit_layers import AdaLN, Attention, FeedForward, PositionEmbedding, make_norm, modulate

TIME_FUSIONS = ("token", "ada", "ada_single", "ada_sola", "ada_sola_bias")
ACTIVATIONS = ("gelu", "gelu-approximate", "geglu", "geglu-approximate", "snake", "gesnake")
PE_METHODS = ("abs", "sinu", "conv", "none")
ROPE_MODES = ("none", "shared", "x_only", "dual")


@dataclass(frozen=True)
class UDiTConfig:
    """The original UDiT's constructor arguments (defaults = its signature, except the three
    the flow-matching class requires: input_type "1d", context fusion "cross", no cls_dim)."""

    img_size: int = 250
    patch_size: int = 1
    in_chans: int = 768
    out_chans: int | None = None
    embed_dim: int = 768
    depth: int = 12
    num_heads: int = 12
    mlp_ratio: float = 4.0
    qkv_bias: bool = False
    qk_norm: str | None = None
    act_layer: str = "gelu"
    norm_layer: str = "layernorm"
    context_norm: bool = False
    time_fusion: str = "token"
    ada_sola_rank: int | None = None
    ada_sola_alpha: float | None = None
    context_dim: int = 768
    context_max_length: int = 128
    context_pe_method: str = "sinu"
    pe_method: str = "abs"
    rope_mode: str = "none"
    use_conv: bool = True
    skip: bool = True
    skip_norm: bool = True
    input_type: str = "1d"
    context_fusion: str = "cross"

    IGNORED = ("_target_", "use_checkpoint", "qk_scale", "cls_dim")
    """Accepted and without effect at inference: gradient checkpointing; `qk_scale` (SDPA path);
    `cls_dim` must be null (checked)."""

    @property
    def out_channels(self) -> int:
        return self.in_chans if self.out_chans is None else self.out_chans

    @property
    def num_patches(self) -> int:
        return self.img_size // self.patch_size

    @classmethod
    def from_kwargs(cls, node: Mapping[str, Any], item: str) -> UDiTConfig:
        """The backbone node of the published config; anything not implemented is refused by name."""
        fix = "use the config.json published with the SemanticVocoder text-to-audio model"
        known = {f.name for f in fields(cls)}
        unknown = sorted(k for k in node if k not in known and k not in cls.IGNORED)
        if unknown:
            raise WeightsError(item, f"backbone keys sabench does not implement: {unknown}", fix)
        if node.get("cls_dim") is not None:
            raise WeightsError(item, "backbone cls_dim is set, but the flow-matching class never "
                               "passes a class token", fix)
        cfg = cls(**{k: v for k, v in node.items() if k in known})
        checks = [("input_type", ("1d",)), ("context_fusion", ("cross",)),
                  ("time_fusion", TIME_FUSIONS), ("act_layer", ACTIVATIONS),
                  ("norm_layer", ("layernorm", "rmsnorm")), ("qk_norm", (None, "layernorm", "rmsnorm")),
                  ("pe_method", PE_METHODS), ("context_pe_method", PE_METHODS),
                  ("rope_mode", ROPE_MODES)]
        for name, allowed in checks:
            if getattr(cfg, name) not in allowed:
                raise WeightsError(item, f"backbone {name}={getattr(cfg, name)!r} not in {allowed}", fix)
        if cfg.time_fusion.startswith("ada_sola") and not (cfg.ada_sola_rank and cfg.ada_sola_alpha):
            raise WeightsError(item, f"time_fusion {cfg.time_fusion} needs ada_sola_rank/alpha", fix)
        if cfg.embed_dim % cfg.num_heads:
            raise WeightsError(item, f"embed_dim {cfg.embed_dim} not divisible by {cfg.num_heads} heads", fix)
        return cfg


class TimestepEmbedder(nn.Module):
    """[cos | sin](t * 10000 ** (-i / 128)), i < 128 -> Linear(256, D) -> SiLU -> Linear(D, D)."""

    def __init__(self, dim: int, freq_dim: int = 256):
        super().__init__()
        self.freq_dim = freq_dim
        self.mlp = nn.Sequential(nn.Linear(freq_dim, dim), nn.SiLU(), nn.Linear(dim, dim))

    def forward(self, t: torch.Tensor) -> torch.Tensor:                     # (B,) -> (B, D)
        half = self.freq_dim // 2
        freqs = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float32) / half)
        args = t[:, None].float() * freqs.to(t.device)[None]                 # (B, 128)
        emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)          # (B, 256)
        return self.mlp(emb.to(self.mlp[0].weight.dtype))


class DiTBlock(nn.Module):
    def __init__(self, cfg: UDiTConfig, skip: bool):
        super().__init__()
        D = cfg.embed_dim
        self.norm1 = make_norm(cfg.norm_layer, D)
        self.attn = Attention(D, cfg.num_heads, None, cfg.qkv_bias, cfg.qk_norm, cfg.rope_mode)
        self.cross_attn = Attention(D, cfg.num_heads, D, cfg.qkv_bias, cfg.qk_norm, "none")
        self.norm2 = make_norm(cfg.norm_layer, D)
        self.norm_context = make_norm(cfg.norm_layer, D) if cfg.context_norm else nn.Identity()
        self.norm3 = make_norm(cfg.norm_layer, D)
        self.mlp = FeedForward(D, cfg.mlp_ratio, cfg.act_layer)
        self.use_adanorm = cfg.time_fusion != "token"
        if self.use_adanorm:
            self.adaln = AdaLN(D, cfg.time_fusion, cfg.ada_sola_rank, cfg.ada_sola_alpha)
        self.skip_linear = None
        if skip:
            self.skip_norm = make_norm(cfg.norm_layer, 2 * D) if cfg.skip_norm else nn.Identity()
            self.skip_linear = nn.Linear(2 * D, D)

    def forward(self, x, t, shared, skip, context, context_mask, extras: int) -> torch.Tensor:
        if self.skip_linear is not None:
            x = self.skip_linear(self.skip_norm(torch.cat([x, skip], dim=-1)))  # (B, L, D)
        if self.use_adanorm:
            s1, c1, g1, s2, c2, g2 = self.adaln(t, shared).chunk(6, dim=1)   # each (B, 1, D)
            x = x + (1 - g1) * self.attn(modulate(self.norm1(x), s1, c1), extras=extras)
        else:
            x = x + self.attn(self.norm1(x), extras=extras)
        x = x + self.cross_attn(self.norm2(x), self.norm_context(context), context_mask, extras)
        if self.use_adanorm:
            return x + (1 - g2) * self.mlp(modulate(self.norm3(x), s2, c2))
        return x + self.mlp(self.norm3(x))


class FinalBlock(nn.Module):
    def __init__(self, cfg: UDiTConfig):
        super().__init__()
        self.norm = make_norm(cfg.norm_layer, cfg.embed_dim)
        self.linear = nn.Linear(cfg.embed_dim, cfg.patch_size * cfg.out_channels)
        c = cfg.out_channels
        self.final_layer = nn.Conv1d(c, c, 3, padding=1) if cfg.use_conv else nn.Identity()
        self.channels, self.use_adanorm = c, cfg.time_fusion != "token"

    def forward(self, x: torch.Tensor, ada: torch.Tensor | None, extras: int) -> torch.Tensor:
        x = x[:, extras:]                                                    # (B, N, D) latents only
        B, N, _ = x.shape
        if self.use_adanorm:
            shift, scale = ada.reshape(B, 2, -1).chunk(2, dim=1)             # (B, 1, D) each
            x = modulate(self.norm(x), shift, scale)
        else:
            x = self.norm(x)
        x = self.linear(x).reshape(B, N, -1, self.channels)                  # (B, N, p, C)
        return self.final_layer(x.reshape(B, -1, self.channels).transpose(1, 2))  # (B, C, N p)


class UDiT(nn.Module):
    """Velocity network v(x, t, context): (B, C, T) -> (B, C_out, T); T a multiple of p and
    T / p <= img_size / p when the latent position embedding is learned ("abs")."""

    def __init__(self, cfg: UDiTConfig):
        super().__init__()
        self.cfg, D = cfg, cfg.embed_dim
        self.patch_embed = nn.Module()
        self.patch_embed.proj = nn.Conv1d(cfg.in_chans, D, cfg.patch_size, stride=cfg.patch_size)
        self.x_pe = PositionEmbedding(D, cfg.pe_method, cfg.num_patches)
        self.time_embed = TimestepEmbedder(D)
        self.extras = 0
        if cfg.time_fusion == "token":
            self.extras = 1
            self.time_pe = PositionEmbedding(D, "abs", 1)
        else:
            self.time_act = nn.SiLU()
            self.time_ada_final = nn.Linear(D, 2 * D)
            if cfg.time_fusion != "ada":
                self.time_ada = nn.Linear(D, 6 * D)
        self.context_embed = nn.Sequential(nn.Linear(cfg.context_dim, D), nn.SiLU(), nn.Linear(D, D))
        self.context_pe = PositionEmbedding(D, cfg.context_pe_method, cfg.context_max_length)
        half = cfg.depth // 2
        self.in_blocks = nn.ModuleList([DiTBlock(cfg, skip=False) for _ in range(half)])
        self.mid_block = DiTBlock(cfg, skip=False)
        self.out_blocks = nn.ModuleList([DiTBlock(cfg, skip=cfg.skip) for _ in range(half)])
        self.final_block = FinalBlock(cfg)

    def forward(self, x: torch.Tensor, timesteps: torch.Tensor, context: torch.Tensor,
                context_mask: torch.Tensor | None = None) -> torch.Tensor:
        """x (B, C, T); timesteps (B,) integers in [0, 1000]; context (B, L, Dc); mask (B, L)."""
        cfg = self.cfg
        if x.shape[-1] % cfg.patch_size:
            raise ValueError(f"latent length {x.shape[-1]} is not a multiple of patch {cfg.patch_size}")
        if cfg.context_pe_method in ("abs", "sinu") and context.shape[1] > cfg.context_max_length:
            raise ValueError(f"{context.shape[1]} text tokens > context_max_length {cfg.context_max_length}")
        h = self.x_pe(self.patch_embed.proj(x).transpose(1, 2))             # (B, N, D)
        c = self.context_pe(self.context_embed(context))                     # (B, L, D)
        t = self.time_embed(timesteps)                                       # (B, D)
        shared = final = None
        if cfg.time_fusion == "token":
            h = torch.cat([self.time_pe(t[:, None]), h], dim=1)             # (B, 1 + N, D)
        else:
            t = self.time_act(t)
            final = self.time_ada_final(t)                                   # (B, 2D)
            shared = self.time_ada(t) if cfg.time_fusion != "ada" else None  # (B, 6D)
        skips = []
        for blk in self.in_blocks:
            h = blk(h, t, shared, None, c, context_mask, self.extras)
            skips.append(h)
        h = self.mid_block(h, t, shared, None, c, context_mask, self.extras)
        for blk in self.out_blocks:
            skip = skips.pop()
            h = blk(h, t, shared, skip if cfg.skip else None, c, context_mask, self.extras)
        return self.final_block(h, final, self.extras)                       # (B, C_out, T)
