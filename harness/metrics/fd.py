"""Fréchet distance metrics: `fd` (one row per clip, e.g. PANNs 2048-d) and `fad` (VGGish
frames of all clips pooled into one set).

Both stream backbone batches into float64 `GaussianStats`, never holding all embeddings.
The reference side is either the items' distinct reference files or a precomputed
statistics file (`reference_stats=`, written by `GaussianStats.save`), whose recorded
backbone checkpoint and recipe must match the backbone in use.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from harness.errors import SabenchError
from harness.metrics.base import EvalItem, Metric, MetricContext, MetricOutput
from harness.metrics.common import (
    backbone_meta,
    iter_blocks,
    metric_info,
    recipe_check,
    require_paths,
    slug,
    unique_paths,
)
from harness.metrics.numerics import frechet_distance
from harness.metrics.presets import get_preset
from harness.metrics.streaming import GaussianStats
from harness.records import MetricInfo


def embedding_stats(ctx: MetricContext, backbone: str, paths: Sequence[str], output: str,
                    pool_frames: bool, float16: bool = False) -> GaussianStats:
    """Stream `paths` through `backbone` into GaussianStats (frames pooled as rows if asked;
    rows rounded to float16 first when `float16`, as fadtk/kadtk store embeddings)."""
    meta = dict(backbone_meta(ctx, backbone), output=output, pool_frames=pool_frames, n_files=len(paths),
                embedding_float16=float16)
    stats = GaussianStats(meta=meta)
    for _indices, blocks in iter_blocks(ctx, backbone, paths, output):
        frames = {b.shape[0] for b in blocks}  # each block (F_i, D) float64
        if not pool_frames and frames != {1}:
            raise SabenchError(backbone, f"output {output!r} has {max(frames)} frames per clip",
                               "use the 'fad' metric (pools frames) or a clip-level output")
        if float16:
            for b in blocks:
                merge_float16_file(stats, b)
        else:
            stats.update(np.concatenate(blocks))  # (rows, D) float64, one merge per batch
    return stats


def merge_float16_file(stats: GaussianStats, rows: np.ndarray) -> None:
    """One clip's rows (F, D) as fadtk/kadtk's online statistics take a stored float16 file: the
    file's mean is `np.mean` of the float16 array (a float16 result), its scatter is exact (np.cov
    in float64 x (F - 1)), and files are merged with the mean-shift term."""
    r16 = np.asarray(rows).astype(np.float16)  # (F, D) as stored
    x = r16.astype(np.float64)
    xc = x - x.mean(axis=0)  # (F, D)
    stats.merge_summary(len(x), np.mean(r16, axis=0), xc.T @ xc)  # float16 mean, (D, D) float64 scatter


class FrechetMetric(Metric):
    """Set metric: FD between generated outputs and references (lower is better)."""

    def __init__(self, name: str, backbone: str, output: str = "embedding", pool_frames: bool = False,
                 reference_stats: str | None = None, preset: str = "sabench", expected_recipe=None):
        self.backbone, self.output, self.pool_frames = backbone, output, pool_frames
        self.reference_stats, self.preset, self.expected_recipe = reference_stats, preset, expected_recipe
        self.roles = ("output",) if reference_stats else ("output", "reference")
        self.float16 = get_preset(preset).embedding_float16
        self._info = metric_info(name, False, backbone, "set", preset)

    @property
    def info(self) -> MetricInfo:
        return self._info

    def _reference(self, ctx: MetricContext, items: Sequence[EvalItem], meta: dict) -> GaussianStats:
        if self.reference_stats:
            ref = GaussianStats.load(self.reference_stats)
            for key in ("checkpoint_sha256", "recipe_id", "output"):
                want = meta.get(key) if key != "output" else self.output
                have = ref.meta.get(key)
                if have is not None and have != want:
                    raise SabenchError(self.reference_stats, f"reference statistics {key} {have!r} != {want!r}",
                                       "recompute the reference statistics with this backbone and recipe")
            return ref
        refs = [p for _, (p,) in require_paths(items, ("reference",), self.name)]
        distinct, _ = unique_paths(refs)
        return embedding_stats(ctx, self.backbone, distinct, self.output, self.pool_frames, self.float16)

    def compute(self, ctx: MetricContext, items: Sequence[EvalItem]) -> MetricOutput:
        meta = backbone_meta(ctx, self.backbone)
        outs = [p for _, (p,) in require_paths(items, ("output",), self.name)]
        gen = embedding_stats(ctx, self.backbone, outs, self.output, self.pool_frames, self.float16)
        ref = self._reference(ctx, items, meta)
        fr = frechet_distance(gen.mean, gen.cov, ref.mean, ref.cov, n1=gen.count, n2=ref.count)
        extras = {
            "convention_id": f"{'fad' if self.pool_frames else 'fd'}_{slug(meta['backbone'])}_{fr.dim}",
            "frechet": fr.as_dict(), "n_gen_rows": gen.count, "n_ref_rows": ref.count,
            "n_gen_files": len(outs), "reference": self.reference_stats or "items' reference files",
            "output": self.output, "pool_frames": self.pool_frames, "backbone": meta,
            "warnings": list(fr.warnings), **recipe_check(ctx, self.backbone, self.expected_recipe),
        }
        return MetricOutput(value=fr.value, extras=extras)


def make_fd(name: str = "fd", backbone: str | None = None, output: str | None = None,
            reference_stats: str | None = None, preset: str = "sabench") -> FrechetMetric:
    """FD on one clip-level embedding per file (default: the preset's FD backbone, PANNs 16k)."""
    conv = get_preset(preset).fd
    bb = backbone or conv.backbone
    return FrechetMetric(name, bb, output or conv.output, False, reference_stats, preset,
                         conv.recipe if bb == conv.backbone else None)


def make_fad(name: str = "fad", backbone: str | None = None, output: str | None = None,
             reference_stats: str | None = None, preset: str = "sabench") -> FrechetMetric:
    """FAD: per-frame embeddings (VGGish 0.96 s frames) of all files pooled into one set."""
    conv = get_preset(preset).fad
    if conv is None:
        if not backbone:
            raise SabenchError(f"fad (preset {preset})", "the preset defines no FAD backbone", "pass backbone=")
        return FrechetMetric(name, backbone, output or "embedding", True, reference_stats, preset, None)
    bb = backbone or conv.backbone
    return FrechetMetric(name, bb, output or conv.output, True, reference_stats,
                         preset, conv.recipe if bb == conv.backbone else None)


def make_fd_pann(**kw) -> FrechetMetric:
    """Paper-facing FD (PANNs Cnn14 16 kHz, 2048-d fc1 embedding)."""
    return make_fd(**{"name": "fd_pann", "backbone": "panns16k", "output": "embedding", **kw})


def make_fad_vggish(**kw) -> FrechetMetric:
    """Paper-facing FAD (VGGish 128-d 0.96 s frames of all clips pooled; output "frames" + "n_frames")."""
    return make_fad(**{"name": "fad_vggish", "backbone": "vggish", "output": "frames", **kw})
