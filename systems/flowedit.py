"""FlowEdit (Kulikov et al. 2025): inversion-free editing over any flow-matching velocity.

Shared by every adapter (SemanticAudio's planner space, the Base Model's acoustic space,
TangoFlux, Resonate). The caller supplies `v(x, t, cond, cfg) -> velocity` in the
convention x_t = (1 - t) x0 + t eps, v = eps - x0 (t = 1 noise, t = 0 data), with CFG
applied inside `v` (v_u + cfg (v_c - v_u)); `cond=None` must mean null conditioning.

Algorithm (timesteps t_0 = 1 > t_1 > ... > t_T = 0, default linspace(1, 0, T + 1)):

    z = x_src
    for i in 0..T-1:
        if T - i > n_max: skip                                   # start at t_{T - n_max}
        if T - i > n_min:                                        # inversion-free phase
            V = mean over n_avg fresh eps of
                v(z + z_src - x_src, t_i, tar, w_tar) - v(z_src, t_i, src, w_src),
                with z_src = (1 - t_i) x_src + t_i eps
            z = z + (t_{i+1} - t_i) V
        else:                                                    # last n_min steps: sampling
            at the first such step: x = z + (t_i eps + (1 - t_i) x_src) - x_src  (fresh eps)
            x = x + (t_{i+1} - t_i) v(x, t_i, tar, w_tar)
    return z if n_min == 0 else x

The reference SD3 code raises NameError for n_min > 0 (undefined dtype name); here the
n_min > 0 branch is implemented and tested. All state is float32; noise comes from explicit
per-row generators. Cost per edit: n_avg * 2 velocity calls per edited step for the
first (n_max - n_min) edited steps, plus one per step for the last n_min
(each call is 1 or 2 network rows depending on its CFG).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch

Velocity = Callable[[torch.Tensor, float, Any, float], torch.Tensor]


@dataclass(frozen=True)
class FlowEditConfig:
    steps: int = 50
    n_max: int = 42
    """Edited steps: start at t = n_max / steps (0.84 at the defaults; see docs)."""
    n_min: int = 0
    n_avg: int = 1
    src_cfg: float = 1.0
    tar_cfg: float = 5.0

    def __post_init__(self) -> None:
        if not (0 <= self.n_min <= self.n_max <= self.steps) or self.n_avg < 1:
            raise ValueError(f"FlowEdit needs 0 <= n_min <= n_max <= steps and n_avg >= 1, got {self}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_params(cls, params: dict, prefix: str = "edit_") -> FlowEditConfig:
        """From a system's flat parameters: edit_steps, edit_n_max, edit_n_min, edit_n_avg,
        edit_src_cfg, edit_tar_cfg (missing ones keep the defaults)."""
        kinds = {"steps": int, "n_max": int, "n_min": int, "n_avg": int, "src_cfg": float, "tar_cfg": float}
        return cls(**{k: t(params[prefix + k]) for k, t in kinds.items() if prefix + k in params})

    def network_calls(self) -> int:
        """Velocity calls per edit (each is one batched network forward)."""
        return 2 * self.n_avg * (self.n_max - self.n_min) + self.n_min


def _randn_rows(shape: tuple[int, ...], gens: Sequence[torch.Generator], device) -> torch.Tensor:
    """(B, ...) standard normal, row b drawn from gens[b] on CPU (batch-composition independent)."""
    rows = [torch.randn(shape[1:], generator=g) for g in gens]
    return torch.stack(rows).to(device)


def flowedit(v: Velocity, x_src: torch.Tensor, src_cond: Any, tar_cond: Any, cfg: FlowEditConfig,
             generators: Sequence[torch.Generator], timesteps: Sequence[float] | None = None) -> torch.Tensor:
    """Edit clean latents x_src (B, T, C) from src_cond to tar_cond. Returns (B, T, C) float32."""
    if len(generators) != x_src.shape[0]:
        raise ValueError(f"need one generator per row: {len(generators)} for batch {x_src.shape[0]}")
    T = cfg.steps
    ts = list(timesteps) if timesteps is not None else torch.linspace(1.0, 0.0, T + 1).tolist()
    if len(ts) != T + 1:
        raise ValueError(f"timesteps must have steps + 1 = {T + 1} entries, got {len(ts)}")
    x_src = x_src.float()                                              # (B, T, C)
    z = x_src.clone()
    x_tar = None
    for i in range(T):
        if T - i > cfg.n_max:
            continue
        t_i, t_next = float(ts[i]), float(ts[i + 1])
        if T - i > cfg.n_min:
            delta = torch.zeros_like(z)
            for _ in range(cfg.n_avg):
                eps = _randn_rows(tuple(x_src.shape), generators, x_src.device)  # (B, T, C)
                z_src = (1 - t_i) * x_src + t_i * eps                 # (B, T, C)
                z_tar = z + z_src - x_src                              # (B, T, C) same eps
                v_tar = v(z_tar, t_i, tar_cond, cfg.tar_cfg).float()
                v_src = v(z_src, t_i, src_cond, cfg.src_cfg).float()
                delta = delta + (v_tar - v_src) / cfg.n_avg
            z = z + (t_next - t_i) * delta                             # (B, T, C)
        else:
            if x_tar is None:                                          # i == T - n_min
                eps = _randn_rows(tuple(x_src.shape), generators, x_src.device)
                x_tar = z + (t_i * eps + (1 - t_i) * x_src) - x_src    # (B, T, C)
            x_tar = x_tar + (t_next - t_i) * v(x_tar, t_i, tar_cond, cfg.tar_cfg).float()
    return z if cfg.n_min == 0 else x_tar
