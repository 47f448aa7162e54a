"""The TangoFlux network (declare-lab/TangoFlux, arXiv 2412.21037), rebuilt for strict loading.

Pieces and checkpoint prefixes (`tangoflux.safetensors`):
- `transformer.*`: diffusers `FluxTransformer2DModel` (6 double-stream + 18 single-stream
  blocks, 8 heads x 128, joint attention over [T5 tokens ; duration token], RoPE axes
  (16, 56, 56) with audio ids `arange(645)` on all three axes and zero text ids);
- `text_encoder.*`: the frozen flan-t5-large `T5EncoderModel` (its weights ship inside the
  checkpoint; only the tokenizer and config are read from the flan-t5-large folder);
- `fc.*`: pooled text = masked mean of T5 states -> Linear(1024, 1024) + ReLU (adaLN input);
- `duration_emebdder.*` [sic]: seconds clamped to [0, 30], normalised to [0, 1], learned
  Fourier features (128 frequencies: [t, sin, cos] = 257) -> Linear(257, 1024), one token.

The published file stores the tied T5 input embedding once (`text_encoder.shared.weight`);
`text_encoder.encoder.embed_tokens.weight` is the same tensor and is re-tied after loading.
That is the only key the original loads non-strictly (`strict=False` in `TangoFluxInference`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn

TIED_KEYS = ("text_encoder.encoder.embed_tokens.weight",)
"""Keys absent from the published checkpoint because they are tied to `text_encoder.shared`."""


@dataclass(frozen=True)
class TangoFluxConfig:
    """Architecture numbers; defaults are the published `config.json` / tangoflux_config.yaml."""

    num_layers: int = 6
    num_single_layers: int = 18
    in_channels: int = 64
    attention_head_dim: int = 128
    num_attention_heads: int = 8
    joint_attention_dim: int = 1024
    audio_seq_len: int = 645
    max_duration: float = 30.0
    axes_dims_rope: tuple[int, int, int] = (16, 56, 56)
    vae: dict = field(default_factory=dict)
    """AutoencoderOobleck kwargs; {} = diffusers defaults (what TangoFlux inference builds)."""

    @classmethod
    def from_json(cls, cfg: dict) -> TangoFluxConfig:
        """The released config.json (unknown keys such as text_encoder_name are ignored)."""
        names = {f for f in cls.__dataclass_fields__}
        kept = {k: v for k, v in cfg.items() if k in names}
        if "axes_dims_rope" in kept:
            kept["axes_dims_rope"] = tuple(kept["axes_dims_rope"])
        return cls(**kept)


TINY = TangoFluxConfig(num_layers=1, num_single_layers=1, in_channels=8, attention_head_dim=16,
                       num_attention_heads=2, joint_attention_dim=32, audio_seq_len=12,
                       axes_dims_rope=(4, 6, 6),
                       vae=dict(encoder_hidden_size=16, channel_multiples=[1, 1, 1, 1, 1],
                                decoder_channels=4, decoder_input_channels=8))
"""Tests: same classes and code path, small sizes (12 latents = 24,576 samples = 0.557 s)."""


class FourierTimes(nn.Module):
    """Learned Fourier features of a scalar in [0, 1]: (B,) -> (B, 1 + 2 F)."""

    def __init__(self, dim: int):
        super().__init__()
        self.weights = nn.Parameter(torch.randn(dim // 2))  # (F,) learned frequencies

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        t = t[:, None]                                        # (B, 1)
        ang = t * self.weights[None] * 2 * math.pi            # (B, F)
        return torch.cat([t, ang.sin(), ang.cos()], dim=-1)   # (B, 1 + 2F)


class DurationToken(nn.Module):
    """Seconds -> one conditioning token: (B,) -> (B, 1, D)."""

    def __init__(self, dim: int, max_value: float, internal: int = 256):
        super().__init__()
        self.max_value = float(max_value)
        self.time_positional_embedding = nn.Sequential(FourierTimes(internal),
                                                       nn.Linear(internal + 1, dim))

    def forward(self, seconds: torch.Tensor) -> torch.Tensor:
        x = seconds.float().clamp(0.0, self.max_value) / self.max_value  # (B,) in [0, 1]
        return self.time_positional_embedding(x)[:, None, :]              # (B, 1, D)


@dataclass
class TangoCond:
    """One conditioning: joint-attention tokens and the pooled adaLN vector."""

    tokens: torch.Tensor   # (B, L + 1, D): T5 states then the duration token
    pooled: torch.Tensor   # (B, D): fc(masked mean of T5 states)


class TangoFluxNet(nn.Module):
    """transformer + text_encoder + fc + duration_emebdder, named as in the checkpoint."""

    def __init__(self, cfg: TangoFluxConfig, t5_config):
        super().__init__()
        from harness.extras import require

        FluxTransformer2DModel = require("diffusers", extra="tangoflux", item="system tangoflux").FluxTransformer2DModel
        T5EncoderModel = require("transformers", extra="tangoflux", item="system tangoflux").T5EncoderModel

        d_text = int(t5_config.d_model)
        self.cfg = cfg
        self.text_encoder = T5EncoderModel(t5_config)
        self.fc = nn.Sequential(nn.Linear(d_text, cfg.joint_attention_dim), nn.ReLU())
        self.duration_emebdder = DurationToken(d_text, cfg.max_duration)
        self.transformer = FluxTransformer2DModel(
            in_channels=cfg.in_channels, num_layers=cfg.num_layers,
            num_single_layers=cfg.num_single_layers, attention_head_dim=cfg.attention_head_dim,
            num_attention_heads=cfg.num_attention_heads, joint_attention_dim=cfg.joint_attention_dim,
            pooled_projection_dim=d_text, guidance_embeds=False, axes_dims_rope=cfg.axes_dims_rope)

    def tie(self) -> None:
        """Re-tie the T5 input embedding to `shared` (the tied key absent from the file)."""
        self.text_encoder.encoder.embed_tokens.weight = self.text_encoder.shared.weight

    def condition(self, states: torch.Tensor, mask: torch.Tensor, seconds: float) -> TangoCond:
        """T5 states (B, L, D) + mask (B, L) -> tokens with the duration token, pooled vector."""
        m = mask[..., None].float()                                          # (B, L, 1)
        pooled = (states * m).sum(1) / m.sum(1).clamp_min(1.0)               # (B, D) masked mean
        secs = torch.full((states.shape[0],), float(seconds), device=states.device)
        dur = self.duration_emebdder(secs)                                   # (B, 1, D)
        return TangoCond(tokens=torch.cat([states, dur], dim=1), pooled=self.fc(pooled))

    def velocity(self, x: torch.Tensor, sigma: float, cond: TangoCond) -> torch.Tensor:
        """Flow velocity (noise - data) at noise level sigma: x (B, N, C) -> (B, N, C)."""
        b, n, _ = x.shape
        dev = x.device
        img_ids = torch.arange(n, dtype=torch.float32, device=dev)[:, None].repeat(1, 3)  # (N, 3)
        txt_ids = torch.zeros(cond.tokens.shape[1], 3, device=dev)              # (L + 1, 3)
        return self.transformer(
            hidden_states=x, encoder_hidden_states=cond.tokens, pooled_projections=cond.pooled,
            timestep=torch.full((b,), float(sigma), device=dev), img_ids=img_ids, txt_ids=txt_ids,
            return_dict=False)[0]


def build_vae(cfg: TangoFluxConfig):
    """The Stable Audio Open Oobleck VAE (44.1 kHz stereo, hop 2048, 64 channels by default)."""
    from harness.extras import require

    AutoencoderOobleck = require("diffusers", extra="tangoflux", item="system tangoflux").AutoencoderOobleck

    return AutoencoderOobleck(**cfg.vae)


def cat_cond(a: TangoCond, b: TangoCond) -> TangoCond:
    """Batch two conditionings with equal token length: [a ; b]."""
    return TangoCond(torch.cat([a.tokens, b.tokens]), torch.cat([a.pooled, b.pooled]))
