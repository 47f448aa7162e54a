"""Presets are whole (issue 11, item 2): a suite's preset reaches every metric it names a convention
for, and every stored MetricInfo says which preset produced it. One test per preset x metric."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pytest

from harness.metrics.presets import PRESETS, backbone_args
from harness.plan import bind, build_metrics
from harness.registry import METRICS, load_catalog
from harness.suite import MetricSpec, SuiteSpec

load_catalog()
PRESET_METRICS = ("fd", "fad", "is", "kl_ref_to_gen", "kl_gen_to_ref", "clap", "clap_target", "delta_clap",
                  "fd_pann", "is_pann", "kl_pann_ref_to_gen", "kl_pann_gen_to_ref", "fad_vggish", "clap_laion",
                  "clap_ms", "aes", "aes_ce", "aes_cu", "aes_pc", "aes_pq", "mel_loss", "stft_loss",
                  "kad", "kad_pann", "kad_vggish")


def _suite(preset: str, metric: str) -> SuiteSpec:
    return SuiteSpec(name="s", version="1", task="generate", profile="real", loader="m:f",
                     metrics=(MetricSpec(metric),), preset=preset)


def test_every_registered_metric_is_covered():
    """A new harness metric must be added above (and so get its preset x metric tests)."""
    harness_metrics = {n for n in METRICS.names() if METRICS._lazy.get(n, "").startswith("harness.")}
    assert harness_metrics - {"mel_loss_dac_training"} <= set(PRESET_METRICS)


@pytest.mark.parametrize("preset", sorted(PRESETS))
@pytest.mark.parametrize("metric", PRESET_METRICS)
def test_preset_values_reach_the_metric(preset, metric):
    p = PRESETS[preset]
    if metric == "fad" and p.fad is None:  # the preset has no FAD convention: refused while planning
        from harness.errors import SabenchError

        with pytest.raises(SabenchError, match="defines no FAD backbone"):
            build_metrics(_suite(preset, metric))
        return
    if (metric == "is" or metric.startswith(("kl", "is_"))) and p.classifier is None:
        from harness.errors import SabenchError

        with pytest.raises(SabenchError, match="computes no IS or KL"):
            build_metrics(_suite(preset, metric))
        return
    if metric == "kad" and p.kad is None:
        from harness.errors import SabenchError

        with pytest.raises(SabenchError, match="defines no KAD backbone"):
            build_metrics(_suite(preset, metric))
        return
    (m,) = build_metrics(_suite(preset, metric))
    assert bind(m, None, preset).preset == preset  # the stored label is the suite's preset
    if hasattr(m, "preset"):
        assert m.preset == preset
    if metric.startswith("kl"):
        assert m.eps == p.kl_eps
        assert m.expected_recipe == (p.classifier.recipe if m.backbone == p.classifier.backbone else None)
    elif metric in ("is", "is_pann"):
        assert (m.splits, m.seed, m.min_items) == (p.is_splits, p.is_seed, p.is_splits)
        assert m.expected_recipe == (p.classifier.recipe if m.backbone == p.classifier.backbone else None)
    elif metric in ("fd", "fd_pann"):
        assert m.expected_recipe == (p.fd.recipe if m.backbone == p.fd.backbone else None)
        if metric == "fd":
            assert (m.backbone, m.output) == (p.fd.backbone, p.fd.output)
    elif metric in ("fad", "fad_vggish"):
        conv = p.fad
        assert m.expected_recipe == (conv.recipe if conv and m.backbone == conv.backbone else None)
    elif metric.startswith("kad"):
        same = p.kad is not None and m.backbone == p.kad.backbone
        assert m.expected_recipe == (p.kad.recipe if same else None)
        assert (m.precision, m.float16) == (p.kad_precision, p.embedding_float16)
        assert m.pool_frames == (m.output == "frames")
    elif "clap" in metric:
        assert m.eps == p.clap_eps
        same = p.clap is not None and p.clap.backbone == m.backbone
        assert m.checkpoint == (p.clap.checkpoint if same else None)
        assert m.expected_recipe == (p.clap.recipe if same else None)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_preset_recipes_reach_the_backbones(preset):
    """The run context builds each backbone with the preset's recipe (and checkpoint args)."""
    p = PRESETS[preset]
    args = backbone_args(preset)
    for conv in (p.fd, p.classifier, p.fad, p.clap, p.kad):
        if conv is None:
            continue
        if conv.recipe is not None:
            assert asdict(args[conv.backbone]["recipe"]) == asdict(conv.recipe)
        for k, v in conv.backbone_args:
            assert args[conv.backbone][k] == v


def test_a_metric_argument_naming_another_preset_is_refused():
    from harness.errors import SabenchError

    spec = SuiteSpec(name="s", version="1", task="generate", profile="real", loader="m:f",
                     metrics=(MetricSpec("kl_pann_ref_to_gen", (("preset", "sabench"),)),), preset="audioldm_eval")
    with pytest.raises(SabenchError, match="differs from the suite's preset"):
        build_metrics(spec)


def test_unknown_metric_argument_is_one_line_error():
    from harness.errors import SabenchError

    spec = SuiteSpec(name="s", version="1", task="generate", profile="real", loader="m:f",
                     metrics=(MetricSpec("fd", (("bakbone", "panns16k"),)),))
    with pytest.raises(SabenchError, match="unknown argument 'bakbone'"):
        build_metrics(spec)


class _Logits:
    """A backbone stand-in whose 'logits' for a path are fixed rows."""

    def __init__(self, table):
        from harness.records import AudioRecipe, BackboneInfo

        self.table = table
        self.info = BackboneInfo("panns16k", "0" * 64, 16000, AudioRecipe(16000))


class _Ctx:
    profile = "real"

    def __init__(self, table):
        self.table = table

    def backbone(self, name):
        return _Logits(self.table)

    def embed_audio(self, name, paths):
        yield list(range(len(paths))), {"logits": np.stack([self.table[p] for p in paths])}


@pytest.mark.parametrize("preset", ["sabench", "audioldm_eval"])
def test_kl_numbers_follow_the_suites_preset(preset):
    """KL under audioldm_eval adds 1e-6 inside the log; under sabench it is exact. Checked against
    numpy on logits where the eps matters (a near-zero generated probability): tolerance 1e-12,
    float64 on both sides."""
    from harness.metrics.base import EvalItem
    from harness.records import Prompt

    gen = np.array([[8.0, -9.0, 0.0], [0.0, 0.0, 0.0]])  # (2, 3) logits
    ref = np.array([[0.0, 1.0, 0.0], [2.0, 0.0, -1.0]])
    table = {"g0": gen[0], "g1": gen[1], "r0": ref[0], "r1": ref[1]}
    (m,) = build_metrics(_suite(preset, "kl_pann_ref_to_gen"))
    items = [EvalItem(f"i{k}", Prompt(f"i{k}", "x"), output=f"g{k}", reference=f"r{k}") for k in range(2)]
    got = m.compute(_Ctx(table), items).per_item

    def softmax(x):
        e = np.exp(x - x.max())
        return e / e.sum()
    eps = PRESETS[preset].kl_eps or 0.0
    for k in range(2):
        p, q = softmax(ref[k]), softmax(gen[k])
        want = float(np.sum(p * (np.log(p) - np.log(q + eps))))
        assert got[f"i{k}"] == pytest.approx(want, abs=1e-12)
    exact = float(np.sum(softmax(ref[0]) * (np.log(softmax(ref[0])) - np.log(softmax(gen[0])))))
    assert (abs(got["i0"] - exact) > 1e-3) == (preset == "audioldm_eval")  # the eps is visible
