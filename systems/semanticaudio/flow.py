"""Rectified-flow matching: one convention for training, sampling and editing.

Convention (the same as TangoFlux, Resonate, SD3 and FlowEdit):

    x_t = (1 - t) * x0 + t * eps          t = 0 data, t = 1 noise, eps ~ N(0, I)
    v*  = eps - x0                         the network's regression target
    sampling: Euler from t = 1 to t = 0 on linspace(1, 0, N + 1):  x <- x + (t_next - t) * v

The SemanticAudio paper writes the opposite direction (noise at t = 0, data at t = 1);
only the sign convention differs, the learned field is the same up to t -> 1 - t, v -> -v.

Training draws t from a logit-normal, t = sigmoid(N(mean, std)), and drops both text
conditions (T5 tokens and the CLAP global vector, together) to the DiT's learned null
embeddings with probability `cond_dropout` (0.1). Classifier-free guidance evaluates the
conditional and unconditional rows in ONE batch: v = v_u + w (v_c - v_u); w == 1 skips the
unconditional rows entirely, so it equals the conditional pass exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch


@dataclass
class Cond:
    """Conditions for one batch. tokens (B, L, Dt), mask (B, L) bool, glob (B, Dg),
    frames (B, T, Df) or None (frame-aligned condition for the synthesizer)."""

    tokens: torch.Tensor
    mask: torch.Tensor
    glob: torch.Tensor
    frames: torch.Tensor | None = None

    def repeat2(self) -> Cond:
        """The batch stacked twice (rows [cond; uncond]) for one-batch CFG."""
        cat = lambda a: None if a is None else torch.cat([a, a], dim=0)  # noqa: E731
        return Cond(cat(self.tokens), cat(self.mask), cat(self.glob), cat(self.frames))

    def index(self, idx) -> Cond:
        sel = lambda a: None if a is None else a[idx]  # noqa: E731
        return Cond(sel(self.tokens), sel(self.mask), sel(self.glob), sel(self.frames))

    def to(self, device, dtype=None) -> Cond:
        mv = lambda a: None if a is None else a.to(device=device, dtype=dtype if a.is_floating_point() else None)  # noqa: E731
        return Cond(mv(self.tokens), self.mask.to(device), mv(self.glob), mv(self.frames))


@dataclass(frozen=True)
class FlowConfig:
    t_mean: float = 0.0
    t_std: float = 1.0
    cond_dropout: float = 0.1

    def to_dict(self) -> dict:
        return {"t_mean": self.t_mean, "t_std": self.t_std, "cond_dropout": self.cond_dropout}


def sample_t(n: int, cfg: FlowConfig, gen: torch.Generator) -> torch.Tensor:
    """Logit-normal times: (n,) float32 in (0, 1)."""
    return torch.sigmoid(cfg.t_mean + cfg.t_std * torch.randn(n, generator=gen))


def flow_loss(net, x0: torch.Tensor, cond: Cond, cfg: FlowConfig, gen: torch.Generator,
              extra: dict | None = None) -> torch.Tensor:
    """Mean squared error between net(x_t, t) and eps - x0. x0: (B, T, C).

    All randomness (t, eps, dropout) comes from `gen` (drawn on CPU, then moved), so a
    training step is a pure function of (params, batch, generator seed)."""
    B = x0.shape[0]
    t = sample_t(B, cfg, gen).to(x0.device)                           # (B,)
    eps = torch.randn(x0.shape, generator=gen).to(x0.device, x0.dtype)  # (B, T, C)
    drop = (torch.rand(B, generator=gen) < cfg.cond_dropout).to(x0.device)  # (B,) bool
    xt = (1 - t[:, None, None]) * x0 + t[:, None, None] * eps          # (B, T, C)
    v = net(xt, t, cond.tokens, cond.mask, cond.glob, cond.frames, drop)  # (B, T, C)
    return ((v.float() - (eps - x0).float()) ** 2).mean()


def guided_velocity(net, x: torch.Tensor, t: float | torch.Tensor, cond: Cond, cfg_scale: float) -> torch.Tensor:
    """v_u + w (v_c - v_u) with both rows in one batch; w == 1 -> conditional pass only."""
    B = x.shape[0]
    tt = torch.as_tensor(t, dtype=torch.float32, device=x.device).expand(B)  # (B,)
    if cfg_scale == 1.0:
        return net(x, tt, cond.tokens, cond.mask, cond.glob, cond.frames, None)  # (B, T, C)
    c2 = cond.repeat2()
    drop = torch.arange(2 * B, device=x.device) >= B                   # (2B,) rows B.. unconditional
    v = net(torch.cat([x, x]), torch.cat([tt, tt]), c2.tokens, c2.mask, c2.glob, c2.frames, drop)  # (2B, T, C)
    v_c, v_u = v[:B], v[B:]
    return v_u + cfg_scale * (v_c - v_u)                               # (B, T, C)


def null_velocity(net, x: torch.Tensor, t: float, cond: Cond) -> torch.Tensor:
    """The unconditional velocity only (FlowEdit's null source condition)."""
    B = x.shape[0]
    tt = torch.full((B,), float(t), device=x.device)
    drop = torch.ones(B, dtype=torch.bool, device=x.device)
    return net(x, tt, cond.tokens, cond.mask, cond.glob, cond.frames, drop)


def euler_sample(velocity: Callable[[torch.Tensor, float], torch.Tensor], noise: torch.Tensor,
                 steps: int) -> torch.Tensor:
    """Integrate dx/dt = v from t = 1 (noise) to t = 0 (data) with `steps` Euler steps."""
    ts = torch.linspace(1.0, 0.0, steps + 1).tolist()
    x = noise.float()                                                  # (B, T, C)
    for t, t_next in zip(ts[:-1], ts[1:], strict=True):
        x = x + (t_next - t) * velocity(x, t).float()                 # (B, T, C)
    return x
