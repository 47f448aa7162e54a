"""Resonate adapter: FluxAudio sampling contract, parity with the original, strict loading, keys."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from harness.errors import SabenchError, WeightsError
from harness.paths import REPO_ROOT
from harness.records import Audio
from systems.adapterkit import diff_keys, key_shapes, read_key_list

from _adapter_kit import edit_req, export_original, gen, rec_req

KEYS = REPO_ROOT / "systems" / "resonate" / "keys"
# The original code comes from a git dir named by an env var (never committed); the parity
# tests skip without it (_adapter_kit.export_original).


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


def test_generate_reconstruct_edit_audio(tiny):
    from systems.resonate.adapter import latent_len

    a, b = tiny.generate([gen("a dog barks", 1, 0.5), gen("rain falls", 2, 0.3)])
    assert a.sample_rate == 44100 and a.channels == 1
    assert a.frames == latent_len(0.5) * 1024 and b.frames == latent_len(0.3) * 1024   # not trimmed
    assert abs(a.samples).max() <= 1.0 and a.samples.dtype.name == "float32"
    src = Audio(a.samples[:, :20000], 44100)
    rec = tiny.reconstruct([rec_req()], [src])[0]
    assert rec.samples.shape == (1, 20000)
    stereo = Audio(np.repeat(src.samples, 2, axis=0), 44100)                        # down-mixed
    np.testing.assert_allclose(tiny.reconstruct([rec_req()], [stereo])[0].samples, rec.samples, atol=1e-6)
    e1 = tiny.edit([edit_req("a dog barks", "rain falls", 3)], [src])[0]
    e2 = tiny.edit([edit_req("a dog barks", "rain falls", 3)], [src])[0]
    assert e1.samples.shape == (1, 20000) and np.array_equal(e1.samples, e2.samples)


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
    published = read_key_list(KEYS / "fluxaudio_m_44k.json")
    assert diff_keys(published, key_shapes(net.state_dict())) == ([], [], [])
    n = sum(math.prod(s) for s in published.values())
    assert 468e6 < n < 469e6                                # systems.md: 468.2 M (+ stored features)


@pytest.fixture(scope="module")
def original_src(tmp_path_factory):
    return export_original("SABENCH_RESONATE_SRC", "Resonate", ("resonate/model", "resonate/ext"),
                           tmp_path_factory)


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


def test_real_config_decoder_keys_match_published_lists():
    from systems.resonate.bigvgan import BigVGAN, fold_shapes
    from systems.resonate.keys.derive import BIGVGAN_V2_44K_128_512X
    from systems.resonate.melvae import MelVAE, MelVAEConfig

    with torch.device("meta"):
        vae, voc = MelVAE(MelVAEConfig()), BigVGAN(BIGVGAN_V2_44K_128_512X)
    assert diff_keys(read_key_list(KEYS / "mel_vae_44k.json"), key_shapes(vae.state_dict())) == ([], [], [])
    published = fold_shapes(read_key_list(KEYS / "bigvgan_v2_44khz_128band_512x.json"))
    assert diff_keys(published, key_shapes(voc.state_dict())) == ([], [], [])
    assert 121e6 < sum(math.prod(s) for s in published.values()) < 123e6   # BigVGAN-v2: 122 M


def test_weight_norm_fold_matches_torch():
    """Both checkpoint layouts (old weight_g/v, new parametrizations) fold to torch's weight."""
    from torch.nn.utils import parametrizations, weight_norm

    from systems.resonate.bigvgan import fold_weight_norm

    g = torch.Generator().manual_seed(0)
    for conv in (torch.nn.Conv1d(3, 4, 5), torch.nn.ConvTranspose1d(4, 2, 4, 2)):
        with torch.no_grad():
            conv.weight.copy_(torch.randn(conv.weight.shape, generator=g))
        ref = conv.weight.detach().clone()
        old = weight_norm(type(conv)(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride))
        new = parametrizations.weight_norm(type(conv)(conv.in_channels, conv.out_channels, conv.kernel_size,
                                                      conv.stride))
        for m in (old, new):
            sd = {f"conv.{k}": v for k, v in m.state_dict().items()}
            gk = [k for k in sd if k.endswith(("weight_g", "original0"))][0]
            vk = [k for k in sd if k.endswith(("weight_v", "original1"))][0]
            sd[vk] = ref * 3.0
            sd[gk] = torch.linalg.vector_norm(ref, dim=list(range(1, ref.ndim)), keepdim=True)
            torch.testing.assert_close(fold_weight_norm(sd)["conv.weight"], ref)


def test_log_mel_frames_and_values():
    """Frames = T / 512; values against an independent numpy STFT + the same Slaney bank."""
    import librosa

    from systems.resonate.melvae import LogMel

    wave = torch.sin(torch.arange(4096) * 2 * math.pi * 1000 / 44100)[None] * 0.5
    mel = LogMel()(wave)
    assert mel.shape == (1, 128, 8)
    x = np.pad(wave[0].numpy(), 768, mode="reflect")
    frames = np.stack([x[i * 512:i * 512 + 2048] * np.hanning(2049)[:-1] for i in range(8)])
    mag = np.sqrt(np.abs(np.fft.rfft(frames, axis=1)) ** 2 + 1e-9).T
    fb = librosa.filters.mel(sr=44100, n_fft=2048, n_mels=128, fmin=0, fmax=22050)
    ref = np.log(np.maximum(fb @ mag, 1e-5))
    # tolerance: float32 torch STFT vs float64 numpy FFT; the log amplifies the error of
    # near-empty mel bands (seen: 3.1e-4 relative, 3.5e-3 absolute on values near -11)
    np.testing.assert_allclose(mel[0].numpy(), ref, rtol=1e-3)


def _import_original(src: Path, module: str):
    import importlib
    import types

    sys.modules.setdefault("omegaconf", types.SimpleNamespace(OmegaConf=None))
    sys.path.insert(0, str(src))
    try:
        return importlib.import_module(module)
    finally:
        sys.path.remove(str(src))


def test_mel_vae_and_bigvgan_parity_with_original(original_src):
    """Random weights copied into the original modules and ours.
    Tolerance: float32, different op order: |diff| <= 1e-5 * max|y|."""
    from systems.resonate.bigvgan import BigVGAN, fold_weight_norm
    from systems.resonate.decoder import TINY_VOCODER
    from systems.resonate.melvae import TINY as VT
    from systems.resonate.melvae import Decoder, Encoder, MPConv1D

    vae = _import_original(original_src, "resonate.ext.autoencoder.vae")
    edm2 = _import_original(original_src, "resonate.ext.autoencoder.edm2_utils")
    bv = _import_original(original_src, "resonate.ext.bigvgan_v2.bigvgan")
    env = _import_original(original_src, "resonate.ext.bigvgan_v2.env")
    g = torch.Generator().manual_seed(0)
    kw = dict(dim=8, ch_mult=(1, 2, 4), num_res_blocks=2, attn_layers=[3], down_layers=[0], embed_dim=8)
    pairs = [(vae.Encoder1D(in_dim=16, **kw), Encoder(VT), 16),
             (vae.Decoder1D(in_dim=16, out_dim=16, **kw), Decoder(VT), 8)]
    for orig, ours, c_in in pairs:
        with torch.no_grad():
            for p in orig.parameters():
                p.copy_(torch.randn(p.shape, generator=g))
        ours.load_state_dict(orig.state_dict(), strict=True)
        [m.remove_weight_norm() for m in orig.modules() if isinstance(m, edm2.MPConv1D)]
        [m.fold() for m in ours.modules() if isinstance(m, MPConv1D)]
        x = torch.randn(2, c_in, 12, generator=g)
        with torch.no_grad():
            ref, got = orig(x), ours(x)
        assert (got - ref).abs().max() <= 1e-5 * ref.abs().max()
    orig = bv.BigVGAN(env.AttrDict(dict(TINY_VOCODER)), use_cuda_kernel=False)
    with torch.no_grad():
        for p in orig.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * (0.3 if p.ndim == 1 else 0.1))
    ours = BigVGAN(TINY_VOCODER)
    ours.load_state_dict(fold_weight_norm(orig.state_dict()), strict=True)
    x = torch.randn(1, 16, 6, generator=g)
    with torch.no_grad():
        ref, got = orig(x), ours(x)
    assert got.shape == (1, 1, 6 * 512) and (got - ref).abs().max() <= 1e-5 * ref.abs().max()


def test_published_file_path_roundtrip(weights_dir):
    """Files written in the published layouts (plain .pth with raw EDM2 weights,
    {"generator": weight_g/weight_v pairs} + config.json, a local flan-t5 folder) load through
    the strict published path and reproduce the model built in memory."""
    import copy
    import json

    from systems.adapterkit import seeded_construction
    from systems.resonate import decoder, loading
    from systems.resonate.adapter import ResonateSystem
    from systems.resonate.melvae import TINY as VT
    from systems.resonate.melvae import MelVAE
    from systems.resonate.network import TINY

    ref, voc = loading.build_tiny(0), decoder.tiny(0).vocoder
    with seeded_construction(5):
        raw_vae = MelVAE(VT)                                 # un-normalised, as stored on disk
    (weights_dir / "resonate").mkdir()
    torch.save(dict(ref.net.state_dict()), weights_dir / "resonate" / "Resonate_GRPO.pth")
    torch.save(dict(raw_vae.state_dict()), weights_dir / decoder.VAE_FILE)
    voc_dir = weights_dir / decoder.VOCODER_DIR
    voc_dir.mkdir()
    (voc_dir / "config.json").write_text(json.dumps(decoder.TINY_VOCODER))
    gen_state = {}
    for k, v in voc.state_dict().items():                   # convs stored as weight_g / weight_v
        if k.endswith(".weight") and v.ndim == 3:
            norm = torch.linalg.vector_norm(v, dim=[1, 2], keepdim=True)
            gen_state[k[:-7] + ".weight_g"], gen_state[k[:-7] + ".weight_v"] = norm, 2.0 * v
        else:
            gen_state[k] = v
    torch.save({"generator": gen_state}, voc_dir / "bigvgan_generator.pt")
    ref.text.model.save_pretrained(str(weights_dir / "flan-t5-large"))
    ref.text.tokenizer.save_pretrained(str(weights_dir / "flan-t5-large"))

    s = ResonateSystem(steps=3)
    s._m, s._decoder = loading.load_published(None, "grpo", cfg=TINY), decoder.published(None, VT)
    t = ResonateSystem(variant="tiny", steps=3)
    t._m, t._decoder = ref, decoder.MelDecoder(copy.deepcopy(raw_vae).fold(), voc)
    r = gen("a dog barks", 9, 0.3)
    # same weights via files vs in memory; tolerance: ulp-level float32 differences
    np.testing.assert_allclose(s.generate([r])[0].samples, t.generate([r])[0].samples, atol=1e-5)
    assert len(s.info.checkpoint_sha256) == 64
    with pytest.raises(WeightsError, match="Resonate_PT.pth"):
        loading.load_published(None, "pt", cfg=TINY)
