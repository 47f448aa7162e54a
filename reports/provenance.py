"""What a reader needs beside a table's numbers: n, `--limit`, failures, mini backbones, and
whether rows may be ranked and compared at all.

Comparability is judged per metric: a metric's identity (backbone checkpoint, preset, recipe,
metric version, backbone version) must agree over the runs that have that metric; a run
without it leaves its cell empty and does not stop the others from being compared.
Ranking (bold "best") is refused for a column whose rows scored different numbers of items,
different items, or differ in that metric's identity.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path

from harness.records import MetricInfo, RunResult

MINI_PREFIX = "mini_"
_MINI_MANIFEST = Path(__file__).resolve().parents[1] / "suites" / "synthcaps" / "checkpoints" / "manifest.json"


@lru_cache(maxsize=1)
def _mini_shas() -> frozenset[str]:
    """sha256s of the committed mini backbone checkpoints (read as data: reports do not import
    the mini world's package)."""
    try:
        return frozenset(str(v) for v in json.loads(_MINI_MANIFEST.read_text(encoding="utf-8")).values())
    except (OSError, ValueError, AttributeError):
        return frozenset()


def is_mini_backbone(name: str | None, checkpoint_sha256: str | None = None) -> bool:
    """A SynthCaps stand-in: named `mini_*` (every mini backbone registry name is), or its
    checkpoint is one of the committed mini checkpoints (so a renamed copy is still caught)."""
    if not name:
        return False
    return name.startswith(MINI_PREFIX) or (checkpoint_sha256 or "") in _mini_shas()


def mini_backbones(run: RunResult, metrics: Sequence[str] | None = None) -> list[tuple[str, str]]:
    """(metric, mini backbone) pairs of `run` (restricted to `metrics` when given)."""
    out = []
    for m in run.metrics:
        if metrics is not None and m.name not in metrics:
            continue
        if is_mini_backbone(m.backbone, m.backbone_checkpoint_sha256):
            out.append((m.name, str(m.backbone)))
    return out


def full_count(run: RunResult) -> int | None:
    """Items in the whole suite (every prompt x replicates), None without a run plan."""
    return None if run.plan is None else run.plan.n_suite_prompts * run.plan.replicates


def cell_n(run: RunResult, metric: str) -> int | None:
    """Items behind a metric's value (`Aggregate.n`; None when unknown or 0)."""
    agg = run.aggregate(metric)
    return agg.n if agg is not None and agg.n else None


def has_value(run: RunResult, metric: str) -> bool:
    agg = run.aggregate(metric)
    return agg is not None and agg.value is not None and math.isfinite(agg.value)


# ------------------------------------------------------------------------------ comparability

def metric_identity(m: MetricInfo) -> dict[str, str]:
    """What must agree for one metric's numbers to share a column (label -> value)."""
    out = {f"{m.name} backbone": f"{m.backbone} @ {(m.backbone_checkpoint_sha256 or 'none')[:12]}",
           f"{m.name} preset": m.preset, f"{m.name} recipe": str(m.recipe), f"{m.name} version": m.version}
    if m.backbone_version is not None:  # None: a result from before run plans, version unknown
        out[f"{m.name} backbone_version"] = m.backbone_version
    return out


def differences(runs: Sequence[RunResult], has: Callable[[RunResult, str], bool]) -> list[list[tuple[str, str]]]:
    """Per run: (metric or "", "field: value (vs reference)") for each way it differs.

    Suite version and profile are compared with the first run; each metric with the first run
    that has it (`has(run, metric)`), over the runs that have it."""
    if not runs:
        return []
    first = runs[0]
    ref_metric: dict[str, dict[str, str]] = {}
    out: list[list[tuple[str, str]]] = []
    for run in runs:
        diffs = []
        for key, a, b in (("suite", f"{run.suite} v{run.suite_version}", f"{first.suite} v{first.suite_version}"),
                          ("profile", run.profile, first.profile)):
            if a != b:
                diffs.append(("", f"{key}: {a} (vs {b})"))
        for m in run.metrics:
            if not has(run, m.name):
                continue
            ident = metric_identity(m)
            ref = ref_metric.setdefault(m.name, ident)
            diffs += [(m.name, f"{k}: {ident[k]} (vs {ref[k]})") for k in ident if k in ref and ident[k] != ref[k]]
        out.append(diffs)
    return out


def rank_blocker(label: str, rows: Sequence[tuple[str, RunResult, int | None]], key: str,
                 mixed: bool) -> str | None:
    """Why column `key` may not be ranked (None: it may). `rows`: (row label, run, cell n) of
    the rows holding a value."""
    if len(rows) < 2:
        return None
    if mixed:
        return f"{label}: not ranked, its rows were scored differently (see the footnotes)"
    ns = {n for _, _, n in rows}
    if len(ns) > 1:
        shown = ", ".join(f"{who} {'unknown' if n is None else n}" for who, _, n in rows)
        return f"{label}: not ranked, rows scored different numbers of items (n: {shown})"
    ids = [frozenset(s.item_id for s in run.items if s.metric == key) for _, run, _ in rows]
    if all(ids) and len(set(ids)) > 1:
        return f"{label}: not ranked, rows scored different items (same n)"
    return None


# ------------------------------------------------------------------------------ row notes

def limit_note(run: RunResult) -> str | None:
    plan = run.plan
    if plan is None or plan.limit is None:
        return None
    return (f"--limit {plan.limit}: first {plan.n_prompts} of {plan.n_suite_prompts} prompts "
            f"(n={plan.n_items} items planned); not comparable with a full run")


def failures_note(run: RunResult) -> str | None:
    if not run.failures:
        return None
    stages = Counter(f.stage for f in run.failures)
    items = {f.item_id for f in run.failures if f.item_id != "*"}
    what = ", ".join(f"{s}: {k}" for s, k in sorted(stages.items()))
    on = f" on {len(items)} item(s)" if items else ""
    return f"{len(run.failures)} failure(s){on} ({what}); listed under Failures"


def missing_note(run: RunResult, label: str, metric: str) -> str | None:
    """A note for a metric that failed or was dropped by the plan (None: never asked for)."""
    stages = (f"metric:{metric}", f"plan:metric:{metric}")
    hits = [f for f in run.failures if f.stage in stages]
    planned = any(m.name == metric for m in run.metrics)
    if hits:
        f = hits[0]
        how = "dropped by the run plan" if f.stage.startswith("plan:") else "failed"
        return f"{label}: {metric} {how} ({f.message})"
    if planned:
        return f"{label}: {metric} was planned but has no finite value"
    return None


def mini_note(run: RunResult, metrics: Sequence[str]) -> str | None:
    pairs = [(m, b) for m, b in mini_backbones(run, metrics)]
    if not pairs:
        return None
    what = ", ".join(f"{m} by {b}" for m, b in pairs)
    return f"mini (SynthCaps stand-in) backbone in a real-profile run: {what}; not comparable with paper numbers"
