"""Embedding on Ray workers, with exactly the batches a local run would embed.

`RemoteEmbedder` is installed as `RunContext.prefetch` by `RayExecutor.prepare_scoring`. When a
metric asks the context for a backbone's outputs over `paths`, the context's own loop walks
the batches as always; before it starts, the embedder works out every batch's cache misses
(the same slices, the same misses a local run embeds: a clip already embedded by an earlier
batch of the call is a hit, as it would be locally) and submits them all to the backbone's
actor pool, so the workers embed them in parallel while the driver consumes them in order and
writes the cache. Batch composition and (with `threads` matching the driver's) the torch
thread count are those of a local run, so every output -- hence every stored number -- is
bit-identical to the local executor's on the same hardware.

A batch that does not come back clean (a clip failing on the worker, or workers lost
`max_attempts` times) is embedded by the driver through `RunContext._embed_isolating`, so a
bad clip is isolated and blamed exactly as in a local run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from harness.executors.pool import LOST, ActorPool, Task
from harness.executors.workers import EmbedWorker, raise_payload


class RemoteEmbedder:
    """`prefetch(ctx, bb, paths, step) -> take(start, missing) -> [outputs per clip]`."""

    def __init__(self, executor: Any, plan: Any):
        from harness.metrics.presets import backbone_args

        self.executor, self.args = executor, backbone_args(plan.preset)
        self.n_clips = int(plan.n_samples)

    def _pool(self, ctx: Any, bb: Any, n_batches: int) -> ActorPool:
        ex = self.executor
        key = (bb.name, bb.info, ctx.profile, repr(sorted(self.args.items())), getattr(ctx, "device", None))
        if key not in ex.pools:
            for other in list(ex.pools):  # one backbone's replicas at a time: they hold the CPUs/GPUs
                ex.pools.pop(other).close()
            gpus = float(ex.score_gpus if ex.score_gpus is not None else str(bb.info.device).startswith("cuda"))
            n = ex.replicas(f"backbone {bb.name}", gpus, n_batches)
            actor = ex.ray.remote(EmbedWorker).options(num_cpus=ex.cpus, num_gpus=gpus, max_restarts=0)
            profile, name, args, device, threads = ctx.profile, bb.name, self.args, getattr(ctx, "device", None), \
                ex.threads
            ex.pools[key] = ActorPool(
                ex.ray, lambda slot: actor.remote(profile, name, args, device, threads), n,
                lambda a, batch: a.embed.remote([(Path(p).suffix, Path(p).read_bytes()) for p in batch]),
                hello=ex.hello_check(f"backbone {name}", bb.info), max_attempts=ex.max_attempts,
                label=f"embed {name}", on_dispatch=ex.dispatch_hook("embed"))
        return ex.pools[key]

    def __call__(self, ctx: Any, bb: Any, paths: Sequence[str], step: int) -> Callable[[int, list[str]], list]:
        info, seen = bb.info, set()
        tasks = []
        for start in range(0, len(paths), step):
            keys = [ctx.cache.key(ctx.file_sha256(p), info) for p in paths[start:start + step]]
            miss = [p for p, k in zip(paths[start:start + step], keys, strict=True)
                    if k not in seen and not ctx.cache.path_for(k).exists()]
            seen.update(keys)
            if miss:
                tasks.append(Task(start, miss, tuple(miss)))
        if not tasks:
            return lambda start, missing: ctx._embed_isolating(bb, missing)
        wanted = max(len(tasks), -(-self.n_clips // step))  # replicas for the run's clips, not one call's
        stream = iter(self._pool(ctx, bb, wanted).run(tasks))
        done: dict[int, tuple[Task, Any]] = {}
        planned = {t.index: t.payload for t in tasks}

        def take(start: int, missing: list[str]) -> list:
            if planned.get(start) != missing:  # the cache changed under us: embed here, like local
                return ctx._embed_isolating(bb, missing)
            while start not in done:
                try:
                    task, value = next(stream)
                except StopIteration:
                    return ctx._embed_isolating(bb, missing)
                done[task.index] = (task, value)
            task, value = done.pop(start)
            if value is LOST:
                return ctx._embed_isolating(bb, missing)
            raise_payload(value)
            rows = value["rows"]
            if len(rows) != len(missing) or any(r is None for r in rows):
                return ctx._embed_isolating(bb, missing)  # a bad clip: isolated and named here
            self.executor.stats["embedded"][value["pid"]] += len(rows)
            return rows

        return take


__all__ = ["RemoteEmbedder"]
