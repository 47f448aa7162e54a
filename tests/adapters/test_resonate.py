"""Resonate adapter: FluxAudio sampling contract, parity with the original, strict loading, keys."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from _adapter_kit import edit_req, gen, rec_req
from harness.errors import CapabilityError, SabenchError, WeightsError
from harness.paths import REPO_ROOT
from harness.records import Audio
from systems.adapterkit import diff_keys, key_shapes, read_key_list

KEYS = REPO_ROOT / "systems" / "resonate" / "keys" / "fluxaudio_m_44k.json"
ORIGINAL = Path(os.environ.get("SABENCH_RESONATE_SRC", "/work/.mirror/xiquan-li+Resonate/repo"))


@pytest.fixture(scope="module")
def tiny():
    from systems.resonate.adapter import ResonateSystem

    s = ResonateSystem(variant="tiny", steps=5, edit_steps=6, edit_n_max=5, edit_n_min=2)
    s.load()
    return s


def test_latent_length_and_defaults():
    from systems.resonate.adapter import DEFAULTS, latent_len

    assert latent_len(10.0) == 431 and latent_len(9.975) == 430
    assert DEFAULTS["steps"] == 25 and DEFAULTS["cfg"] == 3.0


def test_sample_latents_contract(tiny):
    from systems.resonate.adapter import latent_len

    a = tiny.sample_latents([gen("a dog barks", 1, 0.5), gen("rain falls", 2, 0.5)])
    assert a.shape == (2, latent_len(0.5), 8) and torch.isfinite(a).all()
    b = tiny.sample_latents([gen("rain falls", 2, 0.5)])
    # tolerance: the same row computed in a batch of 2 vs alone (float32 matmul blocking)
    torch.testing.assert_close(a[1:], b, rtol=1e-4, atol=1e-5)
    c = tiny.sample_latents([gen("rain falls", 3, 0.5)])
    assert (c - b).abs().max() > 1e-3                      # another seed -> other latents
    with pytest.raises(SabenchError, match="mixed durations"):
        tiny.sample_latents([gen("x", 1, 0.5), gen("x", 1, 1.0)])


def test_guided_velocity_matches_original_formula(tiny):
    """Original ode_wrapper: w v_c + (1 - w) v_u for w >= 1, v_c alone for w < 1."""
    x = torch.randn(1, 6, 8, generator=torch.Generator().manual_seed(0))
    cond = tiny.text_cond(["a dog barks"])
    t = torch.tensor([0.4])
    with torch.no_grad():
        v_c = tiny.net.velocity(x, t, cond.tokens, cond.pooled)
        e = tiny.empty_cond(1)
        v_u = tiny.net.velocity(x, t, e.tokens, e.pooled)
        torch.testing.assert_close(tiny.guided_velocity(x, 0.4, cond, 3.0), 3.0 * v_c - 2.0 * v_u)
        torch.testing.assert_close(tiny.guided_velocity(x, 0.4, cond, 0.5), v_c)
        torch.testing.assert_close(tiny.guided_velocity(x, 0.4, None, 3.0), v_u)


def test_edit_latents(tiny):
    src = tiny.sample_latents([gen("a dog barks", 4, 0.3)])
    e1 = tiny.edit_latents([edit_req("a dog barks", "rain falls", 3)], src)
    e2 = tiny.edit_latents([edit_req("a dog barks", "rain falls", 3)], src)
    e3 = tiny.edit_latents([edit_req(None, "rain falls", 3)], src)
    assert e1.shape == src.shape and torch.equal(e1, e2)
    assert (e1 - src).abs().max() > 1e-3 and (e1 - e3).abs().max() > 1e-5


def test_audio_paths_refuse_clearly_until_decoder_exists(tiny):
    with pytest.raises(CapabilityError, match="v1-44.pth.*BigVGAN|mel-VAE"):
        tiny.generate([gen("a dog barks", 1)])
    with pytest.raises(CapabilityError, match="not implemented"):
        tiny.reconstruct([rec_req()], [Audio(torch.zeros(1, 100).numpy(), 44100)])
    with pytest.raises(CapabilityError, match="cannot edit"):
        tiny.edit([edit_req("a", "b")], [Audio(torch.zeros(1, 100).numpy(), 44100)])


def test_info_records_knobs(tiny):
    p = dict(tiny.info.parameters)
    assert tiny.info.sample_rate == 44100 and tiny.info.channels == 1
    assert p["cfg"] == 3.0 and p["checkpoint"] == "grpo" and p["edit_n_min"] == 2


# ---- strict checkpoint loading ----------------------------------------------------------

def test_partial_checkpoint_refused(tmp_path):
    from systems.resonate.loading import load_state
    from systems.resonate.network import TINY, FluxAudio

    good = FluxAudio(TINY).state_dict()
    bad = {k: v for k, v in good.items() if not k.startswith("fused_blocks.0.")}
    bad["latent_mean"] = torch.zeros(1, 1, 3)
    bad["t_embed.freqs"] = torch.zeros(128)                 # dropped like the original does
    with torch.device("meta"):
        net = FluxAudio(TINY)
    with pytest.raises(WeightsError) as e:
        load_state(net, bad, "Resonate_GRPO.pth")
    msg = str(e.value)
    assert "missing keys: fused_blocks.0." in msg and "more)" in msg
    assert "latent_mean [1, 1, 3] != [1, 1, 8]" in msg and "t_embed" not in msg
    with torch.device("meta"):
        net = FluxAudio(TINY)
    load_state(net, dict(good), "ok")                       # the complete file loads
    assert not any(p.is_meta for p in net.parameters())


def test_missing_checkpoint_named(weights_dir):
    from systems.resonate.adapter import ResonateSystem

    with pytest.raises(WeightsError, match=r"Resonate_GRPO.pth.*AndreasXi/Resonate"):
        ResonateSystem().load()


# ---- real configuration and parity with the original network ------------------------------

def test_real_config_keys_match_published_list():
    from systems.resonate.network import FluxAudio, FluxAudioConfig

    with torch.device("meta"):
        net = FluxAudio(FluxAudioConfig())
    published = read_key_list(KEYS)
    assert diff_keys(published, key_shapes(net.state_dict())) == ([], [], [])
    n = sum(math.prod(s) for s in published.values())
    assert 468e6 < n < 469e6                                # systems.md: 468.2 M (+ stored features)


@pytest.fixture(scope="module")
def original_src(tmp_path_factory):
    if not (ORIGINAL / "HEAD").exists() and not (ORIGINAL / ".git").exists():
        pytest.skip("original Resonate checkout not available (set SABENCH_RESONATE_SRC)")
    dest = tmp_path_factory.mktemp("rs_orig")
    archive = subprocess.run(["git", "--git-dir", str(ORIGINAL), "archive", "HEAD", "resonate/model",
                              "resonate/ext/rotary_embeddings.py"], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return dest


def test_velocity_parity_with_original_network(original_src):
    """Random weights copied into both; the original's forward vs ours.
    Tolerance: float32 with a different op order (RoPE, qkv split): |diff| <= 1e-4 * max|v|."""
    from systems.resonate.network import TINY, FluxAudio

    sys.path.insert(0, str(original_src))
    try:
        from resonate.model.networks import FluxAudio as Original
    finally:
        sys.path.remove(str(original_src))
    g = torch.Generator().manual_seed(0)
    orig = Original(latent_dim=8, text_dim=32, text_c_dim=32, hidden_dim=32, depth=3, fused_depth=1,
                    num_heads=2, latent_seq_len=10, use_rope=True)
    with torch.no_grad():
        for p in orig.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.2)
    ours = FluxAudio(TINY)
    ours.load_state_dict(orig.state_dict(), strict=True)
    x, tf, tc = (torch.randn(2, 10, 8, generator=g), torch.randn(2, 77, 32, generator=g),
                 torch.randn(2, 32, generator=g))
    t = torch.tensor([0.3, 0.9])
    with torch.no_grad():
        ref = orig(x, tf, tc, t)
        got = ours.velocity(x, t, *ours.project_text(tf, tc))
    assert (got - ref).abs().max() <= 1e-4 * ref.abs().max()
