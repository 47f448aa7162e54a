"""SemanticVocoder reconstruction at a tiny size (random weights in the published file format),
its refusals, and the catalog entries of the adapters. (Text-to-audio and editing:
test_semanticvocoder_tta.py.)"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from harness.errors import AudioError, WeightsError
from harness.records import Audio, Prompt, ReconstructRequest

from _adapter_kit import gen, rec_req


def req(seed: int, pid: str = "r") -> ReconstructRequest:
    return ReconstructRequest(Prompt(pid, "", reference="ref.wav"), source_sha256="0" * 64, seed=seed)


def clip(seconds: float, rate: int = 16000, channels: int = 2, seed: int = 0) -> Audio:
    n = int(round(seconds * rate))
    t = np.arange(n) / rate
    rng = np.random.default_rng(seed)
    x = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal((channels, n))
    return Audio(x.astype(np.float32), rate)


def frames(seconds: float, rate: int) -> int:
    """Independent count: resample to 16 kHz (length ceil(N * 16000 / rate) per torchaudio),
    centred mel frames floor(N16 / 160) + 1, time patches of 4 (no padding)."""
    n16 = math.ceil(round(seconds * rate) * 16000 / rate)
    return (n16 // 160 + 1) // 4


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    from systems.semanticvocoder.tiny import write_tiny

    root = tmp_path_factory.mktemp("svw")
    write_tiny(root / "semanticvocoder", seed=0)
    return root


@pytest.fixture(scope="module")
def system():
    from systems.semanticvocoder import adapter

    return adapter.SemanticVocoderSystem(variant="tiny", vocoder_steps=4)


def test_reconstruct_shapes_rate_duration(system):
    out = system.reconstruct([req(1), req(2, "b")], [clip(1.0), clip(0.5, rate=24000, channels=1)])
    assert [o.sample_rate for o in out] == [24000, 24000] and all(o.channels == 1 for o in out)
    assert out[0].frames == frames(1.0, 16000) * 960 == 24000          # 25 frames/s x 960
    assert out[1].frames == frames(0.5, 24000) * 960
    for o in out:
        assert o.samples.dtype == np.float32 and np.isfinite(o.samples).all()
        assert np.abs(o.samples).max() <= 1.0 and o.samples.std() > 1e-3


def test_latents_shape_and_rate(system):
    z = system.latents(clip(2.0, rate=44100), "x")
    assert tuple(z.shape) == (1, 32, frames(2.0, 44100)) == (1, 32, 50)   # tiny encoder width 32
    assert frames(10.0, 24000) == 250                                      # the README's (768, 250)


def test_encoder_is_resample_mean_dasheng(system):
    """Independent path: torchaudio 24 -> 16 kHz of the channel mean, Dasheng, transpose.
    Tolerance 1e-4 relative: resampling and the mean commute up to float32 rounding."""
    import torchaudio

    w = torch.from_numpy(clip(0.8, rate=24000).samples)[None]          # (1, 2, T) @ 24 kHz
    z = system.encoder.encode(w)
    with torch.no_grad():
        ref = system.encoder.net(torchaudio.functional.resample(w.mean(1), 24000, 16000)).transpose(1, 2)
    assert (z - ref).abs().max() <= 1e-4 * ref.abs().max()


def test_seed_determinism_and_difference(system):
    a = clip(0.6)
    x1, x2 = system.reconstruct([req(7)], [a])[0], system.reconstruct([req(7)], [a])[0]
    y = system.reconstruct([req(8)], [a])[0]
    np.testing.assert_array_equal(x1.samples, x2.samples)                 # same seed: bit-identical
    assert np.abs(x1.samples - y.samples).max() > 1e-3                    # other seed: other noise


def test_global_rng_untouched(system):
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    system.reconstruct([req(1)], [clip(0.3)])
    assert torch.equal(before, torch.random.get_rng_state())


def test_too_short_and_bad_audio(system):
    with pytest.raises(AudioError, match="too short"):
        system.reconstruct([req(1)], [clip(0.01)])
    with pytest.raises(AudioError, match="finite"):
        system.reconstruct([req(1)], [Audio(np.full((1, 800), np.nan, np.float32), 16000)])


def test_capabilities_and_reconstruct_needs_no_text_model(tiny_weights):
    """Reconstruction runs from the three snapshot files alone; generate then names what is missing."""
    from systems.semanticvocoder.adapter import SemanticVocoderSystem

    s = SemanticVocoderSystem(weights=str(tiny_weights), vocoder_steps=2)
    assert s.capabilities == frozenset({"generate", "edit", "reconstruct"})
    s._parts["encoder"] = SemanticVocoderSystem(variant="tiny").encoder     # tiny width (32)
    assert s.reconstruct([req(1)], [clip(0.3)])[0].sample_rate == 24000
    with pytest.raises(WeightsError, match="semanticvocoder/tta/config.json.*ZeyuXie/SemanticVocoder"):
        s.generate([gen("a dog barks", 1)])


def test_info_hashes_the_files(tiny_weights):
    from systems.adapterkit import files_sha256
    from systems.semanticvocoder.adapter import SemanticVocoderSystem

    d = tiny_weights / "semanticvocoder"
    want = files_sha256([d / "semanticVocoder_epoch-270.pt", d / "config.json", d / "dasheng_base.pt"])
    info = SemanticVocoderSystem(weights=str(tiny_weights), vocoder_steps=4).info
    assert info.checkpoint_sha256 == want and info.sample_rate == 24000 and info.channels == 1
    assert dict(info.parameters)["vocoder_steps"] == 4


def test_missing_file_named_with_source(weights_dir):
    from systems.semanticvocoder.adapter import SemanticVocoderSystem

    (weights_dir / "semanticvocoder").mkdir()
    (weights_dir / "semanticvocoder" / "config.json").write_text("{}")
    with pytest.raises(WeightsError, match="semanticVocoder_epoch-270.pt.*SemanticVocoderSnapshot"):
        SemanticVocoderSystem().reconstruct([rec_req()], [clip(0.3)])


def test_missing_dasheng_named_with_source(tmp_path, monkeypatch):
    from systems.semanticvocoder.adapter import SemanticVocoderSystem
    from systems.semanticvocoder.tiny import write_tiny

    write_tiny(tmp_path / "semanticvocoder")
    (tmp_path / "semanticvocoder" / "dasheng_base.pt").unlink()
    monkeypatch.setenv("SABENCH_WEIGHTS", str(tmp_path))
    with pytest.raises(WeightsError, match="dasheng_base.pt.*zenodo.org/records/11511780"):
        _ = SemanticVocoderSystem().encoder
    (tmp_path / "dasheng").mkdir()
    (tmp_path / "dasheng" / "dasheng_base.pt").write_bytes(b"x")       # the alternative place
    assert SemanticVocoderSystem()._dasheng_path() == tmp_path / "dasheng" / "dasheng_base.pt"


def test_partial_checkpoint_refused_naming_keys(tmp_path):
    from systems.semanticvocoder import adapter
    from systems.semanticvocoder.tiny import write_tiny

    d = write_tiny(tmp_path / "semanticvocoder")
    ckpt = torch.load(d / "semanticVocoder_epoch-270.pt", weights_only=True)
    del ckpt["model"]["estimators.1.decoder.out_proj.weight"]
    ckpt["model"]["cond_encoder.in_proj.bias"] = torch.zeros(5)
    torch.save(ckpt, d / "semanticVocoder_epoch-270.pt")
    with pytest.raises(WeightsError, match=r"1 missing keys: estimators\.1\.decoder\.out_proj\.weight"
                                           r".*cond_encoder\.in_proj\.bias \[5\] != \[16\]"):
        adapter.build_vocoder(d / "config.json", d / "semanticVocoder_epoch-270.pt")


def test_published_dims_refuse_a_small_encoder(tmp_path):
    """The published path forces dasheng_base's 768/12/12 (as the original); a tiny file fails."""
    from systems.semanticvocoder.adapter import SemanticVocoderSystem
    from systems.semanticvocoder.tiny import write_tiny

    write_tiny(tmp_path / "semanticvocoder")
    with pytest.raises(WeightsError, match="missing keys: blocks.1"):
        _ = SemanticVocoderSystem(weights=str(tmp_path)).encoder


class Params(dict):
    """A custom class, as training scripts pickle (not allow-listed)."""


def test_unsafe_pickle_refused_by_name(tmp_path):
    from systems.semanticvocoder.loading import load_checkpoint

    p = tmp_path / "x.pt"
    torch.save({"model": {}, "params": Params(a=1)}, p)
    with pytest.raises(WeightsError, match="weights_only=True.*Params"):
        load_checkpoint(p)
    torch.save({"model": {}, "exp_dir": __import__("pathlib").Path("/x")}, p)   # allow-listed
    assert load_checkpoint(p)["model"] == {}


def test_config_refuses_unknown_vocoder_keys():
    from systems.semanticvocoder.loading import parse_config
    from systems.semanticvocoder.network import TRAINING_ONLY
    from systems.semanticvocoder.tiny import TINY_VOCODER, hydra_config

    cfg = hydra_config(TINY_VOCODER)
    assert parse_config(cfg, "c").vocoder == TINY_VOCODER
    cfg["model"]["autoencoder"]["vocoder"].update({k: 0 for k in TRAINING_ONLY - {"_target_"}})
    assert parse_config(cfg, "c").vocoder == TINY_VOCODER                 # training-only: ignored
    cfg["model"]["autoencoder"]["vocoder"]["use_snake"] = True
    with pytest.raises(WeightsError, match="use_snake"):
        parse_config(cfg, "c")
    with pytest.raises(WeightsError, match="model.autoencoder.vocoder"):
        parse_config({"model": {}}, "c")


def test_tiny_variant_runs():
    from systems.semanticvocoder.adapter import SemanticVocoderSystem

    s = SemanticVocoderSystem(variant="tiny", vocoder_steps=2)
    out = s.reconstruct([req(3)], [clip(0.2)])[0]
    assert out.frames == frames(0.2, 16000) * 960 and s.info.checkpoint_sha256 == "random-init-seed-0"


@pytest.mark.parametrize("name,cls", [("tangoflux", "TangoFluxSystem"), ("resonate", "ResonateSystem"),
                                      ("semanticvocoder", "SemanticVocoderSystem")])
def test_catalog_resolves(name, cls):
    from harness.registry import SYSTEMS, load_catalog

    load_catalog()
    assert SYSTEMS.get(name).__name__ == cls and SYSTEMS.help(name)


def test_batched_reconstruction_equals_one_at_a_time(system):
    """Clips of equal length go through the vocoder together (per-row noise from each request's
    seed); each row equals the clip reconstructed alone. Tolerance 1e-5 of the peak: float32 op
    order of batched convolutions. A clip of another length is its own pass."""
    clips = [clip(0.4, seed=1), clip(0.4, seed=2), clip(0.6, seed=3)]
    reqs = [req(11, "a"), req(12, "b"), req(13, "c")]
    together = system.reconstruct(reqs, clips)
    for r, c, t in zip(reqs, clips, together, strict=True):
        (alone,) = system.reconstruct([r], [c])
        assert t.frames == alone.frames
        assert np.abs(t.samples - alone.samples).max() <= 1e-5 * max(np.abs(alone.samples).max(), 1e-3)
