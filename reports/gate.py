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

CLI (`sabench gate ...` calls `main(argv)`); exit code 0 = pass, 1 = regression, 2 = bad input.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from harness.errors import SabenchError
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
    def parse(cls, text: str) -> "Tolerance":
        kind, _, amount = text.strip().partition(":")
        try:
            tol = cls(kind, float(amount) if amount else 0.0)
        except ValueError:
            raise SabenchError(text, "tolerance amount is not a number", "write abs:0.5, rel:0.02 or ci") from None
        if kind not in ("abs", "rel", "ci") or tol.amount < 0:
            raise SabenchError(text, "unknown tolerance", "write abs:0.5, rel:0.02 or ci[:margin]")
        return tol

    def describe(self) -> str:
        if self.kind == "rel":
            return f"rel {self.amount:.1%}"
        if self.kind == "ci":
            return "outside CI" + (f" + {self.amount:g}" if self.amount else "")
        return f"abs {self.amount:g}"


@dataclass(frozen=True)
class GateRow:
    metric: str
    higher_is_better: bool
    baseline: float | None
    current: float | None
    tolerance: str
    status: str
    """"ok", "improved", "regressed", "missing", "new" or "no-ci"."""

    @property
    def failed(self) -> bool:
        return self.status in ("regressed", "missing", "no-ci")


@dataclass(frozen=True)
class GateResult:
    rows: tuple[GateRow, ...]
    problems: tuple[str, ...]
    """Reasons the runs are not comparable (each fails the gate)."""
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
        lines += [f"  not comparable: {p}" for p in self.problems]
        head = ("metric", "dir", "baseline", "current", "change", "tolerance", "status")
        body = [(r.metric, "\u2191" if r.higher_is_better else "\u2193", _f(r.baseline), _f(r.current),
                 _change(r.baseline, r.current), r.tolerance, r.status.upper()) for r in self.rows]
        widths = [max(len(str(x[i])) for x in [head] + body) for i in range(len(head))]
        for row in [head] + body:
            lines.append("  " + "  ".join(str(x).ljust(w) for x, w in zip(row, widths)).rstrip())
        return "\n".join(lines) + "\n"


def _f(v: float | None) -> str:
    return "-" if v is None else f"{v:.4g}"


def _change(b: float | None, c: float | None) -> str:
    if b is None or c is None or not (math.isfinite(b) and math.isfinite(c)):
        return "-"
    rel = f" ({(c - b) / abs(b):+.1%})" if b else ""
    return f"{c - b:+.4g}{rel}"


def write_baseline(run: RunResult, path: str | Path) -> Path:
    """Store a run's identity, metric infos and aggregates (with CIs) as the baseline."""
    data = {"format": FORMAT, "format_version": FORMAT_VERSION, "run": run_to_dict(run, items=False)}
    return write_json(data, path)


def read_baseline(path: str | Path) -> RunResult:
    path = Path(path)
    data = read_json(path, "baseline", "write one with `sabench gate --write-baseline FILE`")
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("format_version") != FORMAT_VERSION:
        raise SabenchError(str(path), "is not a sabench baseline (format/version)", "rewrite it with write_baseline")
    return run_from_dict(data["run"], str(path))


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
        for field in ("backbone", "backbone_checkpoint_sha256", "preset", "recipe", "version", "higher_is_better"):
            if getattr(m, field) != getattr(b, field):
                out.append(f"{m.name} {field} {getattr(m, field)!r} vs baseline {getattr(b, field)!r}")
    return out


def _status(hib: bool, base_agg, cur: float, tol: Tolerance) -> str:
    if not math.isfinite(cur):
        return "regressed"
    b = base_agg.value
    worse = (b - cur) if hib else (cur - b)
    if tol.kind == "ci":
        if base_agg.ci_low is None or base_agg.ci_high is None:
            return "no-ci"
        edge = (base_agg.ci_low - tol.amount) if hib else (base_agg.ci_high + tol.amount)
        better_edge = (base_agg.ci_high + tol.amount) if hib else (base_agg.ci_low - tol.amount)
        if (cur < edge) if hib else (cur > edge):
            return "regressed"
        return "improved" if ((cur > better_edge) if hib else (cur < better_edge)) else "ok"
    allowed = tol.amount * abs(b) if tol.kind == "rel" else tol.amount
    if worse > allowed:
        return "regressed"
    return "improved" if -worse > allowed else "ok"


def compare(run: RunResult, baseline: RunResult, tolerances: Mapping[str, Tolerance] | None = None,
            default: Tolerance = Tolerance("rel", 0.02), allow_mismatch: bool = False) -> GateResult:
    """Compare every baseline metric (and report new ones). See the module docstring."""
    tolerances = dict(tolerances or {})
    problems = [] if allow_mismatch else _identity_problems(run, baseline)
    hib = {m.name: m.higher_is_better for m in baseline.metrics}
    hib.update({m.name: m.higher_is_better for m in run.metrics if m.name not in hib})
    rows = []
    for agg in baseline.aggregates:
        tol = tolerances.get(agg.metric, default)
        cur = run.aggregate(agg.metric)
        direction = hib.get(agg.metric, True)
        if cur is None:
            rows.append(GateRow(agg.metric, direction, agg.value, None, tol.describe(), "missing"))
            continue
        rows.append(GateRow(agg.metric, direction, agg.value, cur.value, tol.describe(),
                            _status(direction, agg, float(cur.value), tol)))
    known = {a.metric for a in baseline.aggregates}
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
            per[metric.strip()] = Tolerance.parse(rest)
        else:
            default = Tolerance.parse(spec)
    return per, default


def _load_run(run: str | None, results: str, baseline: RunResult | None) -> RunResult:
    if run and (run.endswith(".json") or Path(run).is_file()):
        return read_run(run)
    if not Path(results).is_file():
        raise SabenchError(results, "results store not found", "pass --results PATH or --run FILE.json")
    from harness.results import ResultsStore

    store = ResultsStore(Path(results))
    if run:
        return store.load_run(run)
    if baseline is None:
        raise SabenchError("sabench gate", "no --run given", "pass --run RUN_ID or --run FILE.json")
    runs = [r for r in store.runs(suite=baseline.suite, system=baseline.system.name)]
    if not runs:
        raise SabenchError(results, f"no run of suite {baseline.suite} / system {baseline.system.name}",
                           "pass --run RUN_ID")
    return runs[-1]


def main(argv: Sequence[str] | None = None) -> int:
    """`sabench gate --baseline FILE [--run RUN] [--tolerance [metric=]abs:X|rel:X|ci]...`."""
    ap = argparse.ArgumentParser(prog="sabench gate", description="Fail when a run regresses against a baseline.")
    ap.add_argument("--baseline", help="baseline JSON (from --write-baseline)")
    ap.add_argument("--run", help="run id in the results store, or a run JSON file "
                                   "(default: the latest run of the baseline's suite and system)")
    ap.add_argument("--results", default="sabench-out/results.sqlite", help="results store")
    ap.add_argument("--tolerance", action="append", default=[],
                    help="[metric=]abs:X | rel:X | ci[:margin] (repeatable; no metric = default; default rel:0.02)")
    ap.add_argument("--allow-mismatch", action="store_true", help="compare even if suite/backbones differ")
    ap.add_argument("--write-baseline", metavar="FILE", help="write the run as a baseline and exit")
    args = ap.parse_args(list(argv) if argv is not None else None)
    try:
        if args.write_baseline:
            path = write_baseline(_load_run(args.run, args.results, None), args.write_baseline)
            print(f"baseline written: {path}")
            return 0
        if not args.baseline:
            raise SabenchError("sabench gate", "no --baseline given", "pass --baseline FILE (or --write-baseline FILE)")
        base = read_baseline(args.baseline)
        per, default = _parse_tolerances(args.tolerance)
        result = compare(_load_run(args.run, args.results, base), base, per,
                         default or Tolerance("rel", 0.02), args.allow_mismatch)
    except SabenchError as exc:
        print(f"sabench gate: {exc.one_line()}", file=sys.stderr)
        return 2
    print(result.table(), end="")
    return result.exit_code


gate_main = main
"""The name the CLI engineer asked for."""

if __name__ == "__main__":
    raise SystemExit(main())
