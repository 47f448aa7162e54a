"""Table-driven reliability cases run through the real CLI (`python -m harness.cli ...`).

A `Case` is one hostile or mistaken input: the command line (with `{tmp}` standing for the
test's temporary folder, where `files` are written first; plain text replacement, so YAML
braces are safe), the exit code it must end with, a fragment its output must contain, and the
outcome class:

- "clean error": exit code `expect_exit` (2 for a `SabenchError`), stderr is exactly one line
  `sabench: error: ...` containing the fragment, and no traceback anywhere;
- "handled": the command copes (usually exit 0) and the fragment is in stdout or stderr;
  no traceback.

    CASES = [Case("empty shard", ("generate", "--shard", "", ...), 2, "expected K/N")]

    @pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
    def test_case(case, tmp_path):
        check(case, run_case(case, tmp_path))
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUTCOMES = ("clean error", "handled")


@dataclass(frozen=True)
class Case:
    name: str
    argv: tuple[str, ...]
    expect_exit: int
    expect_fragment: str
    outcome: str = "clean error"
    files: Mapping[str, str] = field(default_factory=dict)
    """Relative path under the test's tmp folder -> text (may use {tmp})."""
    env: Mapping[str, str] = field(default_factory=dict)
    """Extra environment variables (values may use {tmp})."""

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}, got {self.outcome!r}")


def cli_env(tmp: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a CLI subprocess: this checkout first on PYTHONPATH, a private cache,
    no inherited trust or weights settings."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("SABENCH_ALLOW_CODE", "SABENCH_WEIGHTS", "SABENCH_DEBUG", "SABENCH_MINI_CHECKPOINTS")}
    env["PYTHONPATH"] = str(REPO)
    env["SABENCH_CACHE"] = str(tmp / "cache")
    env.update({k: v.replace("{tmp}", str(tmp)) for k, v in (extra or {}).items()})
    return env


def write_files(files: Mapping[str, str], tmp: Path) -> None:
    for rel, text in files.items():
        path = tmp / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.replace("{tmp}", str(tmp)))


def sabench(argv: tuple[str, ...] | list[str], tmp: Path, env: Mapping[str, str] | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess:
    """Run `python -m harness.cli *argv` ({tmp} substituted) with `cli_env`."""
    args = [a.replace("{tmp}", str(tmp)) for a in argv]
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=tmp, env=cli_env(tmp, env))


def run_case(case: Case, tmp: Path) -> subprocess.CompletedProcess:
    write_files(case.files, tmp)
    return sabench(case.argv, tmp, case.env)


def check(case: Case, out: subprocess.CompletedProcess) -> None:
    """Assert the case's exit code, outcome class and message fragment."""
    shown = f"{case.name}: exit {out.returncode}\nstdout: {out.stdout[-2000:]}\nstderr: {out.stderr[-2000:]}"
    assert "Traceback" not in out.stderr + out.stdout, shown
    assert out.returncode == case.expect_exit, shown
    if case.outcome == "clean error":
        lines = [x for x in out.stderr.splitlines() if x.strip() and not x.startswith("sabench: warning:")]
        assert len(lines) == 1 and lines[0].startswith("sabench: error: "), shown
        assert case.expect_fragment in lines[0], shown
    else:
        assert case.expect_fragment in out.stdout + out.stderr, shown
