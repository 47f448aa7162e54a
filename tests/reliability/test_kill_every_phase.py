"""SIGKILL a real `sabench run` in every phase of the pipeline, re-run it, and get the
uninterrupted run's stored identity and numbers bit for bit (issue 12).

Each phase is reached through a hook installed in the child process only: when the hooked
function is entered for the Nth time, the process kills itself with SIGKILL (no cleanup, no
atexit, no finally: what a power cut or the OOM killer does at that instant).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "harness"))  # tests/harness/_kit.py
from harness.results import ResultsStore  # noqa: E402

import _kit  # noqa: E402

KIT = str(Path(_kit.__file__).parent)

# (phase, "module:Class.method or module:function" to hook, which call kills)
PHASES = [
    ("planning", "harness.plan:resolve_metrics", 1),
    ("generation, between two batches", "harness.artifacts:ArtifactStore.put_audio", 3),
    ("sample written, sidecar not yet", "harness.paths:atomic_write_bytes", 4),
    ("embedding, after the first cached batch", "harness.artifacts:EmbeddingCache.put", 2),
    ("after the first metric's scores", "harness.results:ResultsStore.put_metric_output", 2),
    ("saving the finished run", "harness.results:ResultsStore.save_run", 1),
]

CHILD = """
import os, signal, sys, importlib
sys.path.insert(0, {kit!r})
import _kit
_kit.register()
target, nth = {target!r}, {nth}
if target:
    mod_name, attr = target.split(":")
    mod = importlib.import_module(mod_name)
    owner, name = (getattr(mod, attr.split(".")[0]), attr.split(".")[1]) if "." in attr else (mod, attr)
    real = getattr(owner, name)
    calls = [0]
    def hooked(*a, **k):
        calls[0] += 1
        if calls[0] == nth:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*a, **k)
    setattr(owner, name, hooked)
    if mod_name == "harness.paths":  # the artifact store imported it by name
        import harness.artifacts as art
        art.atomic_write_bytes = hooked
from harness.cli import main
sys.exit(main(["run", "--suite", {suite!r}, "--system", "sine:batch_size=2", "--out", {out!r},
               "--quiet", "--no-report"]))
"""


def _run(suite: Path, out: Path, cache: Path, target: str = "", nth: int = 0) -> subprocess.CompletedProcess:
    script = CHILD.format(kit=KIT, target=target, nth=nth, suite=str(suite), out=str(out))
    env = {**os.environ, "SABENCH_CACHE": str(cache)}
    return subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)


def _stored(out: Path):
    store = ResultsStore(out / "results.sqlite")
    (run,) = store.runs()
    return run.run_id, run.metrics, run.plan, run.aggregates, run.items, run.failures


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("kill")
    suite = _kit.write_suite(root / "suite", n=8, metrics=("test_rms", "test_mean_rms"))
    reference = root / "reference"
    done = _run(suite, reference, root / "cache-reference")
    assert done.returncode == 0, done.stderr
    return root, suite, _stored(reference)


@pytest.mark.parametrize("phase,target,nth", PHASES, ids=[p[0] for p in PHASES])
def test_killed_in_any_phase_resumes_bit_identical(world, phase, target, nth):
    root, suite, want = world
    out, cache = root / f"out-{PHASES.index((phase, target, nth))}", root / f"cache-{phase[:8]}"
    killed = _run(suite, out, cache, target, nth)
    assert killed.returncode == -signal.SIGKILL, (phase, killed.returncode, killed.stderr[-2000:])
    again = _run(suite, out, cache)
    assert again.returncode == 0, (phase, again.stderr[-2000:])
    assert _stored(out) == want  # run id, MetricInfos, plan, aggregates, items, failures: bit for bit
