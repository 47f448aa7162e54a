"""Paired system comparisons: is system A really better than system B on the same prompts?

`paired_difference(a, b, metric, seed=...)` matches per-item scores strictly by item id
(never by order), takes the per-item differences a - b and reports their mean, a 95 %
percentile bootstrap CI over items (explicit seeded `numpy.random.Generator`) and the
fraction of items where a > b. Runs that could not share a leaderboard row (different suite,
suite version, profile, or a different backbone checkpoint / preset / recipe / version of
*this* metric) are refused with the same check the tables use (`tables.check_mixing`).

`paired_table(runs, baseline, ...)` turns it into a `Table`: one row per (suite, system other
than the baseline, item metric) with the mean difference, its CI, n, the fraction a > b and a
verdict that follows the metric's `higher_is_better`. Set metrics (FD, IS ...) have no
per-item scores and are skipped with a footnote.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from harness.errors import SabenchError
from harness.records import MetricInfo, RunResult
from harness.scoring import bootstrap_ci
from reports.tables import DELTA, Cell, Column, Labels, Table, TableRow, check_mixing, run_labels

CI_LEVEL = 0.95
DEFAULT_N_BOOT = 2000
DEFAULT_SEED = 0
BETTER, WORSE, SAME, TOO_FEW = "better", "worse", "no difference (CI includes 0)", "too few items"


class NotComparable(SabenchError):
    """The two runs could not share a leaderboard (suite version, profile, metric identity)."""


@dataclass(frozen=True)
class PairedDiff:
    metric: str
    system_a: str
    system_b: str
    n: int
    """Items scored by both runs (matched by item id)."""
    mean_diff: float
    """Mean over items of (a - b), in the metric's units."""
    ci_low: float
    ci_high: float
    """95 % percentile bootstrap CI of mean_diff (resampling items)."""
    frac_a_greater: float
    """Fraction of matched items where a's score > b's."""
    higher_is_better: bool
    n_boot: int
    seed: int
    unmatched: int = 0
    """Item ids scored by only one of the two runs (left out)."""

    def verdict(self) -> str:
        """"better"/"worse" for A vs B when the CI excludes 0 (direction from the metric)."""
        if self.n < 2:
            return TOO_FEW
        if self.ci_low > 0 or self.ci_high < 0:
            return BETTER if (self.ci_low > 0) == self.higher_is_better else WORSE
        return SAME


def _info(run: RunResult, metric: str, label: str) -> MetricInfo:
    for m in run.metrics:
        if m.name == metric:
            return m
    raise SabenchError(f"run {label!r} ({run.run_id})", f"has no metric {metric!r}",
                       f"pick one of: {', '.join(m.name for m in run.metrics) or 'none'}")


def _scores(run: RunResult, metric: str, label: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for s in run.items:
        if s.metric != metric:
            continue
        if s.item_id in out:
            raise SabenchError(f"run {label!r} item {s.item_id!r}", f"scored twice for {metric!r}",
                               "give each item one score per metric (replicates need distinct ids)")
        out[s.item_id] = float(s.value)
    return out


def _check_comparable(a: RunResult, b: RunResult, metric: str, la: str, lb: str) -> None:
    """`tables.check_mixing` on the two runs restricted to `metric` (other metrics may differ)."""
    only = [replace(r, metrics=tuple(m for m in r.metrics if m.name == metric), aggregates=(), items=())
            for r in (a, b)]
    try:
        check_mixing(only, "refuse", [la, lb])
    except SabenchError as exc:
        raise NotComparable(f"paired {metric}: {la!r} ({a.run_id}) vs {lb!r} ({b.run_id})", exc.problem,
                           "compare runs of one suite version and profile, scored with the same "
                           "backbone checkpoint, preset and recipe") from exc


def paired_difference(a: RunResult, b: RunResult, metric: str, *, n_boot: int = DEFAULT_N_BOOT,
                      seed: int, labels: tuple[str, str] | None = None) -> PairedDiff:
    """Mean of per-item (a - b) for `metric` with a percentile bootstrap CI over items.

    Args:
        seed: seeds the bootstrap's `numpy.random.Generator` (same seed -> same CI).
        labels: display names for (a, b); default from `tables.run_labels`.

    Raises:
        SabenchError: runs not comparable, a set metric, a metric missing from a run, no
            common item ids, or an item scored twice.
    """
    la, lb = labels or tuple(run_labels([a, b]))
    if la == lb:
        la, lb = f"{la} [{a.run_id}]", f"{lb} [{b.run_id}]"
    ia, _ = _info(a, metric, la), _info(b, metric, lb)
    _check_comparable(a, b, metric, la, lb)
    if ia.kind != "item":
        raise SabenchError(f"paired {metric}: {la!r} vs {lb!r}", f"{metric} is a {ia.kind} metric "
                           "(one number per run, no per-item scores)", "compare an item metric")
    if n_boot < 1:
        raise SabenchError(f"n_boot={n_boot}", "needs at least one bootstrap resample", "use n_boot >= 1")
    sa, sb = _scores(a, metric, la), _scores(b, metric, lb)
    ids = sorted(set(sa) & set(sb))
    if not ids:
        raise SabenchError(f"paired {metric}: {la!r} ({a.run_id}) vs {lb!r} ({b.run_id})",
                           "no item id scored by both runs", "compare runs over the same prompts")
    d = np.array([sa[i] - sb[i] for i in ids], dtype=np.float64)  # (n,) per-item a - b
    lo, hi = bootstrap_ci(d, seed, resamples=n_boot, level=CI_LEVEL)  # the one bootstrap (harness.scoring)
    return PairedDiff(metric, la, lb, len(ids), float(d.mean()), float(lo), float(hi),
                      float(np.mean(d > 0)), ia.higher_is_better, int(n_boot), int(seed),
                      len(set(sa) ^ set(sb)))


Baseline = str | Callable[[RunResult], bool]


def _pick_baseline(runs: Sequence[RunResult], names: Sequence[str], baseline: Baseline) -> int | None:
    """Index of the baseline run: by predicate, else exact row label, else unique system name."""
    if callable(baseline):
        hits = [i for i, r in enumerate(runs) if baseline(r)]
    else:
        hits = [i for i, n in enumerate(names) if n == baseline]
        if not hits:
            hits = [i for i, r in enumerate(runs) if r.system.name == baseline or r.run_id == baseline]
    if len(hits) > 1:
        raise SabenchError(f"baseline {getattr(baseline, '__name__', baseline)!r}",
                           f"matches {len(hits)} runs of {runs[hits[0]].suite}: "
                           + ", ".join(names[i] for i in hits), "name one row label exactly")
    return hits[0] if hits else None


def paired_table(runs: Sequence[RunResult], baseline_label_or_predicate: Baseline,
                 metrics: Sequence[str] | None = None, *, labels: Labels = None,
                 n_boot: int = DEFAULT_N_BOOT, seed: int = DEFAULT_SEED, strict: bool = True) -> Table:
    """One row per (suite, system other than the baseline, item metric): "Δ vs <baseline>".

    Runs are grouped by (suite, suite version, profile); a group without the baseline gets no
    rows. Args:
        baseline_label_or_predicate: a row label (as in the leaderboard), a system name or run
            id, or a predicate on `RunResult`.
        metrics: metric names to compare (default: every metric of the baseline run).
        strict: True -> a non-comparable pair raises; False -> it is skipped with a footnote.
            Pairs without common item ids are always skipped with a footnote.
    """
    if not runs:
        raise SabenchError("paired table", "no runs to compare", "pass at least one RunResult")
    base_name = baseline_label_or_predicate if isinstance(baseline_label_or_predicate, str) else "baseline"
    groups: dict[tuple[str, str, str], list[RunResult]] = {}
    for r in runs:
        groups.setdefault((r.suite, r.suite_version, r.profile), []).append(r)
    rows: list[TableRow] = []
    notes: list[str] = []
    for group in groups.values():
        rows += _group_rows(group, baseline_label_or_predicate, metrics, labels, n_boot, seed, strict,
                            notes, multi=len(groups) > 1)
    notes.append(f"{DELTA} = system \u2212 {base_name}, per item matched by id; "
                 f"{int(CI_LEVEL * 100)}% percentile bootstrap over items ({n_boot} resamples, seed {seed}); "
                 f"a > b: fraction of items where the system's score exceeds {base_name}'s.")
    suites = ", ".join(dict.fromkeys(f"{s} v{v}" for s, v, _ in groups))
    profiles = ", ".join(dict.fromkeys(p for _, _, p in groups))
    cols = (Column("metric", "Metric", None), Column("delta", f"{DELTA} vs {base_name}", None, 4, signed=True),
            Column("ci", f"{int(CI_LEVEL * 100)}% CI", None), Column("n", "n", None, 0),
            Column("frac", "a > b", None, 2), Column("verdict", "Verdict", None))
    return Table("paired", f"Paired differences vs {base_name}", "System", cols, tuple(rows), profiles,
                 suites, tuple(notes))


def _group_rows(group, baseline, metrics, labels, n_boot, seed, strict, notes, multi) -> list[TableRow]:
    names = run_labels(group, labels)
    k = _pick_baseline(group, names, baseline)
    if k is None:
        return []
    base = group[k]
    wanted = list(metrics) if metrics is not None else [m.name for m in base.metrics]
    rows = []
    for i, run in enumerate(group):
        if i == k:
            continue
        label = f"{run.suite} \u00b7 {names[i]}" if multi else names[i]
        for metric in wanted:
            info = {m.name: m for m in run.metrics}.get(metric)
            binfo = {m.name: m for m in base.metrics}.get(metric)
            if info is None or binfo is None:
                continue  # metric not scored by both runs
            if binfo.kind != "item":
                _note(notes, f"{metric}: {binfo.kind} metric (no per-item scores), not compared.")
                continue
            try:
                p = paired_difference(run, base, metric, n_boot=n_boot, seed=seed, labels=(names[i], names[k]))
            except SabenchError as exc:  # not comparable (raised if strict), or no common items
                if strict and isinstance(exc, NotComparable):
                    raise
                rows.append(TableRow(label, _text_cells(metric, "not compared"), (_note(notes, exc.one_line()),)))
                continue
            rows.append(TableRow(label, _cells(p), (_note(notes, f"{p.unmatched} item(s) scored by only "
                                                               f"one of the two runs, left out."),)
                                 if p.unmatched else ()))
    return rows


def _note(notes: list[str], text: str) -> int:
    if text not in notes:
        notes.append(text)
    return notes.index(text) + 1


def _fmt(x: float) -> str:
    return f"{x:+.4f}" if x else "0.0000"


def _cells(p: PairedDiff) -> tuple[Cell, ...]:
    return (Cell(None, text=p.metric + ("\u2191" if p.higher_is_better else "\u2193")),
            Cell(p.mean_diff, p.ci_low, p.ci_high),
            Cell(None, text=f"[{_fmt(p.ci_low)}, {_fmt(p.ci_high)}]"),
            Cell(float(p.n)), Cell(p.frac_a_greater), Cell(None, text=p.verdict()))


def _text_cells(metric: str, verdict: str) -> tuple[Cell, ...]:
    return (Cell(None, text=metric), Cell(None), Cell(None), Cell(None), Cell(None), Cell(None, text=verdict))
