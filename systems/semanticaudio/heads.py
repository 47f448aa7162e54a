"""Projection heads P: frame-level semantic features (B, T, E) -> compact latents (B, T, d).

- "mlp":   Linear(E, 512) -> GELU -> Linear(512, d)      (paper: d in {32, 64, 128})
- "ddt":   Linear(E, E)                                   (paper's d = 1024 "DDT" variant)
- "rawpe": identity (d = E; unprojected semantic features, no parameters)

E is 1024 for PE-A-Frame; the mini world uses a smaller semantic encoder, so it is a knob.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

VARIANTS = ("mlp", "ddt", "rawpe")


@dataclass(frozen=True)
class HeadConfig:
    variant: str = "mlp"
    in_dim: int = 1024
    d: int = 128
    hidden: int = 512

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(f"unknown head variant {self.variant!r}; choose one of {VARIANTS}")
        if self.variant != "mlp" and self.d != self.in_dim:
            raise ValueError(f"head variant {self.variant!r} needs d == in_dim ({self.in_dim}), got d={self.d}")

    @property
    def out_dim(self) -> int:
        return self.d

    def to_dict(self) -> dict:
        return asdict(self)


class ProjectionHead(nn.Module):
    def __init__(self, cfg: HeadConfig):
        super().__init__()
        self.cfg = cfg
        if cfg.variant == "mlp":
            self.net = nn.Sequential(nn.Linear(cfg.in_dim, cfg.hidden), nn.GELU(), nn.Linear(cfg.hidden, cfg.d))
        elif cfg.variant == "ddt":
            self.net = nn.Linear(cfg.in_dim, cfg.in_dim)
        else:
            self.net = nn.Identity()

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        """feats: (B, T, E) semantic frames at 25 fps -> (B, T, d)."""
        return self.net(feats)
