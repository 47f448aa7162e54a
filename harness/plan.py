"""The run plan: a run's whole identity, fixed before any sample is produced or feature extracted.

    plan, metrics = build_plan(spec, system, context, failures, data_root=..., limit=...)
    plan.run_id            # the hash of the plan: same plan, same run id; anything else, a new run

`build_plan` loads the prompts, derives every request and its cache key (`PlannedSample`),
binds the suite's preset into every metric factory, resolves each metric's backbone (loading
it: checkpoint sha256, recipe, version, device) and writes the final `MetricInfo`s. Generation,
scoring, storing and reporting only read the plan; nothing rebuilds identity afterwards, so
resuming a run or reusing a stored metric can never change what a stored number says.

A backbone that cannot load, or a metric whose precondition the plan already violates (e.g.
Inception Score with fewer items than splits), is a planning failure: one line naming the metric,
before any work. With `keep_going` the metric is left out of the plan (so the run id says so) and
the failure is recorded with the run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from harness.errors import SabenchError, describe
from harness.hashing import sha256_file, sha256_json
from harness.item_ids import item_id as make_item_id
from harness.metrics.base import Metric
from harness.records import (
    BackboneInfo,
    EditRequest,
    GenerationRequest,
    MetricInfo,
    Prompt,
    ReconstructRequest,
    RunPlan,
    freeze,
)
from harness.seeding import derive_seed
from harness.suite import SuiteSpec


@dataclass(frozen=True)
class PlannedSample:
    """One sample the plan asks for (a prompt x replicate): its item id, request and cache key."""

    item_id: str
    prompt: Prompt
    request: GenerationRequest | EditRequest | ReconstructRequest
    key: str


def load_prompts(spec: SuiteSpec, data_root: str | Path | None, limit: int | None) -> tuple[list[Prompt], int]:
    """(the suite's prompts, first `limit` in loader order; the suite's prompt count before it)."""
    prompts = spec.prompts(data_root)
    total = len(prompts)
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise SabenchError(f"--limit {limit}", "must be a whole number of at least 1", "pass a positive number")
        prompts = prompts[:limit]
    if not prompts:
        raise SabenchError(f"suite {spec.name}", "the loader returned no prompts", "check --data / the data folder")
    return prompts, total


def plan_samples(spec: SuiteSpec, system: Any, prompts: Sequence[Prompt], failures: Any) -> list[PlannedSample]:
    """One planned sample per (prompt, replicate); seeds derived from the suite seed, id and replicate.
    An edit/reconstruct row whose input file is missing is a failure of that item."""
    info = system.info
    out = []
    for p in prompts:
        for r in range(spec.replicates):
            iid = make_item_id(p.id, r, spec.replicates)
            seed = derive_seed(spec.seed, p.id, r)
            if spec.task == "generate":
                req: Any = GenerationRequest(p, seed, r)
            else:
                src = p.source if spec.task == "edit" else p.reference
                role = "source" if spec.task == "edit" else "reference"
                if not src or not Path(src).is_file():
                    failures.add(iid, "load", f"{role} audio {src!r} not found",
                                 f"check the suite's data (prompt {p.id} needs its {role} file)")
                    continue
                sha = sha256_file(src)
                req = EditRequest(p, sha, seed, replicate=r) if spec.task == "edit" \
                    else ReconstructRequest(p, sha, seed, replicate=r)
            out.append(PlannedSample(iid, p, req, req.key(info)))
    return out


def build_metrics(spec: SuiteSpec) -> list[Metric]:
    """The suite's metrics from the `METRICS` registry, with the suite's preset bound into every
    factory that takes one. A metric argument naming another preset, or an argument the factory
    does not take, is a one-line error."""
    from harness.registry import METRICS, load_catalog
    from harness.suite import MetricSpec, make_metric
    from harness.validate import accepted_kwargs

    load_catalog()
    metrics = []
    for m in spec.metrics:
        args = dict(m.args)
        if "preset" in args and args["preset"] != spec.preset:
            raise SabenchError(f"suite {spec.name}, metric {m.name}",
                               f"preset {args['preset']!r} differs from the suite's preset {spec.preset!r}",
                               "set the preset once, at the suite level (one table, one convention)")
        names, _ = accepted_kwargs(METRICS.get(m.name))
        if names is None or "preset" in names:  # a factory without conventions gets it via bind()
            args["preset"] = spec.preset
        metrics.append(make_metric(spec, MetricSpec(m.name, freeze(args))))  # unknown args: one line
    metric_names = [m.name for m in metrics]
    dup = sorted({n for n in metric_names if metric_names.count(n) > 1})
    if dup:
        raise SabenchError(f"suite {spec.name}", f"metric {dup[0]!r} listed twice", "list each metric once")
    return metrics


def bind(metric: Metric, backbone: BackboneInfo | None, preset: str) -> MetricInfo:
    """A metric's final identity: its static info with the resolved backbone and the preset."""
    info = replace(metric.info, preset=preset)
    if backbone is None:
        return info
    return replace(info, backbone_checkpoint_sha256=backbone.checkpoint_sha256, recipe=backbone.recipe.id(),
                   backbone_version=backbone.version, backbone_device=backbone.device)


def resolve_metrics(spec: SuiteSpec, metrics: Sequence[Metric], context: Any, n_items: int,
                    failures: Any) -> tuple[list[Metric], tuple[MetricInfo, ...], tuple[BackboneInfo, ...]]:
    """Load every metric's backbone and check its preconditions; keep the metrics that can run.

    Returns (metrics kept, their bound infos, the distinct backbones' infos sorted by name)."""
    kept, infos, backbones = [], [], {}
    for metric in metrics:
        name, bb_name = metric.name, metric.info.backbone
        bb = None
        try:
            if bb_name:
                bb = context.backbone(bb_name).info
            need = int(getattr(metric, "min_items", 1) or 1)
            if n_items < need:
                raise SabenchError(f"metric {name}", f"needs at least {need} items, the plan has {n_items}",
                                   f"raise --limit to {need} or more, or drop {name} from the suite")
        except Exception as exc:  # noqa: BLE001 -- a planning failure, named in one line
            what = f"metric {name}" + (f" (backbone {bb_name})" if bb_name else "")
            failures.add("*", f"plan:metric:{name}", f"{what}: {describe(exc)}",
                         "bring the backbone's weights (sabench doctor), or rerun with --keep-going")
            continue
        kept.append(metric)
        infos.append(bind(metric, bb, spec.preset))
        if bb is not None:
            backbones[bb.name] = bb
    return kept, tuple(infos), tuple(backbones[k] for k in sorted(backbones))


def build_plan(spec: SuiteSpec, system: Any, context: Any, failures: Any, *, data_root: str | Path | None = None,
               limit: int | None = None) -> tuple[RunPlan, list[Metric]]:
    """The frozen plan of one (suite, system) run and the metric objects that execute it."""
    prompts, total = load_prompts(spec, data_root, limit)
    samples = plan_samples(spec, system, prompts, failures)
    n_items = len(prompts) * spec.replicates
    metrics, infos, backbones = resolve_metrics(spec, build_metrics(spec), context, n_items, failures)
    plan = RunPlan(
        suite=spec.name, suite_version=spec.version, profile=spec.profile, task=spec.task, preset=spec.preset,
        seed=spec.seed, replicates=spec.replicates, limit=limit, n_prompts=len(prompts), n_suite_prompts=total,
        inputs=freeze({"loader": spec.loader, "loader_args": [list(a) for a in spec.loader_args],
                       "duration": spec.duration}),
        system=system.info, metrics=infos, backbones=backbones,
        samples_sha256=sha256_json([[s.item_id, s.key] for s in samples]), n_samples=len(samples),
        samples=tuple(samples))
    return plan, metrics


__all__ = ["PlannedSample", "RunPlan", "build_plan", "build_metrics", "plan_samples", "load_prompts",
           "resolve_metrics", "bind"]
