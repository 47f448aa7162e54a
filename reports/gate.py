"""Regression gate: compare a run's aggregates with a stored baseline.

    write_baseline(run, "baseline.json")                  # once, from a trusted run
    result = compare(run, read_baseline("baseline.json"), {"fd_pann": Tolerance("abs", 0.5)})
    print(result.table()); sys.exit(result.exit_code)

Per metric the direction comes from `MetricInfo.higher_is_better`; a tolerance is absolute
(`abs:0.5`), relative to the baseline value (`rel:0.02`), or "outside the baseline's CI"
(`ci`, optionally `ci:0.001` extra margin). A metric is REGRESSED when it is worse than the
baseline by more than its tolerance, MISSING when the run lacks it (fails), IMPROVED when it
is better by more than the tolerance. Runs are only compared when suite, suite version,
profile and each metric's backbone checkpoint, preset, recipe and version agree.

The gate fails closed: a baseline is only written (and read) when it is complete and finite
(every metric has a finite value, n >= 1, finite CIs, no item failures); a run fails when a
metric is missing or non-finite, when its item count differs from the baseline's (fewer
items = failures ignored), or when it has item failures. A tolerance must be finite and name
a metric of the baseline (a typo is a usage error, not a silent default). `rel:x` is relative
to |baseline| and always means "worse by more than x" in the metric's direction, so it works
for negative baselines (e.g. delta_clap < 0).

CLI (`sabench gate ...` calls `main(argv)`); exit code 0 = pass, 1 = regression or failed check,
2 = usage error / bad input (one line on stderr).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.errors import SabenchError, describe_os_error
from harness.records import RunResult
from reports.serialize import read_json, read_run, run_from_dict, run_to_dict, write_json

FORMAT = "sabench-baseline"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Tolerance:
    kind: str
    """"abs", "rel" or "ci"."""
    amount: float = 0.0

    @classmethod
    def parse(cls, text: str) -> Tolerance:
        kind, _, amount = text.strip().partition(":")
        try:
            tol = cls(kind, float(amount) if amount else 0.0)
        except ValueError:
            raise SabenchError(text, "tolerance amount is not a number", "write abs:0.5, rel:0.02 or ci") from None
        if kind not in ("abs", "rel", "ci"):
            raise SabenchError(text, "unknown tolerance", "write abs:0.5, rel:0.02 or ci[:margin]")
        if not math.isfinite(tol.amount) or tol.amount < 0:
            raise SabenchError(text, "tolerance amount must be a finite number >= 0",
                               "write e.g. abs:0.5, rel:0.02 or ci:0.001")
        return tol

    def describe(self) -> str:
        if self.kind == "rel":
            return f"rel {self.amount:.1%}"
        if self.kind == "ci":
            return "outside CI" + (f" + {self.amount:g}" if self.amount else "")
        return f"abs {self.amount:g}"


FAILING = ("regressed", "missing", "no-ci", "non-finite", "item-count")
"""Row statuses that fail the gate."""


@dataclass(frozen=True)
class GateRow:
    metric: str
    higher_is_better: bool
    baseline: float | None
    current: float | None
    tolerance: str
    status: str
    """"ok", "improved", "regressed", "missing", "new", "no-ci", "non-finite" or "item-count"."""
    detail: str = ""
    """Why a failed row failed, in words (printed under the table)."""

    @property
    def failed(self) -> bool:
        return self.status in FAILING


@dataclass(frozen=True)
class GateResult:
    rows: tuple[GateRow, ...]
    problems: tuple[str, ...]
    """Reasons the gate fails besides rows: runs not comparable, item failures in the run."""
    header: str

    @property
    def passed(self) -> bool:
        return not self.problems and not any(r.failed for r in self.rows)

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1

    def table(self) -> str:
        """A readable plain-text table of every metric and what moved."""
        bad = sum(r.failed for r in self.rows) + len(self.problems)
        lines = [f"gate: {'PASS' if self.passed else f'FAIL ({bad} problem(s))'} -- {self.header}"]
        lines += [f"  problem: {p}" for p in self.problems]
        head = ("metric", "dir", "baseline", "current", "change", "tolerance", "status")
        body = [(r.metric, "\u2191" if r.higher_is_better else "\u2193", _f(r.baseline), _f(r.current),
                 _change(r.baseline, r.current), r.tolerance, r.status.upper()) for r in self.rows]
        widths = [max(len(str(x[i])) for x in [head] + body) for i in range(len(head))]
        for row in [head] + body:
            lines.append("  " + "  ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=True)).rstrip())
        lines += [f"  {r.metric}: {r.detail}" for r in self.rows if r.failed and r.detail]
        return "\n".join(lines) + "\n"


def _f(v: float | None) -> str:
    return "-" if v is None else f"{v:.4g}"


def _change(b: float | None, c: float | None) -> str:
    if b is None or c is None or not (math.isfinite(b) and math.isfinite(c)):
        return "-"
    rel = f" ({(c - b) / abs(b):+.1%})" if b else ""
    return f"{c - b:+.4g}{rel}"


def _finite(v: object) -> bool:
    """A real, finite number (None, NaN, inf, strings and booleans are not)."""
    if v is None or isinstance(v, (bool, str)):
        return False
    try:
        return math.isfinite(float(v))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def baseline_problems(run: RunResult) -> list[str]:
    """Why `run` cannot serve as a baseline (empty list: it can). A baseline is complete
    (every metric has an aggregate, no item failed) and finite (values and CIs)."""
    if not run.aggregates:
        return ["no metric produced a number (every metric failed or none ran)"]
    out = []
    aggs = {a.metric: a for a in run.aggregates}
    infos = {m.name for m in run.metrics}
    out += [f"metric {m} has no aggregate" for m in infos if m not in aggs]
    for a in run.aggregates:
        if a.metric not in infos:
            out.append(f"metric {a.metric} has no metric info (direction unknown)")
        if not _finite(a.value):
            out.append(f"metric {a.metric} value is {a.value!r}, not a finite number")
        if any(ci is not None and not _finite(ci) for ci in (a.ci_low, a.ci_high)):
            out.append(f"metric {a.metric} CI [{a.ci_low!r}, {a.ci_high!r}] is not finite")
        if not isinstance(a.n, int) or a.n < 1:
            out.append(f"metric {a.metric} has n={a.n!r} items")
    if run.failures:
        f = run.failures[0]
        out.append(f"{len(run.failures)} item failure(s), e.g. {f.item_id} [{f.stage}]")
    return out


def write_baseline(run: RunResult, path: str | Path) -> Path:
    """Store a run's identity, metric infos and aggregates (with CIs) as the baseline;
    refused (`SabenchError`) unless the run is complete and finite (`baseline_problems`)."""
    problems = baseline_problems(run)
    if problems:
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        raise SabenchError(f"run {run.run_id}", f"cannot be a baseline: {problems[0]}{more}",
                           "rerun it so every item and metric succeeds, then write the baseline")
    data = {"format": FORMAT, "format_version": FORMAT_VERSION, "run": run_to_dict(run, items=False)}
    try:
        return write_json(data, path)
    except OSError as exc:
        raise describe_os_error(exc, path) from None


def read_baseline(path: str | Path) -> RunResult:
    """A baseline file, refused (`SabenchError`) when malformed, incomplete or not finite."""
    path = Path(path)
    try:
        data = read_json(path, "baseline", "write one with `sabench gate --write-baseline FILE`")
    except (OSError, UnicodeDecodeError) as exc:
        if isinstance(exc, OSError):
            raise describe_os_error(exc, path) from None
        raise SabenchError(str(path), "is not a text file", "pass the baseline JSON file") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("format_version") != FORMAT_VERSION:
        raise SabenchError(str(path), "is not a sabench baseline (format/version)", "rewrite it with write_baseline")
    if not isinstance(data.get("run"), dict):
        raise SabenchError(str(path), "is not a sabench baseline (no run record)", "rewrite it with write_baseline")
    try:
        base = run_from_dict(data["run"], str(path))
    except SabenchError as exc:  # e.g. "value": "abc", a missing field
        raise SabenchError(str(path), f"unusable baseline: {exc.problem}",
                           "rewrite it with `sabench gate --write-baseline`") from None
    problems = baseline_problems(base)
    if problems:
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        raise SabenchError(str(path), f"unusable baseline: {problems[0]}{more}",
                           "rewrite it from a complete run with `sabench gate --write-baseline`")
    return base


def _identity_problems(run: RunResult, base: RunResult) -> list[str]:
    out = []
    for field in ("suite", "suite_version", "profile"):
        if getattr(run, field) != getattr(base, field):
            out.append(f"{field} {getattr(run, field)!r} vs baseline {getattr(base, field)!r}")
    infos = {m.name: m for m in base.metrics}
    for m in run.metrics:
        b = infos.get(m.name)
        if b is None:
            continue
        for field in ("backbone", "backbone_checkpoint_sha256", "preset", "recipe", "version", "higher_is_better",
                      "backbone_version", "backbone_device"):
            mine, theirs = getattr(m, field), getattr(b, field)
            if field in ("backbone_version", "backbone_device") and (mine is None or theirs is None):
                continue  # recorded since the run plan (results schema 2); unknown in older baselines
            if mine != theirs:
                out.append(f"{m.name} {field} {mine!r} vs baseline {theirs!r}")
    return out


def _status(hib: bool, base_agg, cur: float, tol: Tolerance) -> str:
    b = base_agg.value
    worse = (b - cur) if hib else (cur - b)  # > 0: worse in the metric's direction
    if tol.kind == "ci":
        if base_agg.ci_low is None or base_agg.ci_high is None:
            return "no-ci"
        edge = (base_agg.ci_low - tol.amount) if hib else (base_agg.ci_high + tol.amount)
        better_edge = (base_agg.ci_high + tol.amount) if hib else (base_agg.ci_low - tol.amount)
        if (cur < edge) if hib else (cur > edge):
            return "regressed"
        return "improved" if ((cur > better_edge) if hib else (cur < better_edge)) else "ok"
    allowed = tol.amount * abs(b) if tol.kind == "rel" else tol.amount  # |b|: negative baselines too
    if worse > allowed:
        return "regressed"
    return "improved" if -worse > allowed else "ok"


def _row(agg, cur, direction: bool, tol: Tolerance) -> GateRow:
    """One baseline metric against the run's aggregate (None: the run lacks it)."""
    def row(value, status, detail=""):
        return GateRow(agg.metric, direction, agg.value, value, tol.describe(), status, detail)

    if cur is None:
        return row(None, "missing", "the run has no value for this metric (not run, or every item failed)")
    if not _finite(cur.value):
        return row(None, "non-finite", f"the run's value is {cur.value!r}, not a finite number")
    value = float(cur.value)
    if cur.n != agg.n:
        fewer = "fewer" if cur.n < agg.n else "more"
        return row(value, "item-count", f"{fewer} items than the baseline (n={cur.n} vs {agg.n})")
    status = _status(direction, agg, value, tol)
    if status == "regressed":
        return row(value, status, f"worse than the baseline by more than {tol.describe()}")
    if status == "no-ci":
        return row(value, status, "the baseline has no CI for a `ci` tolerance (use abs: or rel:)")
    return row(value, status)


def _failure_problems(run: RunResult) -> list[str]:
    """Item failures in the run (a baseline has none, so every one is new)."""
    if not run.failures:
        return []
    shown = ", ".join(f"{f.item_id} [{f.stage}]" for f in run.failures[:3])
    more = f" (+{len(run.failures) - 3} more)" if len(run.failures) > 3 else ""
    return [f"{len(run.failures)} new item failure(s): {shown}{more}"]


def compare(run: RunResult, baseline: RunResult, tolerances: Mapping[str, Tolerance] | None = None,
            default: Tolerance = Tolerance("rel", 0.02), allow_mismatch: bool = False) -> GateResult:
    """Compare every baseline metric (and report new ones). See the module docstring.

    Fails closed: a metric the run lacks, a non-finite value, a different item count or
    item failures in the run fail the gate. Raises `SabenchError` when `tolerances` names a
    metric the baseline does not have (a typo would otherwise silently use the default)."""
    tolerances = dict(tolerances or {})
    known = {a.metric for a in baseline.aggregates}
    unknown = sorted(set(tolerances) - known)
    if unknown:
        raise SabenchError(f"--tolerance {unknown[0]}=...", "the baseline has no such metric",
                           f"use one of {', '.join(sorted(known))}")
    problems = [] if allow_mismatch else [f"not comparable: {p}" for p in _identity_problems(run, baseline)]
    problems += _failure_problems(run)
    hib = {m.name: m.higher_is_better for m in baseline.metrics}
    hib.update({m.name: m.higher_is_better for m in run.metrics if m.name not in hib})
    rows = [_row(agg, run.aggregate(agg.metric), hib.get(agg.metric, True), tolerances.get(agg.metric, default))
            for agg in baseline.aggregates]
    for agg in run.aggregates:
        if agg.metric not in known:
            rows.append(GateRow(agg.metric, hib.get(agg.metric, True), None, agg.value, "-", "new"))
    header = (f"suite {run.suite} v{run.suite_version}, profile {run.profile}; run {run.run_id} "
              f"({run.system.name}) vs baseline {baseline.run_id} ({baseline.system.name})")
    return GateResult(tuple(rows), tuple(problems), header)


def _parse_tolerances(specs: Sequence[str]) -> tuple[dict[str, Tolerance], Tolerance | None]:
    per, default = {}, None
    for spec in specs:
        metric, sep, rest = spec.partition("=")
        if sep:
            if not metric.strip():
                raise SabenchError(f"--tolerance {spec}", "no metric name before '='",
                                   "write metric=abs:0.5, or abs:0.5 for every metric")
            per[metric.strip()] = Tolerance.parse(rest)
        else:
            default = Tolerance.parse(spec)
    return per, default


def _load_run(run: str | None, results: str, baseline: RunResult | None) -> RunResult:
    if run and (run.endswith(".json") or Path(run).is_file()):
        try:
            return read_run(run)
        except OSError as exc:
            raise describe_os_error(exc, run) from None
        except UnicodeDecodeError:
            raise SabenchError(run, "is not a text file", "pass a run JSON file or a run id") from None
    from harness.results import ResultsStore

    store = ResultsStore(Path(results), read_only=True)  # a gate only reads (read-only mounts work)
    if run:
        if run in store.legacy_runs():
            raise SabenchError(f"run {run}", "was written before run plans (results schema 1): its stored metric "
                               "identities may be incomplete", "re-run the same command to get a planned run, "
                               "and gate that")
        return store.load_run(run)
    if baseline is None:
        raise SabenchError("sabench gate", "no --run given", "pass --run RUN_ID or --run FILE.json")
    runs = [r for r in store.runs(suite=baseline.suite, system=baseline.system.name)]
    if not runs:
        raise SabenchError(results, f"no run of suite {baseline.suite} / system {baseline.system.name}",
                           "pass --run RUN_ID")
    return runs[-1]


def main(argv: Sequence[str] | None = None) -> int:
    """`sabench gate --baseline FILE [--run RUN] [--tolerance [metric=]abs:X|rel:X|ci]...`.

    Exit codes: 0 pass, 1 regression or failed check, 2 usage error (bad option, unusable
    baseline or run, unreadable store): always one line on stderr, never a traceback."""
    ap = argparse.ArgumentParser(prog="sabench gate", description="Fail when a run regresses against a baseline.")
    ap.add_argument("--baseline", help="baseline JSON (from --write-baseline)")
    ap.add_argument("--run", help="run id in the results store, or a run JSON file "
                                   "(default: the latest run of the baseline's suite and system)")
    ap.add_argument("--results", default="sabench-out/results.sqlite", help="results store")
    ap.add_argument("--tolerance", action="append", default=[],
                    help="[metric=]abs:X | rel:X | ci[:margin] (repeatable; no metric = default; default rel:0.02)")
    ap.add_argument("--allow-mismatch", action="store_true", help="compare even if suite/backbones differ")
    ap.add_argument("--write-baseline", metavar="FILE", help="write the run as a baseline and exit "
                    "(refused unless every metric has a finite value and no item failed)")
    args = ap.parse_args(list(argv) if argv is not None else None)
    try:
        per, default = _parse_tolerances(args.tolerance)  # usage errors before any file is read
        if args.write_baseline:
            path = write_baseline(_load_run(args.run, args.results, None), args.write_baseline)
            print(f"baseline written: {path}")
            return 0
        if not args.baseline:
            raise SabenchError("sabench gate", "no --baseline given", "pass --baseline FILE (or --write-baseline FILE)")
        base = read_baseline(args.baseline)
        result = compare(_load_run(args.run, args.results, base), base, per,
                         default or Tolerance("rel", 0.02), args.allow_mismatch)
    except SabenchError as exc:
        print(f"sabench gate: {exc.one_line()}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"sabench gate: {describe_os_error(exc).one_line()}", file=sys.stderr)
        return 2
    print(result.table(), end="")
    return result.exit_code


gate_main = main
"""The name the CLI engineer asked for."""

if __name__ == "__main__":
    raise SystemExit(main())
