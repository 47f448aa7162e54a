"""Audiobox Aesthetics axes as item metrics (TTA-Bench AES): CE, CU, PC, PQ.

The `aesthetics` backbone returns one score per clip and axis, `{"CE": (B,), "CU": (B,), ...}`
(≈ 1-10, 10 s windows length-weighted by the backbone). Each axis is its own metric, higher
is better; the run value is the mean over items (TTA-Bench averages each axis over files).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from harness.errors import SabenchError
from harness.metrics.base import EvalItem, Metric, MetricContext, MetricOutput
from harness.metrics.common import backbone_meta, metric_info, require_paths, slug
from harness.records import MetricInfo

AXES = {"CE": "Content Enjoyment", "CU": "Content Usefulness", "PC": "Production Complexity",
        "PQ": "Production Quality"}


class AestheticsMetric(Metric):
    """Per-item Audiobox Aesthetics score on one axis."""

    roles = ("output",)

    def __init__(self, name: str, axis: str, backbone: str = "aesthetics", preset: str = "sabench"):
        axis = axis.upper()
        if axis not in AXES:
            raise SabenchError(f"aes axis {axis!r}", "unknown", f"use one of {sorted(AXES)}")
        self.axis, self.backbone, self.preset = axis, backbone, preset
        self._info = metric_info(name, True, backbone, "item", preset)

    @property
    def info(self) -> MetricInfo:
        return self._info

    def compute(self, ctx: MetricContext, items: Sequence[EvalItem]) -> MetricOutput:
        meta = backbone_meta(ctx, self.backbone)
        pairs = require_paths(items, ("output",), self.name)
        paths = [p for _, (p,) in pairs]
        values: list[float | None] = [None] * len(paths)
        for indices, outputs in ctx.embed_audio(self.backbone, paths):
            if self.axis not in outputs:
                raise SabenchError(self.backbone, f"no {self.axis!r} output (has {sorted(outputs)})",
                                   "use the Audiobox Aesthetics backbone")
            col = np.asarray(outputs[self.axis], np.float64).reshape(-1)  # (b,)
            for i, v in zip(indices, col, strict=True):
                values[i] = float(v)
        missing = [paths[i] for i, v in enumerate(values) if v is None]
        if missing:
            raise SabenchError(missing[0], f"{self.backbone} returned no score", "check the audio file")
        per_item = {item_id: v for (item_id, _), v in zip(pairs, values, strict=True) if v is not None}
        extras = {"convention_id": f"aes_{self.axis.lower()}_{slug(meta['backbone'])}", "axis": AXES[self.axis],
                  "n": len(per_item), "backbone": meta}
        return MetricOutput(per_item=per_item, extras=extras)


def make_aes(axis: str = "CU", name: str | None = None, backbone: str = "aesthetics",
             preset: str = "sabench") -> AestheticsMetric:
    return AestheticsMetric(name or f"aes_{axis.lower()}", axis, backbone, preset)


def make_aes_ce(**kw) -> AestheticsMetric:
    return make_aes("CE", **kw)


def make_aes_cu(**kw) -> AestheticsMetric:
    return make_aes("CU", **kw)


def make_aes_pc(**kw) -> AestheticsMetric:
    return make_aes("PC", **kw)


def make_aes_pq(**kw) -> AestheticsMetric:
    return make_aes("PQ", **kw)
