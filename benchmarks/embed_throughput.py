"""Embedding throughput on one backbone (PANNs Cnn14 16 kHz, random weights), in one run:

1. batched embedding (files read with `harness.audio.load_many`, `backbone.batch_size` clips
   per forward) vs a per-file batch-size-1 loop (read one file, embed it; the audioldm_eval
   way) — target ≥ 3×;
2. re-scoring an already-scored set through the embedding cache (`RunContext.embed_audio`,
   `harness.artifacts.EmbeddingCache`) vs the first, uncached scoring — target ≥ 20×;
3. peak RSS while scoring 2,000 short clips through the same path.

A script, not a test: `python benchmarks/embed_throughput.py [--clips 64] [--rss-clips 2000]`.
Random weights are fine: throughput does not depend on the values. Numbers vary with the
machine's load; the ratios are what matters.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.seeding import numpy_rng  # noqa: E402

SR = 16000


def make_weights(root: Path) -> None:
    """panns/Cnn14_16k_mAP=0.438.pth with seeded random weights ({"model": state_dict})."""
    import torch

    from harness.backbones.offline import import_panns_models
    from harness.backbones.panns import VARIANTS

    v = VARIANTS["panns16k"]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net = import_panns_models().Cnn14(v.sample_rate, v.window_size, v.hop_size, v.mel_bins,
                                          v.fmin, v.fmax, v.classes)
    (root / "panns").mkdir(parents=True, exist_ok=True)
    torch.save({"model": net.state_dict()}, root / v.relpath)


def make_clips(folder: Path, n: int, seconds: float, seed: int) -> list[str]:
    from harness import audio
    from harness.records import Audio

    folder.mkdir(parents=True, exist_ok=True)
    rng = numpy_rng(seed)
    paths = []
    for i in range(n):
        x = (0.1 * rng.standard_normal((1, int(SR * seconds)))).astype(np.float32)  # (1, T) @ 16 kHz
        p = folder / f"clip{i:05d}.wav"
        audio.write(p, Audio(x, SR))
        paths.append(str(p))
    return paths


def per_file_vs_batched(bb, paths: list[str]) -> tuple[float, float]:
    from harness import audio

    bb.embed([audio.load(paths[0], bb.recipe)])  # warm-up
    t0 = time.perf_counter()
    for p in paths:
        bb.embed([audio.load(p, bb.recipe)])
    loop = time.perf_counter() - t0
    t0 = time.perf_counter()
    for s in range(0, len(paths), bb.batch_size):
        bb.embed(audio.load_many(paths[s:s + bb.batch_size], bb.recipe))
    batched = time.perf_counter() - t0
    return loop, batched


def score_all(ctx, paths: list[str]) -> tuple[float, int]:
    t0 = time.perf_counter()
    rows = 0
    for _idx, out in ctx.embed_audio("panns16k", paths):
        rows += out["embedding"].shape[0]
    return time.perf_counter() - t0, rows


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=64, help="clips for the throughput/cache runs")
    ap.add_argument("--seconds", type=float, default=1.0, help="clip length for the throughput runs")
    ap.add_argument("--rss-clips", type=int, default=2000, help="short clips for the peak-RSS run")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--_rss-child", dest="rss_child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    if args.rss_child:
        rss_child(Path(args.rss_child))
        return

    from harness.backbones.panns import PannsCnn14
    from harness.context import RunContext

    with tempfile.TemporaryDirectory(prefix="sabench-embed-bench-") as tmp:
        root = Path(tmp)
        make_weights(root / "weights")
        paths = make_clips(root / "clips", args.clips, args.seconds, seed=1)
        bb = PannsCnn14("panns16k", weights=root / "weights")
        bb.load()
        loop, batched = per_file_vs_batched(bb, paths)
        print(f"[1] {len(paths)} clips of {args.seconds:g} s, batch {bb.batch_size}, {args.threads} thread(s)")
        print(f"    per-file loop : {loop:8.2f} s  ({len(paths) / loop:7.1f} clips/s)")
        print(f"    batched       : {batched:8.2f} s  ({len(paths) / batched:7.1f} clips/s)")
        print(f"    ratio         : {loop / batched:8.2f}x   (target >= 3x)")

        args_bb = {"panns16k": {"weights": str(root / "weights")}}
        first_ctx = RunContext("real", cache_dir=root / "cache", backbone_args=args_bb)
        first_ctx.backbone("panns16k")  # load outside the timing
        first, n1 = score_all(first_ctx, paths)
        again_ctx = RunContext("real", cache_dir=root / "cache", backbone_args=args_bb)
        again_ctx.backbone("panns16k")
        again, n2 = score_all(again_ctx, paths)
        assert n1 == n2 == len(paths) and again_ctx.stats["audio_misses"] == 0
        print(f"[2] first scoring {first:.2f} s, cached re-score {again:.3f} s "
              f"(hits {again_ctx.stats['audio_hits']}): {first / again:.1f}x   (target >= 20x)")

        del bb, first_ctx, again_ctx
        rss_run(root, args)


def rss_run(root: Path, args: argparse.Namespace) -> None:
    """Stage 3 in a fresh interpreter, so its peak RSS is not inflated by stages 1-2."""
    import subprocess

    short = make_clips(root / "short", args.rss_clips, 1.0, seed=2)
    listing = root / "short.txt"
    listing.write_text("\n".join(short))
    cmd = [sys.executable, __file__, "--_rss-child", str(root), "--threads", str(args.threads)]
    print(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip())


def rss_child(root: Path) -> None:
    from harness.context import RunContext

    short = (root / "short.txt").read_text().split("\n")
    ctx = RunContext("real", cache_dir=root / "cache_rss",
                     backbone_args={"panns16k": {"weights": str(root / "weights")}})
    ctx.backbone("panns16k")
    loaded = rss_mb()
    took, n = score_all(ctx, short)
    print(f"[3] scored {n} clips of 1 s in {took:.1f} s ({n / took:.1f} clips/s); peak RSS "
          f"{rss_mb():.0f} MB (after loading the backbone: {loaded:.0f} MB)")

if __name__ == "__main__":
    main()
