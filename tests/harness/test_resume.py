"""Kill a real `sabench run` mid-way, re-run it, and get the uninterrupted run's numbers bit for bit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.results import ResultsStore

import _kit

KIT = str(Path(_kit.__file__).parent)
N = 12
SLEEP = 0.15
"""Seconds per item in the slow run: 12 items in batches of 2 take ~1.8 s."""


def _start(suite: Path, out: Path, cache: Path, sleep: float) -> subprocess.Popen:
    # SIGINT back to Python's handler: a test run started in the background by a shell without
    # job control (nohup ... &) inherits SIGINT ignored, and the child would never be interrupted
    script = ("import signal\nsignal.signal(signal.SIGINT, signal.default_int_handler)\n"
              f"import sys\nsys.path.insert(0, {KIT!r})\nimport _kit\n_kit.register()\n"
              "from harness.cli import main\n"
              f"sys.exit(main(['run', '--suite', {str(suite)!r}, '--system', 'sine:sleep={sleep},batch_size=2',"
              f" '--out', {str(out)!r}, '--quiet', '--no-report']))")
    env = {**os.environ, "SABENCH_CACHE": str(cache)}
    return subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _stored(out: Path) -> dict[str, int]:
    """Sidecars (the artifact store's commit markers) -> mtime_ns."""
    return {p.name: p.stat().st_mtime_ns for p in (out / "artifacts").rglob("*.json")}


def _numbers(out: Path):
    (run,) = ResultsStore(out / "results.sqlite").runs()
    return run.run_id, run.items, run.aggregates, run.failures


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_kill_and_resume_gives_identical_numbers(tmp_path, sig):
    suite = _kit.write_suite(tmp_path / "suite", n=N, duration=0.25)
    out = tmp_path / "interrupted"
    proc = _start(suite, out, tmp_path / "cache1", SLEEP)
    deadline = time.monotonic() + 60
    while len(_stored(out)) < 4 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    if sig == signal.SIGINT:
        assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err
    else:
        assert proc.returncode == -signal.SIGKILL
    before = _stored(out)
    assert 4 <= len(before) < N, "the kill must land mid-way (some samples stored, not all)"
    assert ResultsStore(out / "results.sqlite").runs() == []  # nothing finished yet

    resumed = _start(suite, out, tmp_path / "cache1", SLEEP)
    assert resumed.wait(120) == 0, resumed.stderr.read()
    after = _stored(out)
    assert len(after) == N and all(after[k] == v for k, v in before.items())  # stored samples reused

    clean = tmp_path / "clean"
    fresh = _start(suite, clean, tmp_path / "cache2", 0.0)
    assert fresh.wait(120) == 0, fresh.stderr.read()
    run_id, items, aggregates, failures = _numbers(out)
    assert (run_id, items, aggregates, failures) == _numbers(clean)  # == on floats: bit for bit
    assert len(items) == N and not failures and len(aggregates) == 2
