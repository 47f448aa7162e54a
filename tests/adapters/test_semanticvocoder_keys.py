"""SemanticVocoder networks vs key lists derived from the original code, independent numeric
checks of the vocoder's pieces, and (optional) parity with the original generator."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from harness.paths import REPO_ROOT
from systems.adapterkit import diff_keys, key_shapes, read_key_list

from _adapter_kit import export_original

KEYS = REPO_ROOT / "systems" / "semanticvocoder" / "keys"
VOCODER_LISTS = sorted(p for p in KEYS.glob("*.json") if "config" in json.loads(p.read_text()))
# The original code comes from a git dir named by SABENCH_SEMANTICVOCODER_SRC (never committed);
# the parity tests skip without it (_adapter_kit.export_original).


def test_dasheng_base_keys_match_original():
    from systems.semanticvocoder.encoder import BASE_DIMS, build_dasheng

    expected = read_key_list(KEYS / "dasheng_base.json")
    net = build_dasheng(BASE_DIMS)
    assert diff_keys(expected, key_shapes(net.state_dict())) == ([], [], [])
    assert len(expected) == 157 and net.embed_dim == 768


@pytest.mark.parametrize("path", VOCODER_LISTS, ids=lambda p: p.stem)
def test_vocoder_keys_match_original(path):
    from systems.semanticvocoder.network import GeneratorConfig, SemanticVocoderGenerator

    doc = json.loads(path.read_text())
    cfg = GeneratorConfig.from_kwargs(doc["config"], path.name)
    with torch.device("meta"):
        net = SemanticVocoderGenerator(cfg)
    assert diff_keys(doc["keys"], key_shapes(net.state_dict())) == ([], [], [])
    assert len(doc["keys"]) == doc["count"]


def test_euler_reaches_a_constant_prediction():
    """Independent: with x1_hat == c, v = (c - x) / (1 - t) on t = k / N gives
    x_{k+1} = x_k + (c - x_k) / (N - k), so the last step lands exactly on c (then clamped)."""
    from systems.semanticvocoder.tiny import TINY_VOCODER, random_generator

    net = random_generator(TINY_VOCODER, 0)
    c = torch.linspace(-1.5, 1.5, 960)[None]
    net.predict = lambda x, cond, t: c.expand_as(x)
    noise = torch.randn(1, 960, generator=torch.Generator().manual_seed(0)) * 0.1
    x = noise.clone()
    for k in range(5):                                   # the recurrence, by hand
        x = x + (c - x) / (5 - k)
    out = net.sample(torch.zeros(1, 32, 1), noise, 5, clamp=False)
    torch.testing.assert_close(out, x, rtol=0, atol=1e-6)   # float32 rounding only
    torch.testing.assert_close(out, c, rtol=0, atol=1e-6)
    assert net.sample(torch.zeros(1, 32, 1), noise, 5).abs().max() == 1.0


class IdentityDecoder(torch.nn.Module):
    def forward(self, feats, cond, t):
        return feats


def test_branch_packing_round_trip():
    """An identity decoder must return the input: checks the [re; im] packing, the Hann
    STFT/iSTFT pair and the length fitting. Tolerance 1e-5: float32 FFT round trip."""
    from systems.semanticvocoder.network import Branch
    from systems.semanticvocoder.tiny import TINY_VOCODER

    br = Branch(TINY_VOCODER, 0)
    br.decoder = IdentityDecoder()
    x = torch.randn(2, 1920, generator=torch.Generator().manual_seed(1))   # 2 frames x 960
    y = br(x, torch.zeros(2, 16, 2), torch.zeros(2))
    assert y.shape == x.shape
    torch.testing.assert_close(y, x, rtol=0, atol=1e-5)
    # not a multiple of the hop (32): iSTFT gives 32 * floor(1900 / 32) samples, then zeros
    y = br(x[:, :1900], torch.zeros(2, 16, 2), torch.zeros(2))
    torch.testing.assert_close(y[:, :1888], x[:, :1888], rtol=0, atol=1e-5)
    assert y.shape == (2, 1900) and not y[:, 1888:].any()


def test_biasnorm_and_time_embedding_formulas():
    """float64 numpy versions of the documented formulas; tolerance 1e-5 (float32 math)."""
    from systems.semanticvocoder.network import BiasNorm, sinusoidal

    g = torch.Generator().manual_seed(2)
    bn = BiasNorm(6)
    with torch.no_grad():
        bn.bias.copy_(torch.randn(6, generator=g))
        bn.log_scale.fill_(0.3)
    x = torch.randn(2, 6, 5, generator=g)
    xn = x.double().numpy()
    ref = xn / np.sqrt(((xn - bn.bias.detach().double().numpy()[:, None]) ** 2).mean(1, keepdims=True)) * math.exp(0.3)
    np.testing.assert_allclose(bn(x).detach().numpy(), ref, rtol=1e-5, atol=1e-6)
    t = torch.tensor([0.0, 0.25, 0.999])
    k = np.arange(4)
    arg = 1000 * t.double().numpy()[:, None] * np.exp(-k * math.log(10000) / 3)[None]
    np.testing.assert_allclose(sinusoidal(t, 8).numpy(), np.concatenate([np.sin(arg), np.cos(arg)], 1),
                               rtol=1e-5, atol=1e-4)      # atol: sin of ~1e3 rad in float32


def test_condition_frames_repeat_then_fit():
    from systems.semanticvocoder.network import fit_length

    c = torch.arange(3.0)[None, None]                            # (1, 1, 3)
    up = fit_length(c.repeat_interleave(4, dim=-1), 14)
    assert up.flatten().tolist() == [0] * 4 + [1] * 4 + [2] * 4 + [0, 0]
    assert fit_length(up, 5).flatten().tolist() == [0, 0, 0, 0, 1]


@pytest.fixture(scope="module")
def original_src(tmp_path_factory):
    dest = export_original("SABENCH_SEMANTICVOCODER_SRC", "SemanticVocoder", ("src",), tmp_path_factory)
    return dest


def _original_generator(src: Path):
    from systems.semanticvocoder.keys.derive import _stub_tensorboard

    _stub_tensorboard()
    sys.path.insert(0, str(src / "src" / "inference"))
    try:
        from models.autoencoder.waveform.semanticVocoder.flow2gan.models.generator import MaeAudioGenerator
    finally:
        sys.path.remove(str(src / "src" / "inference"))
    return MaeAudioGenerator


def test_generator_parity_with_original(original_src):
    """Same random weights in both; the original's `process_model` / `infer` (global-RNG noise
    after `manual_seed(s)`) vs ours (noise from `Generator().manual_seed(s)`, the same CPU stream).
    Tolerance: |diff| <= 1e-5 * max|ref| - float32 op-order differences only (measured ~3e-7)."""
    from dataclasses import asdict

    from systems.semanticvocoder.tiny import TINY_VOCODER, random_generator

    ours = random_generator(TINY_VOCODER, 5)
    orig = _original_generator(original_src)(**asdict(TINY_VOCODER)).eval()
    orig.load_state_dict(ours.state_dict(), strict=True)
    g = torch.Generator().manual_seed(0)
    z, x = torch.randn(2, 32, 3, generator=g), torch.randn(2, 2880, generator=g) * 0.1
    t = torch.tensor([0.2, 0.7])
    with torch.no_grad():
        ref = orig.process_model(x=x, cond=orig.cond_encoder(z), t=t)
        mine = ours.predict(x, ours.cond_encoder(z), t)
    assert (ref - mine).abs().max() <= 1e-5 * ref.abs().max()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(11)
        ref = orig.infer(cond=z, n_timesteps=6, clamp_pred=True)
    noise = torch.randn(2, 2880, generator=torch.Generator().manual_seed(11)) * 0.1
    mine = ours.sample(z, noise, 6)
    assert (ref - mine).abs().max() <= 1e-5 * ref.abs().max()


def test_derive_reproduces_committed_probe(original_src, tmp_path):
    doc = json.loads((KEYS / "probe_tiny.json").read_text())
    kwargs = tmp_path / "sv_probe_tiny.json"
    kwargs.write_text(json.dumps(doc["config"]))
    out = tmp_path / "out.json"
    subprocess.run([sys.executable, str(KEYS / "derive.py"), "vocoder", str(original_src), "x",
                    str(kwargs), str(out)], check=True, capture_output=True, cwd=tmp_path)
    assert json.loads(out.read_text())["keys"] == doc["keys"]
