"""Helpers for the gate / store / doctor reliability cases: the real CLI in a subprocess,
cheap runs written as JSON or into a results store, and a "no privileges" prefix.

Tests run as root, and root ignores permission bits. `UNPRIVILEGED` drops every capability
(`setpriv --bounding-set=-all`): the process keeps uid 0 (so it can still reach the venv's
python under /root) but obeys file modes like any user.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from harness.records import Aggregate, Failure, MetricInfo, RunResult, SystemInfo

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable

METRICS = (
    MetricInfo("fd_pann", False, "panns16k", "c" * 64, "r16k", kind="set"),
    MetricInfo("clap_laion", True, "laion_clap", "d" * 64, "r48k"),
    MetricInfo("delta_clap", True, "laion_clap", "d" * 64, "r48k"),
)


def make_run(fd: float | None = 19.1, clap: float | None = 0.381, delta: float | None = -0.05, n: int = 4,
             failures: Sequence[Failure] = (), run_id: str = "run-a", ci=(0.375, 0.387)) -> RunResult:
    """A 3-metric run; a metric given as None has no aggregate (it failed everywhere)."""
    aggs = []
    for name, value, lo_hi in (("fd_pann", fd, (None, None)), ("clap_laion", clap, ci),
                               ("delta_clap", delta, (None, None))):
        if value is not None:
            aggs.append(Aggregate(name, value, lo_hi[0], lo_hi[1], n))
    system = SystemInfo("sysx", "1", "a" * 64, 48000)
    return RunResult(run_id, "audiocaps", "1.0.0", "real", system, METRICS, tuple(aggs), failures=tuple(failures))


def with_n(run: RunResult, n: int) -> RunResult:
    return replace(run, aggregates=tuple(replace(a, n=n) for a in run.aggregates))


def write_run_json(run: RunResult, path: Path) -> Path:
    from reports.serialize import write_run

    return write_run(run, path)


def write_baseline_raw(run: RunResult, path: Path, edit=None) -> Path:
    """A baseline file written without the gate's checks (old/hand-edited files), after
    `edit(data)` changed its JSON data in place."""
    from reports.gate import FORMAT, FORMAT_VERSION
    from reports.serialize import run_to_dict

    data = {"format": FORMAT, "format_version": FORMAT_VERSION, "run": run_to_dict(run, items=False)}
    if edit is not None:
        edit(data)
    path.write_text(json.dumps(data))
    return path


def sabench(argv: Sequence[str], cwd: Path, prefix: Sequence[str] = (), env: dict | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess:
    """`python -m harness.cli ARGV` with this worktree first on PYTHONPATH."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    full_env.pop("SABENCH_DEBUG", None)
    return subprocess.run([*prefix, PYTHON, "-m", "harness.cli", *argv], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


def check_one_line_error(proc: subprocess.CompletedProcess, code: int, fragment: str) -> None:
    """Exit `code`, no traceback, and (for errors) exactly one stderr line holding `fragment`."""
    out = proc.stdout + proc.stderr
    assert "Traceback" not in out, out
    assert proc.returncode == code, (proc.returncode, out)
    assert fragment.lower() in out.lower(), (fragment, out)
    if code == 2:
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1, proc.stderr


def _unprivileged_prefix() -> list[str] | None:
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    probe = subprocess.run([setpriv, "--bounding-set=-all", "--inh-caps=-all", "true"], capture_output=True)
    return [setpriv, "--bounding-set=-all", "--inh-caps=-all"] if probe.returncode == 0 else None


UNPRIVILEGED = _unprivileged_prefix()
"""Command prefix that makes permission bits apply (None: not possible here -> skip)."""
