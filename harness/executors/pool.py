"""A pull-based pool of Ray actors with bounded retry of lost workers.

    pool = ActorPool(ray, spawn, n_workers, hello=check, max_attempts=3, label="generate sine")
    for task, value in pool.run(tasks):   # completion order
        ...                               # value: the worker's answer, or LOST
    pool.close()

Each idle actor takes the next batch from the queue as soon as it finishes one (dynamic load
balancing: a slow replica simply takes fewer batches; nothing is partitioned up front), so
every task runs exactly once unless its worker dies. When a worker process dies (SIGKILL,
node lost, out of memory) its in-flight batch goes back to the front of the queue, a new
actor replaces it in the same slot, and one line on stderr says so; a batch whose workers
died `max_attempts` times is yielded as `LOST`, for the caller to record or redo.
Actors live until `close()`, so a replica loads its weights once for all the pool's tasks.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from harness.errors import SabenchError

LOST = object()
"""The value yielded for a task whose workers were lost `max_attempts` times."""


@dataclass
class Task:
    """One batch: its payload (what `call` sends) and the item ids it covers (for messages)."""

    index: Any
    payload: Any
    items: tuple[str, ...]
    attempts: int = 0


class ActorPool:
    """`n_workers` actors made by `spawn(slot)`, each checked by `hello(actor, slot) -> pid`.

    `call(actor, payload)` returns the ObjectRef of one task's answer; `on_dispatch(slot, task,
    pid)` runs after each submission (progress hooks and the fault tests)."""

    def __init__(self, ray: Any, spawn: Callable[[int], Any], n_workers: int, call: Callable[[Any, Any], Any], *,
                 hello: Callable[[Any, int], int] | None = None, max_attempts: int = 3, label: str = "ray",
                 on_dispatch: Callable[[int, Task, int], None] | None = None):
        self.ray, self.spawn, self.call, self.hello = ray, spawn, call, hello
        self.max_attempts, self.label, self.on_dispatch = max_attempts, label, on_dispatch
        self.actors = {slot: spawn(slot) for slot in range(max(1, n_workers))}
        self.pids = {slot: self._hello(slot) for slot in self.actors}
        self.lost = 0

    def _hello(self, slot: int) -> int:
        return self.hello(self.actors[slot], slot) if self.hello else 0

    def run(self, tasks: Iterable[Task]) -> Iterator[tuple[Task, Any]]:
        """Yield (task, value) as tasks finish; see the module doc."""
        queue = deque(tasks)
        inflight: dict[Any, tuple[int, Task]] = {}
        idle = list(self.actors)
        while queue or inflight:
            while idle and queue:
                slot, task = idle.pop(0), queue.popleft()
                task.attempts += 1
                inflight[self.call(self.actors[slot], task.payload)] = (slot, task)
                if self.on_dispatch is not None:
                    self.on_dispatch(slot, task, self.pids[slot])
            (ref,), _ = self.ray.wait(list(inflight), num_returns=1)
            slot, task = inflight.pop(ref)
            idle.append(slot)
            try:
                value = self.ray.get(ref)
            except (self.ray.exceptions.RayActorError, self.ray.exceptions.WorkerCrashedError) as exc:
                self._replace(slot, task, exc)
                if task.attempts < self.max_attempts:
                    queue.appendleft(task)
                    continue
                value = LOST
            yield task, value

    def _replace(self, slot: int, task: Task, exc: BaseException) -> None:
        """A lost worker: say so on stderr and start a new actor in its slot."""
        self.lost += 1
        if self.lost > self.max_attempts * (len(self.actors) + 1) * 4:
            raise SabenchError(f"Ray {self.label} workers", f"{self.lost} workers lost",
                               "check the cluster's nodes (memory, preemption), then rerun: finished work is kept")
        again = task.attempts < self.max_attempts
        print(f"sabench: ray: {self.label} worker {slot} (pid {self.pids[slot]}) lost ({type(exc).__name__}) "
              f"with {len(task.items)} item(s) from {task.items[0]}; "
              + (f"retrying on a new worker (attempt {task.attempts + 1}/{self.max_attempts})" if again
                 else f"given up after {self.max_attempts} attempts"), file=sys.stderr, flush=True)
        _kill(self.ray, self.actors[slot])
        self.actors[slot] = self.spawn(slot)
        self.pids[slot] = self._hello(slot)

    def close(self) -> None:
        for actor in self.actors.values():
            _kill(self.ray, actor)
        self.actors = {}


def _kill(ray: Any, actor: Any) -> None:
    try:
        ray.kill(actor)
    except Exception:  # noqa: BLE001 -- already gone
        pass


__all__ = ["ActorPool", "Task", "LOST"]
