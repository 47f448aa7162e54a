"""The local executor: everything in this process (the behaviour sabench always had).

Generation loads the system once and calls it batch by batch (`harness.runner.run_batch`:
a failing batch is retried item by item), storing each sample as soon as it exists; scoring
embeds on demand inside each metric through the `RunContext`, so `prepare_scoring` has
nothing to do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class LocalExecutor:
    """In-process generation and scoring."""

    name = "local"
    remote = False

    def generate(self, spec: Any, system: Any, todo: Sequence[Any], store: Any, *, failures: Any,
                 show: bool = True) -> dict[str, Any]:
        """Produce the planned samples `todo` (missing from `store`) and store them, in order."""
        from harness.progress import progress
        from harness.runner import run_batch

        system.load()
        size = min(system.batch_size, spec.batch_size or system.batch_size)
        batches = [list(todo[i:i + size]) for i in range(0, len(todo), size)]
        samples = {}
        for batch in progress(batches, total=len(todo), desc=f"{spec.task} {system.name}", show=show, size=len):
            for job, audio, seconds in run_batch(system, spec.task, batch, failures):
                samples[job.item_id] = store.put_audio(job.key, audio, seconds=seconds)
        return samples

    def prepare_scoring(self, plan: Any, metrics: Any, items: Any, context: Any, *, show: bool = True) -> None:
        """Nothing to prepare: metrics embed on demand through the context."""

    def close(self) -> None:
        """Nothing to release."""


__all__ = ["LocalExecutor"]
