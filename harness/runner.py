"""`run_suite`: the one linear pipeline from a suite spec to a stored `RunResult`.

    the run plan (harness.plan: prompts, requests and keys, metrics with the preset bound in,
        resolved backbones, final MetricInfos; its hash is the run id)
            -> artifact store lookup by request key -> generate / edit / reconstruct only
               what is missing, batch by batch, storing each sample at once
            -> EvalItems -> each metric's compute(ctx, items) (scores stored per metric)
            -> aggregates (mean + seeded bootstrap 95% CI, or the set metric's value)
            -> RunResult saved in the results store

Resuming: the run id is the plan's hash (everything that changes numbers), samples are addressed by
request key and finished metrics are stored per run, so re-running a killed run redoes at
most the batch and the metric that were in flight, and ends with the same numbers.

Failures: with `keep_going`, a failing item (generation error, bad audio, missing output)
or metric becomes a `Failure` and the rest finishes; without it, the first failure raises
a one-line `SabenchError` after everything computed so far has been stored.
"""

from __future__ import annotations

import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from harness import SCHEMA_VERSION, __version__
from harness.errors import CapabilityError, SabenchError, describe
from harness.fetch.lock import lock_sha256
from harness.metrics.base import EvalItem
from harness.plan import PlannedSample, build_plan, plan_samples
from harness.progress import note
from harness.records import Audio, AudioSample, Failure, ItemScore, Prompt, RunPlan, RunResult, freeze
from harness.referenced import reference_samples, serves_files
from harness.results import ResultsStore
from harness.scoring import aggregate, bootstrap_ci, score_items  # noqa: F401 (re-exported)
from harness.suite import SuiteSpec


class Failures:
    """Collects failures; without keep_going the first one raises (after being recorded)."""

    def __init__(self, keep_going: bool):
        self.keep_going = keep_going
        self.items: list[Failure] = []

    def add(self, item_id: str, stage: str, message: str, fix: str = "") -> None:
        self.items.append(Failure(item_id, stage, message))
        if not self.keep_going:
            raise SabenchError(f"{item_id} ({stage})", message, fix or "fix it, or rerun with --keep-going")


# ------------------------------------------------------------------------------- the pipeline

def run_suite(spec: SuiteSpec, system: Any, *, out_dir: str | Path | None = None,
              results: ResultsStore | None = None, keep_going: bool = False, limit: int | None = None,
              progress: bool = True, data_root: str | Path | None = None, context: Any = None,
              store_root: str | Path | None = None, score_device: str | None = None,
              executor: Any = None) -> RunResult:
    """Evaluate `system` on `spec`; see the module docstring.

    Args:
        out_dir: run folder (artifacts in `out_dir/artifacts`, default results store
            `out_dir/results.sqlite`). `store_root` is an alias kept for the documented contract.
        results: the results store to write (default: the one in `out_dir`).
        limit: evaluate only the first `limit` prompts (in loader order).
        context: a `MetricContext` (default: a `RunContext` for the suite's profile).
        score_device: where the metric backbones run (None: the CPU); a non-CPU device is part
            of the run id (scores may differ at float rounding level).
        executor: where generation and embedding run (`harness.executors`; default this
            process). Never part of the plan: the run id and numbers do not depend on it.
    """
    from harness.artifacts import ArtifactStore

    out = Path(out_dir or store_root or "sabench-out")
    results = results or ResultsStore(out / "results.sqlite")
    if context is None:
        from harness.context import RunContext
        from harness.metrics.presets import backbone_args

        context = RunContext(spec.profile, backbone_args=backbone_args(spec.preset), device=score_device,
                             show=progress)
    failures = Failures(keep_going)
    plan, metrics = build_plan(spec, system, context, failures, data_root=data_root, limit=limit)
    run_id = plan.run_id
    results.begin_run(plan)
    try:
        samples = produce_samples(spec, system, plan.samples, ArtifactStore(out / "artifacts"),
                                  failures=failures, show=progress, executor=executor)
        items = check_inputs(eval_items(plan, samples), failures)
        results.put_samples(run_id, {it.item_id: (it.output, it.prompt.text) for it in items if it.output})
        if executor is not None:  # e.g. Ray: embedding routed through its workers (same batches)
            executor.prepare_scoring(plan, metrics, items, context, show=progress)
        outputs, counts = score_items(run_id, metrics, items, context, results, failures, show=progress)
    except BaseException:
        results.put_failures(run_id, failures.items)  # nothing computed is lost
        raise
    result = RunResult(
        run_id=run_id, suite=spec.name, suite_version=spec.version, profile=spec.profile,
        system=plan.system, metrics=plan.metrics,
        aggregates=tuple(aggregate(run_id, m, outputs[m.name], counts[m.name]) for m in metrics if m.name in outputs),
        items=tuple(sorted((ItemScore(i, name, v) for name, o in outputs.items() for i, v in o.per_item.items()),
                           key=lambda s: (s.metric, s.item_id))),
        failures=tuple(sorted(failures.items, key=lambda f: (f.stage, f.item_id))),
        environment=environment(), created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), plan=plan)
    results.save_run(result)
    return result



# ---------------------------------------------------------------------------- generation

def produce_samples(spec: SuiteSpec, system: Any, prompts: Sequence[Prompt] | Sequence[PlannedSample],
                    store: Any, *, failures: Failures, show: bool = True,
                    shard: tuple[int, int] | None = None, executor: Any = None) -> dict[str, AudioSample]:
    """Samples for every planned item: from the store when present, else produced batch by batch.

    `prompts` is either the plan's `PlannedSample`s or prompts (planned here, for `generate`).
    `shard=(k, n)` (1 <= k <= n): only items k-1, k-1+n, k-1+2n, ... of the item list (for
    spreading one suite over n processes that share the artifact store). `executor`
    (`harness.executors`, default local) produces what the store lacks."""
    if spec.task not in getattr(system, "capabilities", frozenset({"generate"})):
        raise CapabilityError(system.name, f"cannot {spec.task} audio (capabilities: "
                              f"{', '.join(sorted(system.capabilities))}), which suite {spec.name} needs",
                              f"choose a system that can {spec.task}")
    planned = [p for p in prompts if isinstance(p, PlannedSample)]
    if len(planned) != len(prompts):
        planned = plan_samples(spec, system, [p for p in prompts if isinstance(p, Prompt)], failures)
    check = getattr(system, "check_prompts", None)
    problems: dict[str, str] = check(list(dict.fromkeys(s.prompt for s in planned)), spec.replicates) if check else {}
    if problems and not failures.keep_going:
        ids = ", ".join(sorted(problems))
        raise SabenchError(system.name, f"{len(problems)} item(s) cannot be served: {ids}",
                           f"{next(iter(problems.values()))}; or rerun with --keep-going")
    samples, todo = {}, []
    if shard is not None:
        planned = planned[shard[0] - 1::shard[1]]
    for job in planned:
        if job.item_id in problems:
            failures.add(job.item_id, spec.task, problems[job.item_id])
        elif (hit := store.get_audio(job.key)) is not None:
            samples[job.item_id] = hit
        else:
            todo.append(job)
    if not todo:
        return samples
    if serves_files(system):  # existing files (a folder of clips): referenced, not copied
        samples.update(reference_samples(system, spec.task, todo, store, failures, show=show))
        return samples
    from harness.executors import LocalExecutor

    note(f"{spec.name} / {system.name}: producing {len(todo)} of {len(planned)} samples", show=show)
    samples.update((executor or LocalExecutor()).generate(spec, system, todo, store, failures=failures, show=show))
    return samples


def run_batch(system: Any, task: str, batch: list[PlannedSample],
              failures: Failures) -> list[tuple[PlannedSample, Audio, float]]:
    """Call the system on one batch. A failing batch is retried item by item (with or without
    keep_going), so the failure is recorded against the item that failed, never the batch's
    first item; without keep_going the first failing item then raises, by its own id."""
    t0 = time.perf_counter()
    try:
        outs = _call(system, task, batch)
        if len(outs) != len(batch):
            raise SabenchError(system.name, f"returned {len(outs)} outputs for {len(batch)} requests",
                               "return one Audio per request, in order")
    except Exception as exc:  # noqa: BLE001 -- recorded as a Failure, never dropped
        if len(batch) > 1:
            return [r for job in batch for r in run_batch(system, task, [job], failures)]
        failures.add(batch[0].item_id, task, describe(exc), "fix the system's output, or --keep-going")
        return []
    seconds = (time.perf_counter() - t0) / len(batch)
    good = []
    for job, audio in zip(batch, outs, strict=True):
        problem = audio_problem(audio)
        if problem:
            failures.add(job.item_id, task, f"bad audio from {system.name}: {problem}")
        else:
            good.append((job, Audio(np.ascontiguousarray(audio.samples, dtype=np.float32), int(audio.sample_rate)),
                         seconds))
    return good


def _call(system: Any, task: str, batch: list[PlannedSample]) -> list[Audio]:
    from harness import audio as audio_io

    requests = [j.request for j in batch]
    if task == "generate":
        return list(system.generate(requests))
    if task == "edit":
        return list(system.edit(requests, [audio_io.read(_input(j.prompt.source, j, "source")) for j in batch]))
    return list(system.reconstruct(requests, [audio_io.read(_input(j.prompt.reference, j, "reference"))
                                              for j in batch]))


def _input(path: str | None, job: PlannedSample, role: str) -> str:
    """The prompt's `role` audio path; a prompt without one fails alone, by name."""
    if not path:
        raise SabenchError(job.item_id, f"has no {role} audio", f"give the prompt a {role} path")
    return path


def audio_problem(audio: Any) -> str:
    """Why `audio` cannot be stored ("" if it can): type, shape, emptiness, rate, NaN/Inf."""
    if not isinstance(audio, Audio):
        return f"got {type(audio).__name__}, expected harness.records.Audio"
    x = np.asarray(audio.samples)
    if x.ndim != 2:
        return f"samples have shape {x.shape}, expected (channels, frames)"
    if x.shape[0] < 1 or x.shape[1] < 1:
        return f"empty audio (shape {x.shape})"
    if not (isinstance(audio.sample_rate, (int, np.integer)) and audio.sample_rate > 0):
        return f"invalid sample rate {audio.sample_rate!r}"
    if not np.isfinite(x).all():
        return f"{int((~np.isfinite(x)).sum())} NaN/Inf samples"
    return ""


def eval_items(plan: RunPlan, samples: dict[str, AudioSample]) -> list[EvalItem]:
    """EvalItems for every planned item that has a sample, in plan (prompt, then replicate) order."""
    return [EvalItem(s.item_id, s.prompt, output=samples[s.item_id].path, reference=s.prompt.reference,
                     source=s.prompt.source) for s in plan.samples if s.item_id in samples]


def check_inputs(items: Sequence[EvalItem], failures: Failures) -> list[EvalItem]:
    """Read every reference and source file once; an unreadable one becomes a named failure
    and its role is dropped (metrics needing it skip the item), so one bad reference file
    does not fail a whole metric."""
    from harness import audio
    from harness.errors import AudioError

    bad: dict[str, str] = {}
    for path in sorted({p for it in items for p in (it.reference, it.source) if p}):
        try:
            audio.read(path)
        except AudioError as exc:
            bad[path] = exc.one_line()
    out = []
    for it in items:
        for role in ("reference", "source"):
            p = it.path(role)
            if p in bad:
                failures.add(it.item_id, f"load:{role}", bad[p], "replace or remove the file")
                it = replace(it, reference=None) if role == "reference" else replace(it, source=None)
        out.append(it)
    return out


# ------------------------------------------------------------------------------- scoring
# in harness.scoring: score_items, aggregate, bootstrap_ci

def environment() -> tuple[tuple[str, Any], ...]:
    """Versions that can change numbers (read from package metadata: torch is not imported)."""
    from importlib import metadata

    def version(pkg: str) -> str:
        try:
            return metadata.version(pkg)
        except metadata.PackageNotFoundError:
            return "absent"

    return freeze({"harness": __version__, "schema": SCHEMA_VERSION, "python": sys.version.split()[0],
                   "platform": platform.platform(), "numpy": np.__version__, "torch": version("torch"),
                   "soundfile": version("soundfile"), "weights_lock": lock_sha256()})


__all__ = ["run_suite", "produce_samples", "eval_items", "score_items", "aggregate",
           "bootstrap_ci", "audio_problem", "environment", "Failures"]
