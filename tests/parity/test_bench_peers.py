"""benchmarks/peers.py's plumbing (not its timings): one thread for both sides, a failing command
named with its stderr, and the machine record stored next to the table."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _peers():
    spec = importlib.util.spec_from_file_location("bench_peers", ROOT / "benchmarks" / "peers.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_both_sides_get_one_torch_and_blas_thread():
    peers = _peers()
    env = dict(os.environ, **peers.THREADS)
    code = ("import torch, threadpoolctl; import numpy; "
            "print(torch.get_num_threads(), sorted({p['num_threads'] for p in threadpoolctl.threadpool_info()}))")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["1", "[1]"]


def test_a_failing_command_is_named_with_its_stderr():
    peers = _peers()
    assert peers._timed([sys.executable, "-c", "pass"]) > 0
    with pytest.raises(SystemExit) as exc:
        peers._timed([sys.executable, "-c", "import sys; sys.stderr.write('boom here'); sys.exit(3)"])
    msg = str(exc.value)
    assert msg.startswith("benchmark command failed (3):") and msg.rstrip().endswith("boom here")


def test_machine_record_names_threads_and_command():
    peers = _peers()
    meta = peers.machine(["--reps", "3"])
    assert meta["threads"] == {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    assert meta["command"] == "benchmarks/peers.py --reps 3" and meta["cores"] == os.cpu_count()
    assert meta["date"].endswith("UTC") and isinstance(meta["load_avg_1min_at_start"], float)
