"""CLAP text-audio metrics (item metrics, raw cosine in [-1, 1], higher is better).

- `clap`:        cos(audio embedding of the output, text embedding of prompt.text)
- `clap_target`: editing, cos(edited output, target text) (prompt.text is the target text)
- `delta_clap`:  editing, cos(edited, target) - cos(source audio, target)

Cosine is a.b / max(|a||b|, 1e-8) on whatever the backbone returns (LAION-CLAP embeddings are
L2-normalised, MS-CLAP's are not; cosine is the same either way). Never x100, never clipped.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

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
from harness.metrics.numerics import cosine
from harness.metrics.presets import get_preset
from harness.records import MetricInfo

MODES = ("text", "target", "delta")


class ClapMetric(Metric):
    """CLAP cosine between audio and text embeddings of one text-audio backbone."""

    def __init__(self, name: str, backbone: str, mode: str = "text", output: str = "embedding",
                 eps: float = 1e-8, preset: str = "sabench", checkpoint: str | None = None, expected_recipe=None):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        self.backbone, self.mode, self.output, self.eps = backbone, mode, output, eps
        self.preset, self.checkpoint, self.expected_recipe = preset, checkpoint, expected_recipe
        self.roles = ("output", "source") if mode == "delta" else ("output",)
        self._info = metric_info(name, True, backbone, "item", preset)

    @property
    def info(self) -> MetricInfo:
        return self._info

    def _audio(self, ctx: MetricContext, paths: list[str]) -> np.ndarray:
        distinct, idx = unique_paths(paths)
        return per_clip_vectors(ctx, self.backbone, distinct, self.output)[np.asarray(idx)]  # (N, D)

    def _text(self, ctx: MetricContext, texts: list[str]) -> np.ndarray:
        distinct, idx = unique_paths(texts)
        emb = np.asarray(ctx.embed_text(self.backbone, distinct), np.float64)  # (U, D)
        return emb[np.asarray(idx)]  # (N, D)

    def compute(self, ctx: MetricContext, items: Sequence[EvalItem]) -> MetricOutput:
        meta = backbone_meta(ctx, self.backbone)
        pairs = require_paths(items, self.roles, self.name)
        by_id = {it.item_id: it for it in items}
        ids = [i for i, _ in pairs]
        text = self._text(ctx, [by_id[i].prompt.text for i in ids])  # (N, D)
        score = cosine(self._audio(ctx, [p[0] for _, p in pairs]), text, self.eps)  # (N,)
        extras = {"convention_id": f"clap_{slug(meta['backbone'])}_cos",
                  "mode": self.mode, "eps": self.eps, "n": len(ids), "backbone": meta,
                  "preset_checkpoint": self.checkpoint, **recipe_check(ctx, self.backbone, self.expected_recipe)}
        if self.mode == "delta":
            source = cosine(self._audio(ctx, [p[1] for _, p in pairs]), text, self.eps)  # (N,)
            extras.update(mean_clap_target=float(score.mean()), mean_clap_source=float(source.mean()))
            score = score - source
        return MetricOutput(per_item=dict(zip(ids, map(float, score), strict=True)), extras=extras)


def make_clap(name: str = "clap", backbone: str | None = None, mode: str = "text", output: str = "embedding",
              eps: float | None = None, preset: str = "sabench") -> ClapMetric:
    """CLAP score (defaults from the preset's CLAP convention)."""
    p = get_preset(preset)
    conv = p.clap
    bb = backbone or (conv.backbone if conv else "laion_clap")
    same = conv if conv is not None and conv.backbone == bb else None  # the preset's convention applies
    return ClapMetric(name, bb, mode, output, p.clap_eps if eps is None else eps, preset,
                      same.checkpoint if same else None, same.recipe if same else None)


def make_clap_laion(**kw) -> ClapMetric:
    return make_clap(**{"name": "clap_laion", "backbone": "laion_clap", **kw})


def make_clap_ms(**kw) -> ClapMetric:
    """TTA-Bench CLAP: MS-CLAP 2023 plain cosine."""
    return make_clap(**{"name": "clap_ms", "backbone": "ms_clap", **kw})


def make_clap_target(**kw) -> ClapMetric:
    """Editing: CLAP(edited output, target text)."""
    return make_clap(**{"name": "clap_target", "backbone": "laion_clap", "mode": "target", **kw})


def make_delta_clap(**kw) -> ClapMetric:
    """Editing: CLAP(edited, target) - CLAP(source, target)."""
    return make_clap(**{"name": "delta_clap", "backbone": "laion_clap", "mode": "delta", **kw})
