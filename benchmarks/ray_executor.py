"""The Ray executor's cost, in one run:

1. local vs Ray (2 workers) on the mini job's generation: every (suite, system) pair of the
   `mini` job for the chosen suites, `--limit` prompts each in batches of 2, into fresh
   artifact stores; wall time of each executor and their ratio (2 workers on this 2-core
   machine: < 2x at best);
2. Ray's overhead per task: round trips of a no-op actor call carrying one batch of audio
   (2 clips x 10 s @ 16 kHz float32, what a generation batch returns), measured on the same
   local cluster;
3. a simulated cluster estimate for the `paper` job on `--gpus` GPUs: every (suite, system)
   batch list-scheduled (longest first) onto the GPUs with the per-item costs of `--costs`
   (a JSON {system label or name: seconds per item}; measure yours with `sabench generate`:
   each stored sample's sidecar records its seconds) plus the measured overhead per task.
   Without `--costs` the per-item GPU costs are the ASSUMED defaults below, printed as such.

A script, not a test: `python benchmarks/ray_executor.py [--limit 6] [--suites mini-generation]`.
The machine is shared; the ratios and the per-task overhead are what matters.
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PAPER_ITEMS = {"audiocaps": 957, "ttabench": 1500, "reconstruction": 957, "editing": 200}
"""Prompts per suite in the paper job (AudioCaps 957-last, TTA-Bench accuracy 1,500, editing
200 pairs; reconstruction over the AudioCaps test clips), one replicate each."""
ASSUMED_GPU_S = {"resonate": 1.0, "tangoflux": 2.5, "base-model": 1.5, "semanticaudio": 2.0,
                 "semanticvocoder": 0.3, "source-echo": 0.0}
"""ASSUMED seconds per item on one GPU (no GPU here to measure them): replace with --costs."""
EMBED_GPU_S = 0.02
"""ASSUMED seconds per clip per backbone on a GPU (batched); 4 backbones embed each clip."""
BATCH = 8
"""Items per batch in the paper estimate."""
GEN_BATCH = 2
"""Items per batch in the measured mini generation (both executors), so each pair has batches
for both workers (numbers are not compared here, only wall time)."""


def generation(limit: int, suites: list[str], workers: int) -> None:
    from harness.artifacts import ArtifactStore
    from harness.executors.ray import RayExecutor
    from harness.job import load_job
    from harness.plan import load_prompts
    from harness.runner import Failures, produce_samples
    from harness.suite import load_suite
    from harness.system_spec import build_system

    job = load_job("mini")
    pairs = [(s, m) for s, m in job.pairs() if load_suite(s).name in suites]
    executor = RayExecutor(workers=workers)
    walls = {"local": 0.0, "ray": 0.0}
    for suite, sys_spec in pairs:
        spec = load_suite(suite)
        system = build_system(sys_spec)
        if spec.task not in system.capabilities:
            continue
        spec = replace(spec, batch_size=GEN_BATCH)  # several batches per pair: work for 2 workers
        prompts, _ = load_prompts(spec, None, limit)
        for name, ex in (("local", None), ("ray", executor)):
            with tempfile.TemporaryDirectory() as tmp:
                t0 = time.perf_counter()
                produce_samples(spec, build_system(sys_spec), prompts, ArtifactStore(Path(tmp)),
                                failures=Failures(True), show=False, executor=ex)
                dt = time.perf_counter() - t0
            walls[name] += dt
            print(f"  {spec.name} x {sys_spec}: {name} {dt:.1f} s")
    executor.close()
    print(f"generation, {len(pairs)} pairs x {limit} prompts: local {walls['local']:.1f} s, "
          f"ray x{workers} {walls['ray']:.1f} s, speed-up {walls['local'] / walls['ray']:.2f}x")


class _Echo:
    def run(self, batch):
        return batch


def overhead(n: int = 100) -> float:
    """Seconds per no-op actor task carrying one batch of audio (warm actor)."""
    import numpy as np
    import ray

    actor = ray.remote(_Echo).options(num_cpus=1).remote()
    batch = [np.zeros((1, 160000), np.float32) for _ in range(2)]  # 2 x (C=1, T=10 s @ 16 kHz)
    ray.get(actor.run.remote(batch))
    t0 = time.perf_counter()
    for _ in range(n):
        ray.get(actor.run.remote(batch))
    per = (time.perf_counter() - t0) / n
    ray.kill(actor)
    print(f"ray overhead per task (round trip, 1.3 MB batch): {1000 * per:.1f} ms")
    return per


def paper_estimate(gpus: int, costs: dict[str, float], per_task: float) -> None:
    from harness.job import load_job
    from harness.suite import load_suite
    from harness.system_spec import parse_system_spec

    job = load_job("paper")
    jobs, clips, assumed = [], 0, set()
    for suite, spec in job.pairs():
        name = parse_system_spec(spec)[0]
        label = job.label(suite, spec) or name
        cost = costs.get(label, costs.get(name))
        if cost is None:
            cost, _ = ASSUMED_GPU_S.get(name, 1.0), assumed.add(name)
        n = PAPER_ITEMS[load_suite(suite).name]
        clips += n
        jobs += [BATCH * cost + per_task] * (n // BATCH) + ([(n % BATCH) * cost + per_task] if n % BATCH else [])
    gen = _makespan(sorted(jobs, reverse=True), gpus)
    emb = clips * 4 * EMBED_GPU_S / gpus + per_task * clips * 4 / (16 * gpus)
    print(f"paper job on {gpus} GPUs: {clips} generated clips; generation {gen / 3600:.2f} h "
          f"(list-scheduled batches of {BATCH}), embedding ~{emb / 3600:.2f} h, total ~{(gen + emb) / 3600:.2f} h"
          + (f"  [ASSUMED per-item costs for: {', '.join(sorted(assumed))}; pass --costs]" if assumed else ""))


def _makespan(tasks: list[float], workers: int) -> float:
    heap = [0.0] * workers
    for t in tasks:  # longest first onto the least loaded worker (what a pulling pool approximates)
        heapq.heappush(heap, heapq.heappop(heap) + t)
    return max(heap)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=6)
    ap.add_argument("--suites", default="mini-generation", help="comma list of mini suites")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--gpus", type=int, default=8)
    ap.add_argument("--costs", help="JSON {system label or name: GPU seconds per item}")
    args = ap.parse_args()
    import ray

    os.environ.setdefault("RAY_worker_niceness", "0")  # as harness.executors.ray.connect does
    ray.init(num_cpus=args.workers, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    try:
        generation(args.limit, args.suites.split(","), args.workers)
        per_task = overhead()
    finally:
        ray.shutdown()
    paper_estimate(args.gpus, json.loads(Path(args.costs).read_text()) if args.costs else {}, per_task)


if __name__ == "__main__":
    main()
