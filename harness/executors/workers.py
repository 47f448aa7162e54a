"""What runs inside Ray worker processes (plain classes; `harness.executors.ray` wraps them
with `ray.remote`). Nothing here imports Ray, so the classes are testable in-process.

- `GenerationWorker`: one system replica. Loads the system's weights once (on its first
  batch) and answers batches of planned samples with `harness.runner.run_batch` (the same
  call, retry-by-item and audio checks as the local executor). It returns the audio to the
  driver, which alone writes the artifact store.
- `EmbedWorker`: one backbone replica. Gets clips as file bytes from the driver (no shared
  filesystem for outputs), shapes them with the backbone's recipe and embeds them; returns one
  output dict per clip (`None` for a clip that fails alone: the driver's scoring then
  recomputes it and blames it exactly as a local run does).

Errors cross the process boundary as data (`{"error": (kind, item, problem, fix)}`), never as
pickled exceptions, so the driver re-raises the same one-line `SabenchError`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.errors import SabenchError


class Recorder:
    """A `harness.runner.Failures` that never raises: the worker records, the driver decides."""

    keep_going = True

    def __init__(self) -> None:
        self.items: list[tuple[str, str, str, str]] = []

    def add(self, item_id: str, stage: str, message: str, fix: str = "") -> None:
        self.items.append((item_id, stage, message, fix))


def error_payload(exc: SabenchError) -> dict[str, Any]:
    return {"error": (type(exc).__name__, exc.item, exc.problem, exc.fix), "pid": os.getpid()}


def raise_payload(value: dict[str, Any]) -> None:
    """Re-raise a worker's error payload on the driver as the same `SabenchError` class."""
    if "error" not in value:
        return
    from harness import errors

    kind, item, problem, fix = value["error"]
    cls = getattr(errors, kind, SabenchError)
    raise (cls if isinstance(cls, type) and issubclass(cls, SabenchError) else SabenchError)(item, problem, fix)


class GenerationWorker:
    """One replica of `system` for `task` ("generate" | "edit" | "reconstruct")."""

    def __init__(self, system: Any, task: str, threads: int | None = None):
        self.system, self.task, self.threads = system, task, threads
        self.loaded = False

    def hello(self) -> dict[str, Any]:
        """This process's pid and the system's identity (compared with the driver's)."""
        try:
            return {"pid": os.getpid(), "info": self.system.info}
        except SabenchError as exc:
            return error_payload(exc)

    def run(self, batch: Sequence[Any]) -> dict[str, Any]:
        """{"samples": [(item_id, Audio, seconds)], "failures": [(item, stage, message, fix)]}."""
        from harness.runner import run_batch

        try:
            if not self.loaded:
                set_threads(self.threads)
                self.system.load()  # weights once per replica
                self.loaded = True
            rec = Recorder()
            good = run_batch(self.system, self.task, list(batch), rec)  # type: ignore[arg-type]
        except SabenchError as exc:
            return error_payload(exc)
        return {"samples": [(job.item_id, audio, seconds) for job, audio, seconds in good],
                "failures": rec.items, "pid": os.getpid()}


class EmbedWorker:
    """One replica of backbone `name`, built exactly as the driver's `RunContext` builds it."""

    def __init__(self, profile: str, name: str, backbone_args: dict[str, dict[str, Any]], device: str | None,
                 threads: int | None = None):
        self.profile, self.name, self.args, self.device = profile, name, backbone_args, device
        self.threads = threads
        self.bb: Any = None

    def _backbone(self) -> Any:
        if self.bb is None:
            set_threads(self.threads)
            from harness.context import RunContext

            scratch = Path(tempfile.mkdtemp(prefix="sabench-embed-"))  # never written: the driver caches
            ctx = RunContext(self.profile, cache_dir=scratch, backbone_args=self.args, device=self.device, show=False)
            self.bb = ctx.backbone(self.name)
        return self.bb

    def hello(self) -> dict[str, Any]:
        """This process's pid and the loaded backbone's identity (compared with the driver's)."""
        try:
            return {"pid": os.getpid(), "info": self._backbone().info}
        except SabenchError as exc:
            return error_payload(exc)

    def embed(self, clips: Sequence[tuple[str, bytes]]) -> dict[str, Any]:
        """Clips given as (file suffix, file bytes) -> {"rows": [outputs | None per clip]}."""
        try:
            bb = self._backbone()
        except SabenchError as exc:
            return error_payload(exc)
        with tempfile.TemporaryDirectory(prefix="sabench-clips-") as tmp:
            paths = []
            for i, (suffix, data) in enumerate(clips):
                path = Path(tmp) / f"{i}{suffix}"
                path.write_bytes(data)
                paths.append(str(path))
            try:
                rows: list[Any] = _embed(bb, paths)
            except Exception:  # noqa: BLE001 -- a bad clip: isolate below, the driver blames it
                rows = []
                for p in paths:
                    try:
                        rows.extend(_embed(bb, [p]))
                    except Exception:  # noqa: BLE001 -- left to the driver's scoring to name
                        rows.append(None)
        return {"rows": rows, "pid": os.getpid()}


def set_threads(threads: int | None) -> None:
    """Use the driver's torch intra-op thread count (float sums are blocked by thread), so a
    worker's numbers are the driver's bit for bit on the same hardware. None: Ray's default."""
    if threads:
        import torch

        torch.set_num_threads(int(threads))


def _embed(bb: Any, paths: list[str]) -> list[dict[str, Any]]:
    """What `RunContext._embed_paths` does: shape with the recipe, embed, one dict per clip."""
    from harness import audio
    from harness.context import split_outputs

    waves = audio.load_many(paths, bb.recipe)  # list of (T_i,) float32 @ recipe.sample_rate
    return split_outputs(bb.embed(waves), len(paths), bb.name)


__all__ = ["GenerationWorker", "EmbedWorker", "Recorder", "raise_payload"]
