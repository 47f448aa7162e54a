"""Samples that already exist as files: referenced in the artifact store, never copied.

A system that serves existing files (`serves_files = True`, e.g. `precomputed`, the folder
of pre-generated clips behind `sabench score --path`) has `file_for(request) -> Path`. The
runner records each file with `ArtifactStore.put_reference` (its path + sha256) instead of
decoding it and writing a float32 copy, so scoring a folder uses no extra disk beyond small
sidecars. The audio content is identical (metrics read the same file), so no number changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.errors import SabenchError, describe
from harness.progress import progress
from harness.records import AudioSample


def serves_files(system: Any) -> bool:
    """True when `system` hands out existing files (`file_for`) instead of generating audio."""
    return bool(getattr(system, "serves_files", False)) and callable(getattr(system, "file_for", None))


def reference_samples(system: Any, task: str, jobs: Sequence[Any], store: Any, failures: Any,
                      show: bool = True) -> dict[str, AudioSample]:
    """{item id: sample} for `jobs` (runner `Job`s), each the system's file for the request,
    referenced under the job's key. A missing or unreadable file is a failure of that item."""
    samples: dict[str, AudioSample] = {}
    for job in progress(list(jobs), total=len(jobs), desc=f"{task} {system.name}", show=show):
        try:
            samples[job.item_id] = store.put_reference(job.key, system.file_for(job.request))
        except (SabenchError, OSError) as exc:
            failures.add(job.item_id, task, describe(exc), "fix or replace the file, or rerun with --keep-going")
    return samples


__all__ = ["serves_files", "reference_samples"]
