"""Mini-world metric: `synthcaps_quality`, the mean `mini_quality` score of the outputs (the
Audiobox Aesthetics stand-in; one axis, in [0, 1], higher = cleaner). The mini TTA suite
reports it next to the mini CLAP score, as TTA-Bench reports AES next to CLAP."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from harness.errors import SabenchError
from harness.metrics.base import EvalItem, Metric, MetricContext, MetricOutput
from harness.metrics.common import backbone_meta, metric_info, require_paths
from harness.records import MetricInfo


class QualityMetric(Metric):
    roles = ("output",)

    def __init__(self, name: str = "synthcaps_quality", backbone: str = "mini_quality", output: str = "quality",
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


def make_quality(name: str = "synthcaps_quality", **kw) -> QualityMetric:
    return QualityMetric(name, **kw)
