"""What a command says after its runs, and the exit code it returns.

    0  every suite x system pair ran and every item and metric of it was scored
    1  the command ran to the end without scoring everything: a run with failures (items or
       metrics, under --keep-going), a run without any number, a pair not run, nothing run
    2  (raised, not returned here) the command stopped with a one-line `SabenchError`

Used by `sabench run` and `sabench score` (harness/cli.py).
"""

from __future__ import annotations

import sys
from typing import Any


def print_summary(results: list[Any]) -> None:
    """Each run's aggregates (value, 95% CI, n) and its first failures, on stdout."""
    for r in results:
        print(f"{r.suite} v{r.suite_version} [{r.profile}] x {r.system.name}  (run {r.run_id})")
        for a in r.aggregates:
            ci = f"  [{a.ci_low:.4g}, {a.ci_high:.4g}]" if a.ci_low is not None else ""
            print(f"  {a.metric:<28} {a.value:.6g}{ci}  n={a.n}")
        if r.failures:
            print(f"  {len(r.failures)} failure(s):")
            for f in r.failures[:20]:
                print(f"    {f.item_id} [{f.stage}] {f.message}")


def exit_status(results: list[Any], aborted: list[str]) -> int:
    """0 when every pair ran and every item and metric of it was scored; else 1, after one
    stderr line per problem (a run with failures, a run without numbers, a pair not run)."""
    problems = []
    for r in results:
        if not r.aggregates:
            problems.append(f"no metric produced a number for: {r.suite} x {r.system.name}")
        elif r.failures:
            problems.append(f"{len(r.failures)} item/metric failure(s) in {r.suite} x {r.system.name} "
                            f"(listed above; run {r.run_id})")
    problems += [f"not run: {line}" for line in aborted]
    if not results and not aborted:
        problems.append("nothing was scored (no suite x system pair could run)")
    for line in problems:
        print(f"sabench: {line}", file=sys.stderr)
    return 1 if problems else 0


__all__ = ["print_summary", "exit_status"]
