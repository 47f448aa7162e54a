"""Test kit for the runner/CLI tests: tiny suites on disk, test metrics and a test backbone.

Nothing here is a production metric: they exist to drive the pipeline with numbers that the
tests can recompute independently.

- `test_rms`: item metric, RMS of the output (via `ctx.load_audio`, 16 kHz mono recipe).
- `test_mean_rms`: set metric, mean RMS of the outputs via the `test_stats` backbone
  (exercises `ctx.embed_audio`, its batching and its cache).
- `test_boom`: a metric that always raises (failure recording).
- `test_stats` backbone: per clip [mean, rms, peak] of the shaped waveform; batch size 2.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from harness.backbones.base import Backbone
from harness.metrics.base import Metric, MetricOutput
from harness.records import Audio, AudioRecipe, BackboneInfo, MetricInfo

RECIPE = AudioRecipe(sample_rate=16000)
SR = 16000


class StatsBackbone(Backbone):
    name = "test_stats"
    batch_size = 2
    calls: list[int] = []
    """Batch sizes seen by `embed` (class-level, for assertions)."""

    @property
    def recipe(self) -> AudioRecipe:
        return RECIPE

    @property
    def info(self) -> BackboneInfo:
        return BackboneInfo("test_stats", "none", SR, RECIPE)

    def load(self) -> None:
        pass

    def embed(self, batch: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
        StatsBackbone.calls.append(len(batch))
        rows = [[float(x.mean()), float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))),
                 float(np.abs(x).max())] for x in batch]
        return {"embedding": np.asarray(rows, dtype=np.float64)}  # (B, 3)

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray([[len(t), t.count(" ")] for t in texts], dtype=np.float64)  # (B, 2)


class WeightedStatsBackbone(StatsBackbone):
    """`test_stats` behind a weights file (`$SABENCH_WEIGHTS/test_weighted.bin`): its identity is
    the file's sha256 and the embedding is scaled by the file's first byte / 64 (so the weights
    change numbers, as real weights do). Missing file -> the one-line error real backbones give."""

    name = "test_weighted"

    def _file(self) -> Path:
        from harness.errors import SabenchError
        from harness.paths import weights_root

        root = weights_root()
        path = (root / "test_weighted.bin") if root else None
        if path is None or not path.is_file():
            raise SabenchError("test_weighted.bin", "weights file missing", "put it in the weights directory")
        return path

    def load(self) -> None:
        self._file()

    @property
    def info(self) -> BackboneInfo:
        from harness.hashing import sha256_file

        return BackboneInfo("test_weighted", sha256_file(self._file()), SR, RECIPE)

    def embed(self, batch: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
        scale = self._file().read_bytes()[0] / 64.0
        return {"embedding": super().embed(batch)["embedding"] * scale}  # (B, 3)


class WeightedMeanRmsSetMetric(Metric):
    @property
    def info(self) -> MetricInfo:
        return MetricInfo("test_weighted_rms", higher_is_better=True, backbone="test_weighted", kind="set")

    def compute(self, ctx, items) -> MetricOutput:
        rows = [out["embedding"][:, 1] for _, out in ctx.embed_audio("test_weighted", [it.output for it in items])]
        return MetricOutput(value=float(np.concatenate(rows).mean()))


class FramesBackbone(StatsBackbone):
    """Variable-length frame outputs, concatenated over the batch with `n_frames` (VGGish-like):
    frame j of a clip = [mean, max|x|] of samples [400 j, 400 (j + 1))."""

    name = "test_frames"
    batch_size = 3

    @property
    def info(self) -> BackboneInfo:
        return BackboneInfo("test_frames", "none", SR, RECIPE)

    def embed(self, batch: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
        frames = [frame_stats(x) for x in batch]
        return {"frames": np.concatenate(frames),  # (sum F_i, 2)
                "n_frames": np.array([len(f) for f in frames]),  # (B,)
                "embedding": np.stack([f.mean(axis=0) for f in frames])}  # (B, 2)


def frame_stats(x: np.ndarray) -> np.ndarray:
    """(F, 2) per 400-sample frame: mean and peak (F = len(x) // 400)."""
    f = x[: len(x) // 400 * 400].astype(np.float64).reshape(-1, 400)
    return np.stack([f.mean(axis=1), np.abs(f).max(axis=1)], axis=1)


class RmsMetric(Metric):
    @property
    def info(self) -> MetricInfo:
        return MetricInfo("test_rms", higher_is_better=True, recipe=RECIPE.id())

    def compute(self, ctx, items) -> MetricOutput:
        out = {}
        for it in items:
            x = ctx.load_audio(it.output, RECIPE).astype(np.float64)  # (T,) @ 16 kHz
            out[it.item_id] = float(np.sqrt(np.mean(x * x)))
        return MetricOutput(per_item=out)


class MeanRmsSetMetric(Metric):
    @property
    def info(self) -> MetricInfo:
        return MetricInfo("test_mean_rms", higher_is_better=True, backbone="test_stats", kind="set")

    def compute(self, ctx, items) -> MetricOutput:
        total, n = 0.0, 0
        for idx, out in ctx.embed_audio("test_stats", [it.output for it in items]):
            total += float(out["embedding"][:, 1].sum())
            n += len(idx)
        return MetricOutput(value=total / n, extras={"n_clips": n})


class BoomMetric(Metric):
    @property
    def info(self) -> MetricInfo:
        return MetricInfo("test_boom", higher_is_better=True)

    def compute(self, ctx, items) -> MetricOutput:
        raise RuntimeError("boom")


def register() -> None:
    """Register the test metrics and backbone (idempotent)."""
    from harness.registry import BACKBONES, METRICS, load_catalog

    load_catalog()
    for name, cls in (("test_rms", RmsMetric), ("test_mean_rms", MeanRmsSetMetric), ("test_boom", BoomMetric),
                      ("test_weighted_rms", WeightedMeanRmsSetMetric)):
        if name not in METRICS:
            METRICS.register(name, help="test metric")(cls)
    if "test_stats" not in BACKBONES:
        BACKBONES.register("test_stats", help="test backbone")(StatsBackbone)
    if "test_weighted" not in BACKBONES:
        BACKBONES.register("test_weighted", help="test backbone behind a weights file")(WeightedStatsBackbone)
    if "test_frames" not in BACKBONES:
        BACKBONES.register("test_frames", help="test backbone (variable frames)")(FramesBackbone)


def write_suite(root: Path, n: int = 6, *, task: str = "generate",
                metrics: Sequence[str] = ("test_rms", "test_mean_rms"),
                duration: float = 0.5, seed: int = 7, replicates: int = 1, name: str = "tiny", extra: str = "") -> Path:
    """A suite folder under `root`: suite.yaml + prompts.jsonl + reference/source wavs."""
    from harness import audio

    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1234)
    rows = []
    for i in range(n):
        pid = f"p{i:02d}"
        ref = rng.uniform(-0.3, 0.3, size=(1, int(duration * SR))).astype(np.float32)  # (1, T) @ 16 kHz
        audio.write(root / f"ref_{pid}.wav", Audio(ref, SR))
        rows.append({"id": pid, "text": f"sound number {i}", "duration": duration,
                     "reference": f"ref_{pid}.wav", "source": f"ref_{pid}.wav", "source_text": "noise"})
    (root / "prompts.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    mlist = ", ".join(metrics)
    (root / "suite.yaml").write_text(
        f"name: {name}\nversion: '1'\ntask: {task}\nprofile: mini\n"
        f"loader: harness.suite:load_prompt_file\nloader_args: {{path: {root / 'prompts.jsonl'}}}\n"
        f"metrics: [{mlist}]\nseed: {seed}\nreplicates: {replicates}\n{extra}")
    return root / "suite.yaml"


def sine_reference(seed: int, frames: int, amplitude: float = 0.5) -> np.ndarray:
    """The sine system's output recomputed here (independent of systems/testing.py's code path)."""
    rng = np.random.default_rng(seed)
    f, ph = rng.uniform(110.0, 1760.0), rng.uniform(0.0, 2 * np.pi)
    t = np.arange(frames) / SR
    return (amplitude * np.sin(2 * np.pi * f * t + ph)).astype(np.float32)
