"""Presets are complete and consistent; metrics run through the runner's real RunContext.

The RunContext test registers a tiny deterministic spectral backbone under a test-only name,
writes real WAV files and checks FD / KL / CLAP values against direct computations, so the
metric <-> context contract (batch indices, stacked outputs, embedding cache) is exercised.
"""

import numpy as np
import pytest

import harness.metrics.catalog  # noqa: F401
from harness.backbones.base import Backbone
from harness.errors import SabenchError
from harness.metrics.base import EvalItem
from harness.metrics.numerics import cosine, frechet_distance, kl_softmax
from harness.metrics.presets import DEFAULT_PRESET, PRESETS, backbone_args, get_preset
from harness.records import Audio, AudioRecipe, BackboneInfo, Prompt
from harness.registry import BACKBONES, METRICS

SR = 8000


def test_presets_are_complete_and_valid():
    audio = pytest.importorskip("harness.audio")
    assert DEFAULT_PRESET == "sabench" and set(PRESETS) == {"sabench", "audioldm_eval", "av_benchmark",
                                                            "stable_audio_metrics", "frechet_audio_distance",
                                                            "fadtk", "kadtk"}
    for p in PRESETS.values():
        assert p.kl_direction in ("ref_to_gen", "gen_to_ref") and p.is_splits == 10 and p.is_seed == 2020
        for conv in (p.fd, p.classifier, p.fad, p.clap):
            if conv is not None and conv.recipe is not None and conv.recipe.resampler in audio.RESAMPLERS:
                audio.validate_recipe(conv.recipe)  # raises on a length/mono policy harness.audio lacks
    sab, avb = get_preset("sabench"), get_preset("av_benchmark")
    assert (sab.fd, sab.classifier, sab.clap, sab.kl_eps) == (avb.fd, avb.classifier, avb.clap, avb.kl_eps)
    assert get_preset("audioldm_eval").kl_eps == 1e-6
    assert get_preset("stable_audio_metrics").kl_direction == "gen_to_ref"
    args = backbone_args("sabench")
    assert args["laion_clap"]["checkpoint"] == "music_speech_audioset_epoch_15_esc_89.98"
    assert args["panns16k"]["recipe"].dc_remove and args["panns16k"]["recipe"].length == "truncate"
    with pytest.raises(SabenchError, match="unknown"):
        get_preset("nope")


class _SpectralBackbone(Backbone):
    """Deterministic: 'embedding' = log band energies (6 bands), 'logits' = same, text = hashed."""

    name = "test_metrics_spectral"
    outputs = ("embedding", "logits")
    batch_size = 2

    @property
    def recipe(self) -> AudioRecipe:
        return AudioRecipe(SR, mono="mean", length="full")

    @property
    def info(self) -> BackboneInfo:
        return BackboneInfo(self.name, "f" * 64, SR, self.recipe)

    def load(self) -> None:
        pass

    def embed(self, batch):
        rows = []
        for x in batch:
            spec = np.abs(np.fft.rfft(x, n=1024)) ** 2
            rows.append(np.log(np.array([b.sum() for b in np.array_split(spec, 6)]) + 1e-9))
        emb = np.stack(rows).astype(np.float32)  # (B, 6)
        return {"embedding": emb, "logits": emb}

    def embed_text(self, texts):
        return np.stack([np.eye(6)[len(t) % 6] for t in texts]).astype(np.float32)  # (B, 6)


@pytest.fixture()
def world(tmp_path):
    audio = pytest.importorskip("harness.audio")
    context = pytest.importorskip("harness.context")
    if _SpectralBackbone.name not in BACKBONES:
        BACKBONES.register(_SpectralBackbone.name)(_SpectralBackbone)
    rng = np.random.default_rng(0)
    t = np.arange(SR) / SR
    items = []
    for i in range(9):
        f = 200 + 150 * i
        gen = 0.5 * np.sin(2 * np.pi * f * t) + 0.05 * rng.standard_normal(SR)
        ref = 0.5 * np.sin(2 * np.pi * (f + 40) * t) + 0.05 * rng.standard_normal(SR)
        for kind, x in (("gen", gen), ("ref", ref)):
            audio.write(tmp_path / f"{kind}{i}.wav", Audio(x[None].astype(np.float32), SR))
        items.append(EvalItem(f"p{i}", Prompt(f"p{i}", "x" * i), output=str(tmp_path / f"gen{i}.wav"),
                              reference=str(tmp_path / f"ref{i}.wav")))
    ctx = context.RunContext(profile="mini", cache_dir=tmp_path / "cache")
    bb = _SpectralBackbone()
    direct = {k: bb.embed([audio.load(getattr(it, r), bb.recipe) for it in items])["embedding"].astype(np.float64)
              for k, r in (("gen", "output"), ("ref", "reference"))}
    yield items[::-1], ctx, direct
    # unregister the test-only backbone so registry-wide tests elsewhere never see it
    BACKBONES._eager.pop(_SpectralBackbone.name, None)
    BACKBONES._help.pop(_SpectralBackbone.name, None)


def test_metrics_through_run_context(world):
    items, ctx, direct = world
    name = _SpectralBackbone.name
    g, r = direct["gen"], direct["ref"]
    fd = METRICS.get("fd")(backbone=name).compute(ctx, items)
    want = frechet_distance(g.mean(0), np.cov(g, rowvar=False), r.mean(0), np.cov(r, rowvar=False)).value
    assert fd.value == pytest.approx(want, rel=1e-6)  # float32 embeddings, float64 statistics
    kl = METRICS.get("kl_ref_to_gen")(backbone=name).compute(ctx, items)
    for i in range(9):
        assert kl.per_item[f"p{i}"] == pytest.approx(kl_softmax(g[i:i + 1], r[i:i + 1], "ref_to_gen")[0], rel=1e-6)
    clap = METRICS.get("clap")(backbone=name).compute(ctx, items)
    text = np.stack([np.eye(6)[i % 6] for i in range(9)])
    for i in range(9):
        assert clap.per_item[f"p{i}"] == pytest.approx(cosine(g[i:i + 1], text[i:i + 1])[0], rel=1e-6)
    assert fd.extras["backbone"]["checkpoint_sha256"] == "f" * 64
    from harness.hashing import canonical_json

    for out in (fd, kl, clap):  # results are stored as JSON: extras must serialise as they are
        canonical_json(out.extras)
    # the second pass is served from the embedding cache and gives the same number
    again = METRICS.get("fd")(backbone=name).compute(ctx, items)
    assert again.value == fd.value and ctx.stats["audio_hits"] > 0


def test_recon_metric_through_run_context(world):
    import torch

    from harness import audio
    from harness.metrics.recon import MEL_DAC_DEFAULT, spectral_loss

    items, ctx, _ = world
    out = METRICS.get("mel_loss")().compute(ctx, items[:1])
    m = METRICS.get("mel_loss")()
    for it in items[:1]:
        x, y = audio.load(it.output, m.recipe), audio.load(it.reference, m.recipe)  # (T,) @ 44.1 kHz
        assert len(x) == 44100
        want = float(spectral_loss(torch.from_numpy(x), torch.from_numpy(y), 44100, MEL_DAC_DEFAULT))
        assert out.per_item[it.item_id] == pytest.approx(want, rel=1e-6)
