"""Classifier metrics on PANNs-style logits: Inception Score (set) and paired KL (item).

IS gathers all output logits (N x 527 float64 = 42 MB for 10,000 clips) because its splits
are a seeded permutation of all rows. KL is per pair: output logits vs the logits of the
same item's reference, keyed by item id (never by order), in a direction named by the metric.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np

from harness.errors import SabenchError
from harness.metrics.base import EvalItem, Metric, MetricContext, MetricOutput
from harness.metrics.common import (
    backbone_meta,
    metric_info,
    per_clip_vectors,
    recipe_check,
    require_paths,
    slug,
    unique_paths,
)
from harness.metrics.numerics import inception_score, kl_softmax
from harness.metrics.presets import get_preset
from harness.records import MetricInfo

T = TypeVar("T", int, float)


class InceptionScoreMetric(Metric):
    """Set metric: IS of the outputs' softmax class distributions (higher is better)."""

    roles = ("output",)

    def __init__(self, name: str, backbone: str, output: str, splits: int, seed: int | None,
                 preset: str, expected_recipe=None):
        self.backbone, self.output, self.splits, self.seed = backbone, output, splits, seed
        self.preset, self.expected_recipe = preset, expected_recipe
        self.min_items = splits
        """The plan refuses fewer items than splits (checked before any work, not after it)."""
        self._info = metric_info(name, True, backbone, "set", preset)

    @property
    def info(self) -> MetricInfo:
        return self._info

    def compute(self, ctx: MetricContext, items: Sequence[EvalItem]) -> MetricOutput:
        meta = backbone_meta(ctx, self.backbone)
        pairs = require_paths(items, ("output",), self.name)
        logits = per_clip_vectors(ctx, self.backbone, [p for _, (p,) in pairs], self.output)  # (N, C)
        mean, std = inception_score(logits, self.splits, self.seed)
        extras = {"convention_id": f"is_{slug(meta['backbone'])}_softmax_{self.splits}splits_seed{self.seed}",
                  "std": std, "splits": self.splits, "shuffle_seed": self.seed, "n": len(pairs),
                  "classes": int(logits.shape[1]), "backbone": meta,
                  **recipe_check(ctx, self.backbone, self.expected_recipe)}
        return MetricOutput(value=mean, extras=extras)


class KLMetric(Metric):
    """Item metric: KL between softmax class distributions of output and reference (lower is better)."""

    roles = ("output", "reference")

    def __init__(self, name: str, backbone: str, output: str, direction: str, eps: float | None,
                 preset: str, expected_recipe=None):
        self.backbone, self.output, self.direction, self.eps = backbone, output, direction, eps
        self.preset, self.expected_recipe = preset, expected_recipe
        self._info = metric_info(name, False, backbone, "item", preset)

    @property
    def info(self) -> MetricInfo:
        return self._info

    def compute(self, ctx: MetricContext, items: Sequence[EvalItem]) -> MetricOutput:
        meta = backbone_meta(ctx, self.backbone)
        pairs = require_paths(items, ("output", "reference"), self.name)
        ids = [i for i, _ in pairs]
        gen = per_clip_vectors(ctx, self.backbone, [o for _, (o, _r) in pairs], self.output)  # (N, C)
        distinct, idx = unique_paths([r for _, (_o, r) in pairs])
        ref = per_clip_vectors(ctx, self.backbone, distinct, self.output)[np.asarray(idx)]  # (N, C)
        kl = kl_softmax(gen, ref, self.direction, self.eps)  # (N,)
        extras = {"convention_id": f"kl_{slug(meta['backbone'])}_{self.direction}",
                  "direction": "KL(ref||gen)" if self.direction == "ref_to_gen" else "KL(gen||ref)",
                  "eps": self.eps, "pairing": "by item id", "n": len(ids), "backbone": meta,
                  **recipe_check(ctx, self.backbone, self.expected_recipe)}
        return MetricOutput(per_item=dict(zip(ids, map(float, kl), strict=True)), extras=extras)


def _or_preset(metric: str, arg: str, value: T | None | str, preset_value: T | None) -> T | None:
    """`value`, or the preset's when it is the string "preset" (the only string accepted)."""
    if isinstance(value, str):
        if value != "preset":
            raise SabenchError(f"metric {metric}", f"{arg} {value!r} is not a number",
                               f"give a number, null, or 'preset' for the preset's {arg}")
        return preset_value
    return value


def _with_classifier(preset: str, backbone: str | None):
    p = get_preset(preset)
    if p.classifier is None:
        from harness.errors import SabenchError

        raise SabenchError(f"preset {preset}", f"{p.toolkit} computes no IS or KL",
                           "drop IS/KL from this suite or use the audioldm_eval / av_benchmark / sabench preset")
    return p


def make_is(name: str = "is", backbone: str | None = None, output: str | None = None,
            splits: int | None = None, seed: int | None | str = "preset",
            preset: str = "sabench") -> InceptionScoreMetric:
    """Inception Score (defaults from the preset: PANNs 16k logits, 10 splits, seed 2020)."""
    p = _with_classifier(preset, backbone)
    bb = backbone or p.classifier.backbone
    return InceptionScoreMetric(name, bb, output or p.classifier.output, splits or p.is_splits,
                                _or_preset(name, "seed", seed, p.is_seed), preset,
                                p.classifier.recipe if bb == p.classifier.backbone else None)


def make_kl(direction: str, name: str | None = None, backbone: str | None = None, output: str | None = None,
            eps: float | None | str = "preset", preset: str = "sabench") -> KLMetric:
    """Paired KL in an explicit direction; eps from the preset unless given (None = exact)."""
    p = _with_classifier(preset, backbone)
    bb = backbone or p.classifier.backbone
    return KLMetric(name or f"kl_{direction}", bb, output or p.classifier.output, direction,
                    _or_preset(name or f"kl_{direction}", "eps", eps, p.kl_eps), preset,
                    p.classifier.recipe if bb == p.classifier.backbone else None)


def make_kl_ref_to_gen(**kw) -> KLMetric:
    """KL(ref || gen) (audioldm_eval, av-benchmark direction)."""
    return make_kl("ref_to_gen", **kw)


def make_kl_gen_to_ref(**kw) -> KLMetric:
    """KL(gen || ref) (stable-audio-metrics direction)."""
    return make_kl("gen_to_ref", **kw)


def make_is_pann(**kw) -> InceptionScoreMetric:
    return make_is(**{"name": "is_pann", "backbone": "panns16k", "output": "logits", **kw})


def make_kl_pann_ref_to_gen(**kw) -> KLMetric:
    return make_kl("ref_to_gen", **{"name": "kl_pann_ref_to_gen", "backbone": "panns16k", "output": "logits", **kw})


def make_kl_pann_gen_to_ref(**kw) -> KLMetric:
    return make_kl("gen_to_ref", **{"name": "kl_pann_gen_to_ref", "backbone": "panns16k", "output": "logits", **kw})
