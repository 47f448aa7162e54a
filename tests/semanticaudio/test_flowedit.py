"""FlowEdit over generic velocity callables."""

from __future__ import annotations

import pytest
import torch

from harness.seeding import torch_generator
from systems.flowedit import FlowEditConfig, flowedit


def v_fn(x, t, cond, cfg):
    """A simple nonlinear conditional field with CFG folded in (cond None = null)."""
    c = 0.0 if cond is None else cond
    return torch.tanh(x) * (1 + cfg * c) + t * c


def gens(n, seed=0):
    return [torch_generator(seed + i) for i in range(n)]


def test_target_equals_source_returns_source():
    """n_min = 0: V_delta = v(z + z_src - x_src) - v(z_src) = 0 up to the rounding of
    (x + z_src) - x; tolerance 1e-5 (float32 rounding of O(1) values over 42 steps)."""
    x = torch.randn(2, 5, 3, generator=torch_generator(1))
    out = flowedit(v_fn, x, 0.7, 0.7, FlowEditConfig(src_cfg=2.0, tar_cfg=2.0), gens(2))
    assert (out - x).abs().max() < 1e-5


def test_edit_moves_towards_target_and_is_deterministic():
    x = torch.randn(2, 5, 3, generator=torch_generator(1))
    cfg = FlowEditConfig(steps=10, n_max=8, n_avg=2)
    a = flowedit(v_fn, x, None, 1.0, cfg, gens(2))
    b = flowedit(v_fn, x, None, 1.0, cfg, gens(2))
    assert torch.equal(a, b)
    assert (a - x).abs().max() > 1e-2


def test_matches_hand_written_loop():
    """Independent re-implementation of the reference loop (n_min = 0, n_avg = 2)."""
    x = torch.randn(1, 4, 2, generator=torch_generator(2))
    cfg = FlowEditConfig(steps=6, n_max=4, n_avg=2, src_cfg=1.0, tar_cfg=3.0)
    out = flowedit(v_fn, x, 0.2, 0.9, cfg, gens(1, 7))
    g = torch_generator(7)
    ts = [1 - i / 6 for i in range(7)]
    z = x.clone()
    for i in range(2, 6):
        d = 0
        for _ in range(2):
            eps = torch.randn(4, 2, generator=g)[None]
            zs = (1 - ts[i]) * x + ts[i] * eps
            d = d + (v_fn(z + zs - x, ts[i], 0.9, 3.0) - v_fn(zs, ts[i], 0.2, 1.0)) / 2
        z = z + (ts[i + 1] - ts[i]) * d
    assert torch.allclose(out, z, atol=1e-6)


def test_n_min_branch_runs_and_matches_sdedit_when_n_min_equals_n_max():
    """n_min = n_max: no inversion-free step; noise the source to t_{T-n_min}, then sample."""
    x = torch.randn(1, 4, 2, generator=torch_generator(3))
    cfg = FlowEditConfig(steps=5, n_max=3, n_min=3, tar_cfg=2.0)
    out = flowedit(v_fn, x, None, 0.5, cfg, gens(1, 11))
    g = torch_generator(11)
    ts = [1 - i / 5 for i in range(6)]
    eps = torch.randn(4, 2, generator=g)[None]
    xt = ts[2] * eps + (1 - ts[2]) * x
    for i in range(2, 5):
        xt = xt + (ts[i + 1] - ts[i]) * v_fn(xt, ts[i], 0.5, 2.0)
    assert torch.allclose(out, xt, atol=1e-6)
    mixed = flowedit(v_fn, x, None, 0.5, FlowEditConfig(steps=5, n_max=4, n_min=2), gens(1))
    assert mixed.shape == x.shape and torch.isfinite(mixed).all()


def test_network_call_count():
    calls = []
    counting = lambda x, t, c, w: (calls.append(1), v_fn(x, t, c, w))[1]  # noqa: E731
    cfg = FlowEditConfig(steps=12, n_max=9, n_min=2, n_avg=3)
    flowedit(counting, torch.zeros(1, 2, 2), None, 1.0, cfg, gens(1))
    assert len(calls) == cfg.network_calls() == 2 * 3 * 7 + 2
    assert FlowEditConfig().network_calls() == 84


def test_bad_config_and_generators():
    with pytest.raises(ValueError):
        FlowEditConfig(steps=10, n_max=11)
    with pytest.raises(ValueError):
        FlowEditConfig(n_min=5, n_max=4)
    with pytest.raises(ValueError, match="generator"):
        flowedit(v_fn, torch.zeros(2, 2, 2), None, 1.0, FlowEditConfig(), gens(1))
