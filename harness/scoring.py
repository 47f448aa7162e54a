"""Scoring: each metric over the run's items, finished metrics reused on resume, and
aggregates (mean of item scores with a seeded bootstrap 95% CI, or the set metric's value).

Used by `harness.runner.run_suite`; split out so each module holds one idea.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from harness.errors import SabenchError, describe
from harness.hashing import canonical_json, sha256_json
from harness.isolation import FAILED_KEY, compute_isolated, replay_failures
from harness.metrics.base import EvalItem, Metric, MetricOutput
from harness.progress import progress
from harness.records import Aggregate, freeze
from harness.results import ResultsStore
from harness.seeding import derive_seed, numpy_rng

BOOTSTRAP_RESAMPLES = 1000
CI_LEVEL = 0.95

def score_items(run_id: str, metrics: Sequence[Metric], items: Sequence[EvalItem], ctx: Any,
                results: ResultsStore, failures: Any, show: bool = True
                ) -> tuple[dict[str, MetricOutput], dict[str, int]]:
    """Each metric over the items that have its roles; finished metrics are reused on resume.

    Returns ({metric: output}, {metric: number of items it was computed over}).
    """
    outputs: dict[str, MetricOutput] = {}
    counts: dict[str, int] = {}
    for metric in progress(list(metrics), desc="metrics", show=show):
        name = metric.name
        usable = [it for it in items if all(it.path(r) for r in metric.roles)]
        usable_ids = {it.item_id for it in usable}
        counts[name] = len(usable)
        for it in items:
            if it.item_id not in usable_ids:
                missing = [r for r in metric.roles if not it.path(r)]
                failures.add(it.item_id, f"metric:{name}", f"no {missing[0]} audio for this item")
        # the run id (the plan's hash) already fixes the backbone; the hash pins the item set
        items_hash = sha256_json({"items": [[it.item_id, it.output, it.reference, it.source] for it in usable]})
        cached = results.metric_output(run_id, name, items_hash)
        if cached is not None:
            counts[name] -= replay_failures(name, cached[1], failures)  # items isolation dropped
            scores = results.item_scores(run_id, name)
            outputs[name] = MetricOutput({i: scores[i] for i in sorted(scores)}, cached[0], cached[1])
            continue
        out, counts[name] = _compute(metric, ctx, usable, failures)
        if out is None:
            continue
        results.put_item_scores(run_id, name, out.per_item)
        results.put_metric_output(run_id, name, items_hash, out.value, out.extras)
        outputs[name] = out
    return outputs, counts


def _compute(metric: Metric, ctx: Any, items: list[EvalItem], failures: Any) -> tuple[MetricOutput | None, int]:
    """Run one metric; validate its output; failures recorded, never silently dropped.
    An item whose clip fails alone fails alone (`harness.isolation`); returns the output
    and the number of items it was computed over."""
    name, kind = metric.name, metric.info.kind
    if not items:
        failures.add("*", f"metric:{name}", "no items to score")
        return None, 0
    try:
        out, n = compute_isolated(metric, ctx, items, failures)
    except Exception as exc:  # noqa: BLE001 -- recorded as a Failure
        if getattr(exc, "recorded_failure", False):
            raise
        failures.add("*", f"metric:{name}", describe(exc), "fix the metric's input, or --keep-going")
        return None, 0
    items = [it for it in items if it.item_id not in (out.extras or {}).get(FAILED_KEY, {})]
    ids = {it.item_id for it in items}
    per_item = {}
    for item_id in sorted(out.per_item):
        v = float(out.per_item[item_id])
        if item_id not in ids:
            failures.add(item_id, f"metric:{name}", "metric returned a score for an unknown item")
        elif not math.isfinite(v):
            failures.add(item_id, f"metric:{name}", f"non-finite score {v}")
        else:
            per_item[item_id] = v
    if kind == "item":
        for item_id in sorted(ids - set(out.per_item)):
            failures.add(item_id, f"metric:{name}", "metric returned no score for this item")
    value = None if out.value is None else float(out.value)
    if kind == "set" and (value is None or not math.isfinite(value)):
        failures.add("*", f"metric:{name}", f"set metric returned {value!r}")
        return None, 0
    extras = {str(k): _jsonable(v) for k, v in (out.extras or {}).items()}
    return MetricOutput(per_item, value, extras), n


def _jsonable(v: Any) -> Any:
    try:
        canonical_json(v)
        return v if not isinstance(v, (np.generic, np.ndarray)) else np.asarray(v).tolist()
    except TypeError:
        return str(v)


def aggregate(run_id: str, metric: Metric, out: MetricOutput, n_items: int) -> Aggregate:
    """Item metric: mean with a percentile bootstrap CI; set metric: its value over n_items."""
    name, extras = metric.name, freeze(out.extras)
    if metric.info.kind == "set":
        if out.value is None:
            raise SabenchError(name, "set metric returned no value", "return MetricOutput(value=...)")
        return Aggregate(name, float(out.value), None, None, n_items, extras)
    values = np.array([out.per_item[k] for k in sorted(out.per_item)], dtype=np.float64)  # (N,)
    if values.size == 0:
        return Aggregate(name, math.nan, None, None, 0, extras)
    lo, hi = bootstrap_ci(values, derive_seed(0, run_id, name))
    return Aggregate(name, float(values.mean()), lo, hi, int(values.size), extras)


def bootstrap_ci(values: np.ndarray, seed: int, resamples: int = BOOTSTRAP_RESAMPLES,
                 level: float = CI_LEVEL) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean of `values` (N,), float64, seeded."""
    rng = numpy_rng(seed)
    n = values.size
    means = np.empty(resamples, dtype=np.float64)
    for s in range(0, resamples, 100):  # chunks keep memory at 100 x N indices
        k = min(100, resamples - s)
        idx = rng.integers(0, n, size=(k, n))  # (k, N)
        means[s:s + k] = values[idx].mean(axis=1)
    alpha = (1.0 - level) / 2.0
    lo, hi = np.percentile(means, [100 * alpha, 100 * (1 - alpha)])
    return float(lo), float(hi)


