"""Flow matching: interpolation/target, logit-normal times, one-batch CFG, Euler sampler."""

from __future__ import annotations

import torch

from harness.seeding import torch_generator
from systems.semanticaudio.dit import DiT, preset
from systems.semanticaudio.flow import Cond, FlowConfig, euler_sample, flow_loss, guided_velocity, sample_t


def _net_and_cond(seed=0, B=2, T=6):
    g = torch_generator(seed)
    net = DiT(preset("tiny", in_dim=4, text_dim=8, global_dim=8))
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.1)
    cond = Cond(torch.randn(B, 3, 8, generator=g), torch.ones(B, 3, dtype=torch.bool), torch.randn(B, 8, generator=g))
    return net.eval(), cond, torch.randn(B, T, 4, generator=g)


def test_logit_normal_times():
    t = sample_t(20000, FlowConfig(), torch_generator(0))
    logit = torch.log(t / (1 - t))
    assert 0 < t.min() and t.max() < 1
    assert abs(float(logit.mean())) < 0.03 and abs(float(logit.std()) - 1) < 0.03   # ~5 sigma of sampling error


def test_loss_matches_hand_computation():
    """flow_loss = mean((net(x_t, t) - (eps - x0))^2) with x_t = (1 - t) x0 + t eps, same draws."""
    net, cond, x0 = _net_and_cond()
    cfg = FlowConfig(cond_dropout=0.0)
    loss = flow_loss(net, x0, cond, cfg, torch_generator(5))
    g = torch_generator(5)
    t = sample_t(2, cfg, g)
    eps = torch.randn(x0.shape, generator=g)
    torch.rand(2, generator=g)
    xt = (1 - t[:, None, None]) * x0 + t[:, None, None] * eps
    ref = ((net(xt, t, cond.tokens, cond.mask, cond.glob) - (eps - x0)) ** 2).mean()
    assert torch.allclose(loss, ref, rtol=1e-6)


def test_cfg_one_equals_conditional_pass():
    net, cond, x = _net_and_cond()
    v = guided_velocity(net, x, 0.3, cond, 1.0)
    ref = net(x, torch.full((2,), 0.3), cond.tokens, cond.mask, cond.glob)
    assert torch.equal(v, ref)


def test_cfg_one_batch_equals_two_passes():
    net, cond, x = _net_and_cond()
    w = 4.5
    v = guided_velocity(net, x, 0.7, cond, w)
    t = torch.full((2,), 0.7)
    v_c = net(x, t, cond.tokens, cond.mask, cond.glob)
    v_u = net(x, t, cond.tokens, cond.mask, cond.glob, None, torch.ones(2, dtype=torch.bool))
    assert torch.allclose(v, v_u + w * (v_c - v_u), atol=1e-5)   # batched vs separate matmuls: float error only


def test_euler_recovers_point_mass_exactly():
    """For data = point mass a, the exact field is v = (x - a) / t and Euler is exact on it."""
    a = torch.tensor([[[1.5, -2.0, 0.25]]])
    noise = torch.randn(1, 1, 3, generator=torch_generator(3))
    x = euler_sample(lambda x, t: (x - a) / t, noise, steps=7)
    assert torch.allclose(x, a, atol=1e-5)


def test_euler_step_count_and_direction():
    """Constant v: x_0 = x_1 - v (integrating t from 1 to 0), independent of step count."""
    v = torch.full((1, 2, 2), 0.5)
    for steps in (1, 4, 50):
        x = euler_sample(lambda x, t: v, torch.zeros(1, 2, 2), steps)
        assert torch.allclose(x, -v, atol=1e-6), steps
