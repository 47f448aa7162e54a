"""Throughput of `harness.audio.load_many` against a naive per-file loop, in the same run.

Writes synthetic clips (mixed rates, channels and sample formats, like real submissions)
to a temporary folder, then shapes them for a 16 kHz backbone (kaiser_best, 10 s crop):

- naive: per file, soundfile.read -> channel mean -> torchaudio.functional.resample (which
  rebuilds the sinc kernel on every call) -> crop, one file after another;
- fast: `load_many(paths, recipe, workers=W)` (kernels cached per rate pair, thread pool).

Both are timed after one untimed pass that warms the OS page cache, and the fast path's
kernel cache is cleared first, so kernel construction is counted once. Prints clips/s for
each, the ratio, and the largest difference between the two outputs (same kernel formula,
so it should be 0 or float32 rounding).

    .venv/bin/python benchmarks/audio_throughput.py --clips 32 --workers 2
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from harness import audio
from harness.records import AudioRecipe
from harness.seeding import numpy_rng

FORMATS = [(44100, 2, "PCM_16"), (48000, 1, "FLOAT"), (32000, 1, "PCM_16"),
           (24000, 1, "PCM_24"), (16000, 1, "PCM_16"), (22050, 2, "PCM_16")]


def write_clips(folder: Path, n: int, seconds: float, seed: int = 0) -> list[Path]:
    rng = numpy_rng(seed)
    paths = []
    for i in range(n):
        sr, ch, subtype = FORMATS[i % len(FORMATS)]
        x = np.clip(rng.standard_normal((int(sr * seconds), ch)) * 0.2, -1, 1)  # (T, C) @ sr
        p = folder / f"clip{i:04d}.wav"
        sf.write(p, x.astype(np.float32), sr, subtype=subtype)
        paths.append(p)
    return paths


def naive(paths: list[Path], recipe: AudioRecipe) -> list[np.ndarray]:
    import torch
    import torchaudio.functional as F

    prm = audio.RESAMPLERS[recipe.resampler]
    n = int(round(recipe.max_seconds * recipe.sample_rate))
    out = []
    for p in paths:
        x, sr = sf.read(str(p), dtype="float32", always_2d=True)  # (T, C) @ sr
        mono = torch.from_numpy(np.ascontiguousarray(x.mean(axis=1, dtype=np.float32)))[None]
        if sr != recipe.sample_rate:
            mono = F.resample(mono, sr, recipe.sample_rate,
                              lowpass_filter_width=prm["lowpass_filter_width"],
                              rolloff=prm["rolloff"], resampling_method=prm["resampling_method"],
                              beta=prm["beta"])
        y = mono[0, :n].numpy()
        out.append(np.pad(y, (0, n - y.shape[0])))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=24)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    recipe = AudioRecipe(16000, length="crop", max_seconds=args.seconds)
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_clips(Path(tmp), args.clips, args.seconds)
        for p in paths:  # warm the page cache for both contenders
            p.read_bytes()
        t0 = time.perf_counter()
        ref = naive(paths, recipe)
        t_naive = time.perf_counter() - t0
        audio._torch_resampler.cache_clear()
        t0 = time.perf_counter()
        fast = audio.load_many(paths, recipe, workers=args.workers)
        t_fast = time.perf_counter() - t0
    diff = max(float(np.max(np.abs(a - b))) for a, b in zip(ref, fast, strict=True))
    print(f"clips={args.clips} seconds={args.seconds} workers={args.workers} "
          f"torch_threads={args.threads} recipe={recipe.id()} ({recipe.resampler}, 16 kHz)")
    print(f"naive per-file loop : {args.clips / t_naive:8.2f} clips/s ({t_naive:.2f} s)")
    print(f"load_many           : {args.clips / t_fast:8.2f} clips/s ({t_fast:.2f} s)")
    print(f"speed-up            : {t_naive / t_fast:8.2f}x   max |diff| = {diff:.2e}")


if __name__ == "__main__":
    main()
