"""`RunResult` <-> plain JSON data: the one (de)serializer of runs and their records.

Used by the results store (system and metric records of a run row), report JSON, run files
and gate baselines (`reports.serialize` re-exports it for the reports package).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

from harness.errors import SabenchError
from harness.records import Aggregate, Failure, ItemScore, MetricInfo, RunPlan, RunResult, SystemInfo


def _num(v: float | None) -> float | str | None:
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else repr(v)  # "nan" / "inf" survive JSON round trips


def _unnum(v: Any) -> float | None:
    return None if v is None else float(v)


def _value(v: Any) -> float:
    """A stored aggregate or item value. A null one is passed through as None, not refused
    here, so that `reports.gate` can name it and fail closed."""
    return _unnum(v)  # type: ignore[return-value]  # None only for a hand-edited/corrupt record


def run_to_dict(run: RunResult, items: bool = True) -> dict:
    return {
        "run_id": run.run_id, "suite": run.suite, "suite_version": run.suite_version, "profile": run.profile,
        "system": asdict(run.system), "metrics": [asdict(m) for m in run.metrics],
        "aggregates": [{"metric": a.metric, "value": _num(a.value), "ci_low": _num(a.ci_low),
                        "ci_high": _num(a.ci_high), "n": a.n, "extras": dict(a.extras)} for a in run.aggregates],
        "items": [[s.item_id, s.metric, _num(s.value)] for s in run.items] if items else [],
        "failures": [asdict(f) for f in run.failures],
        "environment": dict(run.environment), "created": run.created,
        "plan": None if run.plan is None else run.plan.to_dict(),
    }


def _pairs(d: Any) -> tuple:
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in (d or {}).items()))


def system_from_dict(d: dict) -> SystemInfo:
    """`SystemInfo` from `asdict(info)` after a JSON round trip (parameters back to pairs)."""
    sysd = dict(d)
    sysd["parameters"] = tuple(tuple(p) for p in sysd.get("parameters", ()))
    return SystemInfo(**sysd)


def metrics_from_list(rows: list) -> tuple[MetricInfo, ...]:
    """`MetricInfo`s from `[asdict(m) ...]` after a JSON round trip."""
    return tuple(MetricInfo(**m) for m in rows)


def run_from_dict(d: dict, where: str = "<run>") -> RunResult:
    try:
        return RunResult(
            d["run_id"], d["suite"], d["suite_version"], d["profile"], system_from_dict(d["system"]),
            metrics_from_list(d["metrics"]),
            tuple(Aggregate(a["metric"], _value(a["value"]), _unnum(a.get("ci_low")), _unnum(a.get("ci_high")),
                            int(a.get("n", 0)), _pairs(a.get("extras"))) for a in d["aggregates"]),
            tuple(ItemScore(i, m, _value(v)) for i, m, v in d.get("items", [])),
            tuple(Failure(**f) for f in d.get("failures", [])),
            _pairs(d.get("environment")), d.get("created", ""),
            RunPlan.from_dict(d["plan"]) if d.get("plan") else None)
    except (KeyError, TypeError, ValueError) as exc:
        raise SabenchError(where, f"is not a sabench run record ({exc.__class__.__name__}: {exc})",
                           "write it with harness.serialize.write_run or `sabench report --formats json`") from None


def write_json(data: Any, path: str | Path) -> Path:
    """Write `data` as indented, key-sorted JSON, atomically."""
    from harness.paths import atomic_write_bytes

    path = Path(path)
    atomic_write_bytes(path, (json.dumps(data, indent=1, sort_keys=True) + "\n").encode("utf-8"))
    return path


def read_json(path: str | Path, what: str, fix: str) -> Any:
    """Parsed JSON; a missing file or invalid JSON is a one-line SabenchError naming `path`."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SabenchError(str(path), f"{what} not found", fix) from None
    except json.JSONDecodeError as exc:
        raise SabenchError(str(path), f"invalid JSON ({exc.msg})", fix) from None


def write_run(run: RunResult, path: str | Path) -> Path:
    return write_json(run_to_dict(run), path)


def read_run(path: str | Path) -> RunResult:
    data = read_json(path, "run file", "give the path of a run JSON file")
    return run_from_dict(data, str(path))
