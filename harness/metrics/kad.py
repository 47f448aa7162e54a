"""Kernel Audio Distance (KAD): the unbiased MMD^2 between generated and reference embeddings
with a Gaussian (characteristic) kernel, kadtk's definition (kadtk 1.1.0, `kad.py`).

    KAD = 100 * ( mean_{i != j} k(x_i, x_j) + mean_{i != j} k(y_i, y_j) - 2 mean_{i, j} k(x_i, y_j) )
    k(a, b) = exp(-gamma |a - b|^2),  gamma = 1 / (2 h^2 + 1e-8)

x = reference rows (kadtk's "baseline"), y = generated rows ("eval"). The bandwidth h is, unless
given, the median pairwise Euclidean distance of the *generated* rows, taken as torch.median
does it (the lower of the two middle values for an even count). Squared distances are formed
from norms (|a|^2 + |b|^2 - 2 a.b), as kadtk does. `precision="float64"` (sabench's default) is
the exact value of the formula. `precision="float32"` is kadtk's default arithmetic, run as kadtk
runs it (torch float32 matmul, pdist, median, diagonal removal, sums): the norm-based squared
distances cancel badly in float32 (|a|^2 ~ 2e5 for 2048-d PANNs rows), so float32 results carry
~1e-5..1e-4 relative noise that depends on the exact operation order; only the same operations
give kadtk's float (tests/parity/test_peer_pieces.py). kadtk also sums rows in directory-listing
order, which moves its float32 result by ~2e-6 relative (measured on the parity clips).
Unlike FD, KAD needs no covariance, so it is defined for any N >= 2 per side and D.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from harness.errors import SabenchError
from harness.metrics.base import EvalItem, Metric, MetricContext, MetricOutput
from harness.metrics.common import backbone_meta, iter_blocks, metric_info, recipe_check, require_paths, unique_paths
from harness.metrics.presets import get_preset
from harness.records import MetricInfo

KAD_SCALE = 100.0
"""kadtk's SCALE_FACTOR: KAD values are reported x100."""
KAD_GAMMA_EPS = 1e-8


def median_pairwise_distance(y: np.ndarray, dtype=np.float64) -> float:
    """Lower median of the N(N-1)/2 Euclidean distances between rows of y (torch.pdist + median)."""
    y = np.asarray(y, dtype)
    n = y.shape[0]
    i, j = np.triu_indices(n, k=1)
    d = np.sqrt(((y[i] - y[j]) ** 2).sum(axis=1, dtype=dtype))  # (N(N-1)/2,)
    return float(np.sort(d)[(d.size - 1) // 2])


def kernel_audio_distance(ref: np.ndarray, gen: np.ndarray, bandwidth: float | None = None,
                          precision: str = "float64") -> tuple[float, float]:
    """(KAD, bandwidth used) between reference rows (M, D) and generated rows (N, D)."""
    if precision not in ("float32", "float64"):
        raise SabenchError("kernel_audio_distance", f"unknown precision {precision!r}", "use float32 or float64")
    dt = np.float32 if precision == "float32" else np.float64
    x: np.ndarray = np.asarray(ref, dt)  # (M, D)
    y: np.ndarray = np.asarray(gen, dt)  # (N, D)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1] or min(len(x), len(y)) < 2:
        raise SabenchError("kernel_audio_distance", f"need two (>=2, D) row sets, got {x.shape} and {y.shape}",
                           "score at least two clips (frames) per side with one backbone output")
    if precision == "float32":
        return _kad_float32_torch(x, y, bandwidth)
    h = median_pairwise_distance(y, dt) if bandwidth is None else float(bandwidth)
    gamma = dt(1.0 / (2.0 * h ** 2 + KAD_GAMMA_EPS))
    m, n = len(x), len(y)
    sx, sy = (x * x).sum(axis=1), (y * y).sum(axis=1)  # (M,), (N,)
    kxx = np.exp(-gamma * (sx[:, None] + sx[None, :] - 2 * (x @ x.T)))  # (M, M)
    kyy = np.exp(-gamma * (sy[:, None] + sy[None, :] - 2 * (y @ y.T)))  # (N, N)
    kxy = np.exp(-gamma * (sx[:, None] + sy[None, :] - 2 * (x @ y.T)))  # (M, N)
    xx = (kxx.sum(dtype=dt) - np.trace(kxx, dtype=dt)) / dt(m * (m - 1))
    yy = (kyy.sum(dtype=dt) - np.trace(kyy, dtype=dt)) / dt(n * (n - 1))
    value = (xx + yy - 2 * kxy.mean(dtype=dt)) * dt(KAD_SCALE)
    return float(value), h


def _kad_float32_torch(x: np.ndarray, y: np.ndarray, bandwidth: float | None) -> tuple[float, float]:
    """kadtk's float32 KAD, operation for operation (kadtk 1.1.0 `calc_kernel_audio_distance`)."""
    import torch

    with torch.no_grad():
        tx, ty = torch.from_numpy(x), torch.from_numpy(y)  # (M, D), (N, D) float32
        h = torch.median(torch.pdist(ty)).item() if bandwidth is None else float(bandwidth)
        gamma = 1 / (2 * h ** 2 + KAD_GAMMA_EPS)  # Python float, as kadtk

        def mean_off_diagonal(t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            tt = t @ t.T  # (K, K)
            sq = torch.diagonal(tt)  # (K,)
            k = torch.exp(-gamma * (sq.unsqueeze(1) + sq.unsqueeze(0) - 2 * tt))  # (K, K)
            k = k - torch.diag(torch.diagonal(k))
            return k.sum() / (len(t) * (len(t) - 1)), sq

        kxx, sx = mean_off_diagonal(tx)
        kyy, sy = mean_off_diagonal(ty)
        kxy = torch.exp(-gamma * (sx.unsqueeze(1) + sy.unsqueeze(0) - 2 * (tx @ ty.T))).mean()  # (M, N) -> ()
        return float((kxx + kyy - 2 * kxy) * int(KAD_SCALE)), h


def embedding_rows(ctx: MetricContext, backbone: str, paths: Sequence[str], output: str,
                   pool_frames: bool, float16: bool) -> np.ndarray:
    """(rows, D) float64: one row per clip, or every frame row when `pool_frames`."""
    rows = []
    for _idx, blocks in iter_blocks(ctx, backbone, paths, output):
        for b in blocks:
            if not pool_frames and b.shape[0] != 1:
                raise SabenchError(backbone, f"output {output!r} has {b.shape[0]} frames per clip",
                                   "use kad_vggish (pools frames) or a clip-level output")
            rows.append(b.astype(np.float16).astype(np.float64) if float16 else b)
    return np.concatenate(rows)


class KernelAudioDistanceMetric(Metric):
    """Set metric: KAD between the outputs' and the references' embeddings (lower is better)."""

    roles = ("output", "reference")

    def __init__(self, name: str, backbone: str, output: str, pool_frames: bool, preset: str,
                 expected_recipe=None, bandwidth: float | None = None):
        p = get_preset(preset)
        self.backbone, self.output, self.pool_frames, self.preset = backbone, output, pool_frames, preset
        self.expected_recipe, self.bandwidth = expected_recipe, bandwidth
        self.precision, self.float16 = p.kad_precision, p.embedding_float16
        self._info = metric_info(name, False, backbone, "set", preset)

    @property
    def info(self) -> MetricInfo:
        return self._info

    def compute(self, ctx: MetricContext, items: Sequence[EvalItem]) -> MetricOutput:
        pairs = require_paths(items, ("output", "reference"), self.name)
        outs = [o for _, (o, _r) in pairs]
        refs, _ = unique_paths([r for _, (_o, r) in pairs])
        gen = embedding_rows(ctx, self.backbone, outs, self.output, self.pool_frames, self.float16)
        ref = embedding_rows(ctx, self.backbone, refs, self.output, self.pool_frames, self.float16)
        value, h = kernel_audio_distance(ref, gen, self.bandwidth, self.precision)
        extras = {"bandwidth": h,
                  "bandwidth_source": "given" if self.bandwidth else "median pairwise distance of generated rows",
                  "n_gen_rows": int(len(gen)), "n_ref_rows": int(len(ref)), "precision": self.precision,
                  "embedding_float16": self.float16, "scale": KAD_SCALE, "output": self.output,
                  "backbone": backbone_meta(ctx, self.backbone),
                  **recipe_check(ctx, self.backbone, self.expected_recipe)}
        return MetricOutput(value=value, extras=extras)


def make_kad(name: str = "kad", backbone: str | None = None, output: str | None = None,
             bandwidth: float | None = None, preset: str = "sabench") -> KernelAudioDistanceMetric:
    """KAD on the preset's KAD backbone (default PANNs Cnn14 16 kHz clip embeddings)."""
    conv = get_preset(preset).kad
    if conv is None:
        if not backbone:
            raise SabenchError(f"kad (preset {preset})", "the preset defines no KAD backbone", "pass backbone=")
        out = output or "embedding"
        return KernelAudioDistanceMetric(name, backbone, out, out == "frames", preset, None, bandwidth)
    bb = backbone or conv.backbone
    same = conv if bb == conv.backbone else None  # the preset's convention applies
    out = output or (same.output if same else "embedding")
    return KernelAudioDistanceMetric(name, bb, out, out == "frames", preset, same.recipe if same else None, bandwidth)


def make_kad_pann(**kw) -> KernelAudioDistanceMetric:
    """KAD on PANNs Cnn14 16 kHz 2048-d clip embeddings (kadtk `panns-cnn14-16k`)."""
    return make_kad(**{"name": "kad_pann", "backbone": "panns16k", "output": "embedding", **kw})


def make_kad_vggish(**kw) -> KernelAudioDistanceMetric:
    """KAD on VGGish 128-d frames of all clips pooled (kadtk `vggish`)."""
    return make_kad(**{"name": "kad_vggish", "backbone": "vggish", "output": "frames", **kw})
