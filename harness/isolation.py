"""One bad clip fails alone: item-level isolation of metric failures.

A metric computes over all of a run's items at once. When one clip cannot be embedded or
read (shorter than the backbone's minimum, unreadable, NaN ...), the metric used to fail
for every item. Instead:

1. `harness.context.RunContext` retries a failing backbone batch clip by clip and raises
   `ClipError` naming the clip(s) that fail alone (`ctx.load_audio` does the same for a
   clip it cannot read or shape);
2. `compute_isolated` catches it, records a `Failure` for each item using that clip (its
   own id, stage `metric:<name>`, the clip's own message), drops those items and computes
   the metric again over the others (their embeddings are cached by then, so the retry
   costs little). The dropped items are listed in the output's extras under
   `FAILED_KEY`, so a resumed run that reuses the stored output records the same failures
   (`replay_failures`) and counts the same items.

Without `--keep-going` the first such failure raises (by the runner's `Failures`), naming
the failing item, never the first item of the batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.errors import SabenchError

FAILED_KEY = "failed_items"
"""MetricOutput.extras key: {item id: message} of items dropped by isolation."""
FIX = "replace or regenerate that clip, or rerun with --keep-going to score the others"


class ClipError(SabenchError):
    """One or more clips failed on their own (not because of the batch they were in)."""

    def __init__(self, problems: dict[str, str], backbone: str = ""):
        self.problems = dict(problems)                     # path -> one-line problem
        first = next(iter(self.problems))
        where = f" ({backbone})" if backbone else ""
        more = f" (+{len(self.problems) - 1} more clip(s))" if len(self.problems) > 1 else ""
        super().__init__(first, f"{self.problems[first]}{where}{more}", FIX)


def compute_isolated(metric: Any, ctx: Any, items: Sequence[Any], failures: Any) -> tuple[Any, int]:
    """`metric.compute(ctx, items)`, dropping the items whose clips fail alone.

    Returns (MetricOutput, number of items it was computed over). Each dropped item is
    recorded with `failures.add(item_id, "metric:<name>", message)` (which raises without
    keep_going). A `ClipError` naming no item of this metric is re-raised.
    """
    items, dropped = list(items), {}
    while True:
        try:
            out = metric.compute(ctx, items)
            break
        except ClipError as exc:
            bad = [it for it in items if any(it.path(r) in exc.problems for r in metric.roles)]
            if not bad:
                raise
            for it in bad:
                path = next(it.path(r) for r in metric.roles if it.path(r) in exc.problems)
                dropped[it.item_id] = exc.problems[path]
                _record(failures, it.item_id, f"metric:{metric.name}", exc.problems[path])
            items = [it for it in items if it not in bad]
            if not items:
                raise SabenchError(f"metric {metric.name}", "every item's clip failed", FIX) from exc
    if dropped:
        out.extras = {**(out.extras or {}), FAILED_KEY: dict(sorted(dropped.items()))}
    return out, len(items)


def replay_failures(metric_name: str, extras: dict | None, failures: Any) -> int:
    """Re-record the isolation failures of a stored metric output; returns how many."""
    dropped = (extras or {}).get(FAILED_KEY) or {}
    for item_id, message in sorted(dropped.items()):
        _record(failures, item_id, f"metric:{metric_name}", str(message))
    return len(dropped)


def _record(failures: Any, item_id: str, stage: str, message: str) -> None:
    """`failures.add`; the error it raises without keep_going is marked as already recorded
    (`recorded_failure`), so the scorer re-raises it instead of blaming the whole metric."""
    try:
        failures.add(item_id, stage, message, FIX)
    except SabenchError as exc:
        exc.recorded_failure = True
        raise


__all__ = ["ClipError", "compute_isolated", "replay_failures", "FAILED_KEY"]
