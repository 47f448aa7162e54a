"""Metric classes of the mini world (wiring only; numerics in suites/synthcaps/metrics.py).

- `EventPresence` ("exact" or "jaccard"): detected sources from the mini semantic encoder's
  frame posteriors (sigmoid of "frame_logits") of the output vs the prompt's scene
  (tag "events"; editing rows use the target scene).
- `EventOrder`: order accuracy of the prompt's foreground sources (tag "order"); items with
  fewer than two foreground events are not scored.
- `EditDistance` ("mel" or "latent"): output vs the ground-truth reference (lower is better).
- `QualityMetric`: the mean `mini_quality` score of the outputs (the Audiobox Aesthetics
  stand-in; one axis, in [0, 1], higher = cleaner), reported by the mini TTA suite next to
  the mini CLAP score, as TTA-Bench reports AES next to CLAP.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from harness.errors import SabenchError
from harness.metrics.base import EvalItem, Metric, MetricContext, MetricOutput
from harness.metrics.common import backbone_meta, iter_blocks, metric_info, require_paths
from harness.records import AudioRecipe, MetricInfo
from suites.synthcaps import metrics as N


def _blocks(ctx: MetricContext, backbone: str, paths: list[str], key: str) -> list[np.ndarray]:
    out: list[np.ndarray | None] = [None] * len(paths)
    for indices, blocks in iter_blocks(ctx, backbone, paths, key):
        for i, b in zip(indices, blocks, strict=True):
            out[i] = b
    return out  # type: ignore[return-value]


class EventPresence(Metric):
    def __init__(self, name: str, mode: str = "exact", backbone: str = "mini_semantic",
                 threshold: float = 0.5, min_frames: int = 2, preset: str = "sabench"):
        if mode not in ("exact", "jaccard"):
            raise ValueError("mode must be 'exact' or 'jaccard'")
        self.mode, self.backbone, self.threshold, self.min_frames = mode, backbone, threshold, min_frames
        # no preset names a convention of the mini metrics: the suite's preset is only recorded
        self._info = metric_info(name, True, backbone, "item", preset)

    @property
    def info(self) -> MetricInfo:
        return self._info

    def compute(self, ctx: MetricContext, items: Sequence[EvalItem]) -> MetricOutput:
        meta = backbone_meta(ctx, self.backbone)
        pairs = require_paths(items, ("output",), self.name)
        by_id = {it.item_id: it for it in items}
        logits = _blocks(ctx, self.backbone, [p[0] for _, p in pairs], "frame_logits")
        score = N.presence_exact if self.mode == "exact" else N.presence_jaccard
        per = {}
        for (item_id, _), lg in zip(pairs, logits, strict=True):
            found = N.detected_sources(N.sigmoid(lg), self.threshold, self.min_frames)
            per[item_id] = score(found, by_id[item_id].prompt.tag("events", ()))
        return MetricOutput(per_item=per, extras={"mode": self.mode, "threshold": self.threshold,
                                                  "min_frames": self.min_frames, "backbone": meta})


class EventOrder(EventPresence):
    def __init__(self, name: str, backbone: str = "mini_semantic", threshold: float = 0.5,
                 min_frames: int = 2, preset: str = "sabench"):
        super().__init__(name, "exact", backbone, threshold, min_frames, preset)

    def compute(self, ctx: MetricContext, items: Sequence[EvalItem]) -> MetricOutput:
        meta = backbone_meta(ctx, self.backbone)
        pairs = [(i, p) for i, p in require_paths(items, ("output",), self.name)]
        by_id = {it.item_id: it for it in items}
        pairs = [(i, p) for i, p in pairs if len(by_id[i].prompt.tag("order", ())) >= 2]
        per = {}
        if pairs:
            logits = _blocks(ctx, self.backbone, [p[0] for _, p in pairs], "frame_logits")
            for (item_id, _), lg in zip(pairs, logits, strict=True):
                order = by_id[item_id].prompt.tag("order", ())
                per[item_id] = N.order_accuracy(N.sigmoid(lg), order, self.threshold,
                                                self.min_frames)
        return MetricOutput(per_item=per, extras={"scored": len(per), "skipped": len(items) - len(per),
                                                  "backbone": meta})


class EditDistance(Metric):
    roles = ("output", "reference")

    MEL_RECIPE = AudioRecipe(sample_rate=16000, mono="mean", length="full")
    """How the mel mode shapes both clips (no backbone: the recipe id is the metric's identity)."""

    def __init__(self, name: str, mode: str = "mel", preset: str = "sabench"):
        if mode not in ("mel", "latent"):
            raise ValueError("mode must be 'mel' or 'latent'")
        self.mode = mode
        self.backbone = "mini_vae" if mode == "latent" else None
        self._info = metric_info(name, False, self.backbone, "item", preset)
        if mode == "mel":
            self._info = MetricInfo(name, False, None, None, self.MEL_RECIPE.id(), kind="item", preset=preset)

    @property
    def info(self) -> MetricInfo:
        return self._info

    def compute(self, ctx: MetricContext, items: Sequence[EvalItem]) -> MetricOutput:
        pairs = require_paths(items, self.roles, self.name)
        if self.mode == "latent":
            meta = backbone_meta(ctx, "mini_vae")
            paths = [p for _, ps in pairs for p in ps]
            lat = _blocks(ctx, "mini_vae", paths, "latents")
            per = {i: N.latent_l2(lat[2 * k], lat[2 * k + 1]) for k, (i, _) in enumerate(pairs)}
            return MetricOutput(per_item=per, extras={"backbone": meta})
        recipe = self.MEL_RECIPE
        per = {i: N.logmel_l1(ctx.load_audio(o, recipe), ctx.load_audio(r, recipe))
               for i, (o, r) in pairs}
        return MetricOutput(per_item=per, extras={"recipe": recipe.id()})


def make_event_presence(name: str = "mini_event_presence", **kw) -> EventPresence:
    return EventPresence(name, "exact", **kw)


def make_event_jaccard(name: str = "mini_event_jaccard", **kw) -> EventPresence:
    return EventPresence(name, "jaccard", **kw)


def make_event_order(name: str = "mini_event_order", **kw) -> EventOrder:
    return EventOrder(name, **kw)


def make_edit_mel_l1(name: str = "mini_edit_mel_l1", preset: str = "sabench") -> EditDistance:
    return EditDistance(name, "mel", preset)


def make_edit_latent_l2(name: str = "mini_edit_latent_l2", preset: str = "sabench") -> EditDistance:
    return EditDistance(name, "latent", preset)


class QualityMetric(Metric):
    roles = ("output",)

    def __init__(self, name: str = "mini_quality", backbone: str = "mini_quality", output: str = "quality",
                 preset: str = "sabench"):
        self.backbone, self.output = backbone, output
        self._info = metric_info(name, True, backbone, "item", preset)  # no preset convention: recorded only

    @property
    def info(self) -> MetricInfo:
        return self._info

    def compute(self, ctx: MetricContext, items: Sequence[EvalItem]) -> MetricOutput:
        meta = backbone_meta(ctx, self.backbone)
        pairs = require_paths(items, self.roles, self.name)
        values: list[float | None] = [None] * len(pairs)
        for indices, outputs in ctx.embed_audio(self.backbone, [p for _, (p,) in pairs]):
            if self.output not in outputs:
                raise SabenchError(self.backbone, f"no {self.output!r} output (has {sorted(outputs)})",
                                   "use the mini_quality backbone")
            for i, v in zip(indices, np.asarray(outputs[self.output], np.float64).reshape(-1), strict=True):
                values[i] = float(v)
        per = {item_id: v for (item_id, _), v in zip(pairs, values, strict=True) if v is not None}
        return MetricOutput(per_item=per, extras={"backbone": meta, "n": len(per)})


def make_quality(name: str = "mini_quality", **kw) -> QualityMetric:
    return QualityMetric(name, **kw)
