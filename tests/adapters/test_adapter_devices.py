"""The `device` parameter of the third-party adapters, and device plumbing checked without a
GPU: the tiny systems are moved to PyTorch's `meta` device, where (as on CUDA) any tensor
created on the CPU and mixed into the computation raises "not on the expected device". Every
sampling, encoding, decoding and FlowEdit path therefore runs end to end on `meta` except
three things meta cannot run, each stubbed narrowly: T5 (it calls `.all()` on a mask: the
text states are fed in directly), `torch.istft` (data-dependent window check: replaced by a
zero signal of the right shape on the input's device) and the final `.cpu().numpy()`."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from harness.errors import SabenchError
from harness.records import Audio
from harness.seeding import torch_generator
from systems.flowedit import FlowEditConfig, flowedit

from _adapter_kit import edit_req, gen

META = torch.device("meta")
FE = FlowEditConfig(steps=3, n_max=2, n_min=1)


def tone(seconds: float, rate: int) -> Audio:
    return Audio((0.3 * np.sin(np.arange(int(seconds * rate)) / 10.0)).astype(np.float32)[None], rate)


def on_meta(*tensors: torch.Tensor) -> bool:
    return all(t.device == META for t in tensors)


@pytest.mark.parametrize("system", ["tangoflux", "resonate", "semanticvocoder"])
def test_device_parameter_resolves_and_is_recorded(system):
    from harness.registry import SYSTEMS, load_catalog

    load_catalog()
    cls = SYSTEMS.get(system)
    assert cls(variant="tiny").params["device"] == "cpu"                      # the default
    auto = cls(variant="tiny", device="auto").params["device"]
    assert auto == ("cuda" if torch.cuda.is_available() else "cpu")           # resolved, then recorded
    with pytest.raises(SabenchError, match="unknown device 'gpu0'"):
        cls(variant="tiny", device="gpu0")
    if not torch.cuda.is_available():
        with pytest.raises(SabenchError, match="CUDA is not available"):
            cls(variant="tiny", device="cuda")


def test_tangoflux_on_meta():
    from systems.tangoflux.adapter import TangoFluxSystem

    s = TangoFluxSystem(variant="tiny", steps=2, device="meta")
    s.load()
    d = s.net.text_encoder.config.d_model
    s._encode = lambda texts, **kw: (torch.zeros(1, 4, d, device=META), torch.ones(1, 4, dtype=torch.bool, device=META))
    x = s.sample_latents(gen("a dog", 1))                                     # (1, N, C)
    wave = s._m.vae.decode(x.transpose(1, 2)).sample
    z, _ = s._encode_audio(tone(0.3, 44100), "x")
    pair = s.conditions("a dog", 0.3)
    edited = flowedit(s.guided_velocity, z, pair, pair, FE, [torch_generator(0)], s.sigmas(FE.steps))
    assert on_meta(x, wave, z, edited) and edited.shape == z.shape


def test_resonate_on_meta():
    from systems.resonate.adapter import ResonateSystem

    s = ResonateSystem(variant="tiny", steps=2, device="meta")
    s.load()
    d = s._m.text.model.config.d_model
    s._m.text.encode = lambda texts, **kw: (torch.zeros(len(texts), 77, d, device=META),
                                            torch.ones(len(texts), 77, dtype=torch.bool, device=META))
    x = s.sample_latents([gen("a dog", 1)])                                   # (1, N, 40)
    wave = s.decoder.decode(s.net.unnormalize(x))
    z, _ = s.decoder.encode(tone(0.3, 44100), "x")
    edited = s.edit_latents([edit_req("a", "b")], s.net.normalize(z))
    assert on_meta(x, wave, z, edited) and edited.shape == z.shape


def test_semanticvocoder_on_meta(monkeypatch):
    from systems.semanticvocoder.adapter import SemanticVocoderSystem
    from systems.semanticvocoder.tta import decode, sigma_grid

    def istft(spec, n_fft, hop, win, window, center=True):                    # meta has no istft
        assert spec.device == window.device
        return torch.zeros(spec.shape[0], (spec.shape[-1] - 1) * hop, device=spec.device)

    monkeypatch.setattr(torch, "istft", istft)
    s = SemanticVocoderSystem(variant="tiny", steps=2, vocoder_steps=2, device="meta")
    tta = s.tta
    cond = (torch.zeros(1, 3, tta.cfg.content_dim, device=META), torch.ones(1, 3, dtype=torch.bool, device=META))
    z = tta.sample(cond, torch.randn(1, 32, 25).to(META), 2, 3.5, -1.0)      # (1, 32, 25)
    wave = decode(tta.vocoder, z, torch_generator(0), 2, True)
    lat = s.latents(tone(1.0, 24000), "x")                                    # Dasheng on meta
    recon = decode(s.vocoder["net"], lat, torch_generator(0), 2, True)
    edited = flowedit(tta.velocity, lat, cond, cond, FE, [torch_generator(0)], sigma_grid(FE.steps).tolist())
    assert on_meta(z, wave, lat, recon, edited) and edited.shape == lat.shape
