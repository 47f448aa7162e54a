"""A pull-based pool of Ray actors with bounded retry of lost workers.

    for task, value in run_pool(ray, spawn, n_workers, tasks, call, max_attempts=3, label="generate"):
        ...   # value is the worker's answer, or LOST after max_attempts lost workers

Each idle actor takes the next batch from the queue as soon as it finishes one (dynamic load
balancing: a slow replica simply takes fewer batches; nothing is partitioned up front), so
every task runs exactly once unless its worker dies. When a worker process dies (SIGKILL,
node lost, out of memory) its in-flight batch goes back to the front of the queue, a new
actor replaces it in the same slot, and one line on stderr says so; a batch whose workers
died `max_attempts` times is yielded as `LOST`, for the caller to record as failures naming
its items.
"""

from __future__ import annotations

import sys
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

from harness.errors import SabenchError

LOST = object()
"""The value yielded for a task whose workers were lost `max_attempts` times."""


@dataclass
class Task:
    """One batch: its payload (what `call` sends) and the item ids it covers (for messages)."""

    index: int
    payload: Any
    items: tuple[str, ...]
    attempts: int = 0


def run_pool(ray: Any, spawn: Callable[[int], Any], n_workers: int, tasks: Sequence[Task],
             call: Callable[[Any, Any], Any], *, max_attempts: int = 3, label: str = "ray",
             hello: Callable[[Any, int], int] | None = None,
             on_dispatch: Callable[[int, Task, int], None] | None = None) -> Iterator[tuple[Task, Any]]:
    """Yield (task, value) as tasks finish (completion order). See the module doc.

    Args:
        spawn: slot -> a new actor handle.
        call: (actor, payload) -> an ObjectRef of the answer.
        hello: (actor, slot) -> the actor's pid, after checking it (raises a `SabenchError`).
        on_dispatch: (slot, task, pid) after each submission (progress hooks and fault tests).
    """
    queue = deque(tasks)
    n = max(1, min(n_workers, len(queue)))
    actors = {slot: spawn(slot) for slot in range(n)}
    pids = {slot: (hello(actor, slot) if hello else 0) for slot, actor in actors.items()}
    inflight: dict[Any, tuple[int, Task]] = {}
    idle = list(actors)
    lost = 0
    try:
        while queue or inflight:
            while idle and queue:
                slot, task = idle.pop(0), queue.popleft()
                task.attempts += 1
                inflight[call(actors[slot], task.payload)] = (slot, task)
                if on_dispatch is not None:
                    on_dispatch(slot, task, pids[slot])
            (ref,), _ = ray.wait(list(inflight), num_returns=1)
            slot, task = inflight.pop(ref)
            try:
                value = ray.get(ref)
            except (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError) as exc:
                lost += 1
                if lost > max_attempts * max(n, len(tasks)):
                    raise SabenchError(f"Ray {label} workers", f"{lost} workers lost", "check the cluster") from exc
                again = task.attempts < max_attempts
                print(f"sabench: ray: {label} worker {slot} (pid {pids[slot]}) lost: {type(exc).__name__}; "
                     f"{len(task.items)} item(s) from {task.items[0]} "
                     + (f"retried on a new worker (attempt {task.attempts + 1}/{max_attempts})" if again
                        else f"given up after {max_attempts} attempts"), file=sys.stderr, flush=True)
                _kill(ray, actors[slot])
                actors[slot] = spawn(slot)
                pids[slot] = hello(actors[slot], slot) if hello else 0
                idle.append(slot)
                if again:
                    queue.appendleft(task)
                else:
                    yield task, LOST
                continue
            idle.append(slot)
            yield task, value
    finally:
        for actor in actors.values():
            _kill(ray, actor)


def _kill(ray: Any, actor: Any) -> None:
    try:
        ray.kill(actor)
    except Exception:  # noqa: BLE001 -- already gone
        pass


__all__ = ["run_pool", "Task", "LOST"]
