"""DiT backbone: shapes, zero-init, masking, null conditioning, presets and parameter counts."""

from __future__ import annotations

import pytest
import torch

from harness.seeding import torch_generator
from systems.semanticaudio.dit import DiT, DiTConfig, count_parameters, preset


def _inputs(B=3, T=10, L=5, cfg=None, seed=0):
    g = torch_generator(seed)
    cfg = cfg or preset("tiny", in_dim=8, text_dim=16, global_dim=8, frame_dim=4)
    x = torch.randn(B, T, cfg.in_dim, generator=g)
    t = torch.rand(B, generator=g)
    tokens = torch.randn(B, L, cfg.text_dim, generator=g)
    mask = torch.ones(B, L, dtype=torch.bool)
    mask[0, 3:] = False
    glob = torch.randn(B, cfg.global_dim, generator=g)
    frames = torch.randn(B, T, cfg.frame_dim, generator=g) if cfg.frame_dim else None
    return cfg, (x, t, tokens, mask, glob, frames)


def _randomise(net: DiT, seed: int = 0) -> DiT:
    """Give zero-initialised layers random weights, so every branch contributes."""
    g = torch_generator(seed)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.1)
    return net


@pytest.mark.parametrize("adaln", ["zero", "single"])
def test_shapes_and_zero_init(adaln):
    cfg, args = _inputs(cfg=preset("tiny", in_dim=8, text_dim=16, global_dim=8, frame_dim=4, adaln=adaln))
    net = DiT(cfg)
    v = net(*args)
    assert v.shape == (3, 10, 8)
    assert torch.count_nonzero(v) == 0          # zero-init final layer -> v = 0 at initialisation
    v2 = _randomise(net)(*args)
    assert v2.shape == (3, 10, 8) and torch.isfinite(v2).all() and v2.abs().sum() > 0


def test_padding_mask_hides_padded_tokens():
    cfg, (x, t, tokens, mask, glob, frames) = _inputs()
    net = _randomise(DiT(cfg)).eval()
    v1 = net(x, t, tokens, mask, glob, frames)
    tokens2 = tokens.clone()
    tokens2[0, 3:] = 100.0                      # padded positions of row 0 only
    v2 = net(x, t, tokens2, mask, glob, frames)
    assert torch.allclose(v1, v2, atol=1e-5)    # float tolerance: masked keys get zero weight
    tokens2[0, 0] = 100.0                       # a real token changes the output
    assert not torch.allclose(v1, net(x, t, tokens2, mask, glob, frames), atol=1e-3)


def test_drop_uses_null_conditioning_per_row():
    cfg, (x, t, tokens, mask, glob, frames) = _inputs()
    net = _randomise(DiT(cfg)).eval()
    drop = torch.tensor([True, False, True])
    v = net(x, t, tokens, mask, glob, frames, drop)
    # independent computation: the dropped rows with explicit null token (length 1) and null vector
    null_tok = net.null_tokens.detach().expand(3, 1, -1)
    null_glob = net.null_global.detach().expand(3, -1)
    v_null = net(x, t, null_tok, torch.ones(3, 1, dtype=torch.bool), null_glob, frames)
    v_cond = net(x, t, tokens, mask, glob, frames)
    assert torch.allclose(v[drop], v_null[drop], atol=1e-5)
    assert torch.equal(v[~drop], v_cond[~drop]) or torch.allclose(v[~drop], v_cond[~drop], atol=1e-6)


def test_frame_condition_must_align():
    cfg, (x, t, tokens, mask, glob, frames) = _inputs()
    with pytest.raises(ValueError, match="aligned"):
        DiT(cfg)(x, t, tokens, mask, glob, frames[:, :5])


def test_bad_config_refused():
    with pytest.raises(ValueError):
        DiTConfig(width=100, heads=3)
    with pytest.raises(KeyError):
        preset("huge")


def _meta_count(**kw) -> int:
    with torch.device("meta"):
        return count_parameters(DiT(preset("paper", **kw)))


def test_paper_preset_parameter_counts():
    """Paper preset (28 x 1152, 16 heads), T5-large tokens, 128-channel DAC latents.

    Independent count from systems.md section 6: adaLN-Zero block + cross-attention with
    affine LN = 29,220,480 per block. Ours adds nothing else per block."""
    zero = _meta_count(in_dim=128, text_dim=1024, global_dim=1024, adaln="zero")
    single = _meta_count(in_dim=128, text_dim=1024, global_dim=1024, adaln="single")
    D = 1152
    per_block_zero = 29_220_480
    per_block_single = per_block_zero - (D * 6 * D + 6 * D) + 6 * D   # table (6, D) replaces Linear(D, 6D)
    outside = (128 * D + D) + (256 * D + D + D * D + D) + (1024 * D + D + D * D + D) * 2 \
        + 1024 + 1024 + (D * 2 * D + 2 * D) + (D * 128 + 128)          # x_in, t-MLP, CLAP+T5 MLPs, nulls, final
    assert zero == 28 * per_block_zero + outside
    final_single = (D * 128 + 128) + 2 * D                             # PixArt final: table (2, D) + c
    assert single == 28 * per_block_single + outside - (D * 2 * D + 2 * D) - (D * 128 + 128) \
        + final_single + (D * 6 * D + 6 * D)
    assert 825e6 < zero < 828e6                 # ~826 M (adaLN-Zero, as the issue asks)
    assert 609e6 < single < 611e6               # ~610 M: the paper's figure matches adaLN-single


def test_abs_pos_adds_the_sinusoid_of_the_frame_index():
    """abs_pos=True equals the same weights without it whose input projection also adds the
    table cos/sin(i * 10000^(-k/half)), computed here in float64; tolerance 1e-5 (float32
    trig and the tiny DiT's accumulation)."""
    cfg, args = _inputs(cfg=preset("tiny", in_dim=8, text_dim=16, global_dim=8, frame_dim=4, abs_pos=True))
    on = _randomise(DiT(cfg))
    off = DiT(preset("tiny", in_dim=8, text_dim=16, global_dim=8, frame_dim=4))
    off.load_state_dict(on.state_dict())
    T, half = args[0].shape[1], cfg.width // 2
    ang = torch.arange(T, dtype=torch.float64)[:, None] * 10000.0 ** (-torch.arange(half, dtype=torch.float64) / half)
    table = torch.cat([ang.cos(), ang.sin()], dim=-1).float()          # (T, D)
    off.x_in.register_forward_hook(lambda _m, _i, out: out + table)     # x_in(x) + table
    torch.testing.assert_close(on(*args), off(*args), atol=1e-5, rtol=0)
    assert not torch.allclose(on(*args), _plain(on, args), atol=1e-3)   # the table changes the output


def _plain(on: DiT, args) -> torch.Tensor:
    net = DiT(preset("tiny", in_dim=8, text_dim=16, global_dim=8, frame_dim=4))
    net.load_state_dict(on.state_dict())
    return net(*args)


def test_checkpoint_written_before_abs_pos_still_loads(tmp_path):
    """Older config.json files have no abs_pos field: they read as False and load; a checkpoint
    trained with abs_pos is refused by a model built without it, naming the field."""
    import json

    from harness.errors import WeightsError
    from systems.semanticaudio import checkpoint
    from systems.semanticaudio.model import FlowModel, ModelConfig

    cfg = ModelConfig("base", preset("tiny", in_dim=8, text_dim=16, global_dim=8))
    checkpoint.save(tmp_path / "old", FlowModel(cfg))
    conf = json.loads((tmp_path / "old" / "config.json").read_text())
    del conf["model"]["dit"]["abs_pos"]
    (tmp_path / "old" / "config.json").write_text(json.dumps(conf))
    model, _ = checkpoint.load_model(tmp_path / "old")
    assert model.cfg.dit.abs_pos is False
    checkpoint.save(tmp_path / "new", FlowModel(ModelConfig("base", preset("tiny", in_dim=8, text_dim=16,
                                                                                global_dim=8, abs_pos=True))))
    with pytest.raises(WeightsError, match="abs_pos"):
        checkpoint.load_into(tmp_path / "new", FlowModel(cfg))
