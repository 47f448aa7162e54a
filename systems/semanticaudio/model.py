"""The three flow models, one class: `FlowModel` = DiT + latent normalisation (+ head).

- Acoustic Synthesizer: stage "synthesizer"; generates acoustic latents (B, T, 128);
  frame-aligned condition = head(semantic frames); the head is trained jointly.
- Semantic Planner: stage "planner"; generates head outputs (B, T, d) from text alone.
- Base Model: stage "base"; generates acoustic latents from text alone.

The network works in normalised space x_n = (x - mean) / std (per channel; statistics
computed from the training data and stored as buffers in the checkpoint). `sample` and
`edit` take and return raw (de-normalised) latents.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from systems.flowedit import FlowEditConfig, flowedit
from systems.semanticaudio.dit import DiT, DiTConfig
from systems.semanticaudio.flow import Cond, FlowConfig, euler_sample, flow_loss, guided_velocity, null_velocity
from systems.semanticaudio.heads import HeadConfig, ProjectionHead

STAGES = ("synthesizer", "planner", "base")


@dataclass(frozen=True)
class ModelConfig:
    """Shape-defining configuration of one stage (compared field by field on load)."""

    stage: str
    dit: DiTConfig
    head: HeadConfig | None = None
    """Synthesizer: the jointly trained head. Planner: the frozen head whose outputs it models."""

    def __post_init__(self) -> None:
        if self.stage not in STAGES:
            raise ValueError(f"unknown stage {self.stage!r}; choose one of {STAGES}")
        if self.stage == "synthesizer" and (self.head is None or self.dit.frame_dim != self.head.d):
            raise ValueError("synthesizer needs a head and dit.frame_dim == head.d")
        if self.stage == "planner" and (self.head is None or self.dit.in_dim != self.head.d):
            raise ValueError("planner needs the head config and dit.in_dim == head.d")

    def to_dict(self) -> dict:
        return {"stage": self.stage, "dit": self.dit.to_dict(),
                "head": None if self.head is None else self.head.to_dict()}

    @staticmethod
    def from_dict(d: dict) -> ModelConfig:
        head = None if d.get("head") is None else HeadConfig(**d["head"])
        return ModelConfig(d["stage"], DiTConfig(**d["dit"]), head)


class FlowModel(nn.Module):
    """Initial weights are a function of `seed` only: built inside a forked RNG that is seeded
    and then restored, so construction neither reads nor changes the caller's global RNG."""

    def __init__(self, cfg: ModelConfig, seed: int = 0):
        super().__init__()
        self.cfg = cfg
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed))
            self.dit = DiT(cfg.dit)
            # Synthesizer owns (and trains) the head; the planner's head is loaded frozen separately.
            self.head = ProjectionHead(cfg.head) if cfg.stage == "synthesizer" else None
        C = cfg.dit.in_dim
        self.register_buffer("latent_mean", torch.zeros(C))            # (C,)
        self.register_buffer("latent_std", torch.ones(C))              # (C,)

    # ------------------------------------------------------------------ normalisation
    def set_stats(self, x: torch.Tensor) -> None:
        """Per-channel statistics from training latents x (N, T, C)."""
        flat = x.reshape(-1, x.shape[-1]).double()                    # (N * T, C)
        self.latent_mean.copy_(flat.mean(0).float())
        self.latent_std.copy_(flat.std(0).clamp_min(1e-5).float())

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.latent_mean) / self.latent_std              # (B, T, C)

    def denormalize(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.latent_std + self.latent_mean                # (B, T, C)

    # ------------------------------------------------------------------ training
    def frames(self, semantic: torch.Tensor | None) -> torch.Tensor | None:
        """Synthesizer: raw semantic frames (B, T, E) -> head outputs (B, T, d)."""
        return None if self.head is None or semantic is None else self.head(semantic)

    def loss(self, x: torch.Tensor, cond: Cond, flow: FlowConfig, gen: torch.Generator) -> torch.Tensor:
        """x: raw target latents (B, T, C); cond.frames: raw semantic frames for the synthesizer."""
        c = Cond(cond.tokens, cond.mask, cond.glob, self.frames(cond.frames))
        return flow_loss(self.dit, self.normalize(x), c, flow, gen)

    def forward(self, x, cond, flow, gen):
        """= loss (so DistributedDataParallel can wrap the model)."""
        return self.loss(x, cond, flow, gen)

    # ------------------------------------------------------------------ inference
    def velocity(self, x: torch.Tensor, t: float, cond: Cond | None, cfg_scale: float, null_like: Cond) -> torch.Tensor:
        """Guided velocity in normalised space; cond None = null text conditioning.
        cond.frames here are already head outputs (B, T, d)."""
        if cond is None:
            return null_velocity(self.dit, x, t, null_like)
        return guided_velocity(self.dit, x, t, cond, cfg_scale)

    @torch.no_grad()
    def sample(self, cond: Cond, frames: int, steps: int, cfg_scale: float,
               generators: Sequence[torch.Generator]) -> torch.Tensor:
        """Euler sampling from per-row seeded noise. Returns raw latents (B, frames, C)."""
        C = self.cfg.dit.in_dim
        device = self.latent_mean.device
        noise = torch.stack([torch.randn(frames, C, generator=g) for g in generators]).to(device)  # (B, T, C)
        x = euler_sample(lambda x, t: guided_velocity(self.dit, x, t, cond, cfg_scale), noise, steps)
        return self.denormalize(x)

    @torch.no_grad()
    def edit(self, x_src: torch.Tensor, src: Cond | None, tar: Cond, fe: FlowEditConfig,
             generators: Sequence[torch.Generator]) -> torch.Tensor:
        """FlowEdit raw latents x_src (B, T, C) from src (None = null) to tar; returns raw latents."""
        v = lambda x, t, c, w: self.velocity(x, t, c, w, tar)  # noqa: E731
        z = flowedit(v, self.normalize(x_src.float()), src, tar, fe, generators)
        return self.denormalize(z)


def build(cfg: ModelConfig) -> FlowModel:
    return FlowModel(cfg)


def frozen_head(synth: FlowModel) -> ProjectionHead:
    """The synthesizer's head, detached for planner targets (eval mode, no gradients)."""
    with torch.random.fork_rng(devices=[]):                            # no global RNG side effect
        head = ProjectionHead(synth.cfg.head)
    head.load_state_dict(synth.head.state_dict())
    head.eval().requires_grad_(False)
    return head
