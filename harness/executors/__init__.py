"""Executors: where a run's generation and embedding work happens.

    executor = make_executor("local")                 # today's behaviour: this process
    executor = make_executor("ray", address=None)     # start or join a local Ray; or "host:6379"
    run_suite(spec, system, ..., executor=executor)   # same plan, same run id, same numbers
    executor.close()

An executor has

- `remote`: False for the local executor (the runner then generates in-process, as always);
- `generate(spec, system, todo, store, *, failures, show) -> {item_id: AudioSample}`: produce
  the planned samples missing from the artifact store and store them (the driver writes);
- `prepare_scoring(plan, metrics, items, context, *, show)`: fill the embedding cache for every
  (backbone, clip) the plan's metrics will read (a no-op locally: scoring embeds on demand);
- `close()`.

The executor never enters the run plan: the run id and every stored number are the same
whichever executor (and however many workers) produced them (tests/harness/test_ray_executor.py).
"""

from __future__ import annotations

from typing import Any

from harness.executors.local import LocalExecutor

EXECUTORS = ("local", "ray")


def make_executor(name: str = "local", **options: Any) -> Any:
    """The executor called `name` ("local" or "ray"); `options` go to `RayExecutor`."""
    from harness.errors import UsageError

    if name == "local":
        return LocalExecutor()
    if name == "ray":
        from harness.executors.ray import RayExecutor

        return RayExecutor(**options)
    raise UsageError(f"--executor {name}", "unknown executor", f"use one of: {', '.join(EXECUTORS)}")


__all__ = ["EXECUTORS", "LocalExecutor", "make_executor"]
