"""Exit codes through the real CLI (subprocess), on the mini world with --limit 3:
0 = everything scored; 1 = ran to the end but items/metrics/pairs failed (--keep-going) or
nothing was scored; 2 = stopped with one line: usage error or an input it cannot use."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def sabench(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SABENCH_CACHE": str(tmp_path / "cache")}

    def call(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True,
                              timeout=300, env=env, cwd=tmp_path)
    return call


def _job(tmp_path: Path, systems: str) -> str:
    path = tmp_path / "job.yaml"
    path.write_text(f"skip_incapable: true\nruns:\n  - {{suites: [mini-tta], systems: [{systems}]}}\n")
    return str(path)


def test_score_zero_when_complete_one_when_an_item_fails(tmp_path, sabench):
    out, folder = str(tmp_path / "out"), tmp_path / "files"
    gen = sabench("generate", "--suite", "mini-tta", "--system", "sine", "--limit", "3", "--out", out,
                  "--to", str(folder), "--quiet")
    assert gen.returncode == 0, gen.stderr
    ok = sabench("score", "--suite", "mini-tta", "--path", str(folder), "--limit", "3", "--out", out, "--quiet")
    assert ok.returncode == 0, ok.stderr
    assert "mini_clap" in ok.stdout and ok.stderr == ""
    victim = sorted(folder.glob("*.wav"))[1]
    victim.unlink()
    (folder / "manifest.csv").unlink()      # a plain folder of <id>.wav with one id missing
    stopped = sabench("score", "--suite", "mini-tta", "--path", str(folder), "--limit", "3", "--out", out,
                      "--quiet", "--label", "broken")
    assert stopped.returncode == 2 and victim.stem in stopped.stderr and "Traceback" not in stopped.stderr
    kept = sabench("score", "--suite", "mini-tta", "--path", str(folder), "--limit", "3", "--out", out,
                   "--quiet", "--label", "broken", "--keep-going")
    assert kept.returncode == 1, kept.stderr
    assert "mini_clap" in kept.stdout and victim.stem in kept.stdout           # scored the rest, named the hole
    assert "failure(s) in mini-tta x broken" in kept.stderr


def test_generate_honours_skip_incapable_like_run(tmp_path, sabench):
    """source-echo can only edit: a job with skip_incapable skips it for mini-tta in both."""
    job = _job(tmp_path, "sine, source-echo")
    gen = sabench("generate", "--job", job, "--limit", "3", "--out", str(tmp_path / "out"))
    assert gen.returncode == 0, gen.stderr
    assert "skip mini-tta x source-echo: cannot generate" in gen.stderr and "mini-tta x sine: 3 samples" in gen.stdout
    run = sabench("run", "--job", job, "--limit", "3", "--out", str(tmp_path / "out"), "--no-report", "--quiet")
    assert run.returncode == 0, run.stderr
    assert "x sine" in run.stdout and "source-echo" not in run.stdout


def test_nothing_to_do_is_one(tmp_path, sabench):
    job = _job(tmp_path, "source-echo")
    for command in ("run", "generate"):
        res = sabench(command, "--job", job, "--limit", "3", "--out", str(tmp_path / "out"), "--quiet")
        assert res.returncode == 1, (command, res.stderr)
        assert "nothing was" in res.stderr


def test_generate_item_failure_is_one(tmp_path, sabench):
    import numpy as np

    from harness import audio
    from harness.records import Audio

    folder = tmp_path / "files"
    folder.mkdir()
    audio.write(folder / "unrelated.wav", Audio(np.zeros((1, 800), np.float32), 16000))  # no prompt's id
    res = sabench("generate", "--suite", "mini-tta", "--system", f"precomputed:path={folder}", "--limit", "2",
                  "--out", str(tmp_path / "out"), "--quiet", "--keep-going")
    assert res.returncode == 1 and "2 failure(s)" in res.stdout and "no file for item id" in res.stdout


@pytest.mark.parametrize("argv, says", [
    (["run", "--suite", "mini-tta", "--system", "sine", "--bogus"], "unrecognized arguments: --bogus"),
    (["run", "--suite", "mini-tta"], "needs both --suite and --system"),
    (["score", "--suite", "mini-tta", "--path", "nowhere/"], "nowhere"),
    (["run", "--suite", "mini-tt", "--system", "sine"], "did you mean mini-tta"),
    (["run", "--suite", "mini-tta", "--system", "sine", "--limit", "0"], "must be at least 1"),
    (["generate", "--suite", "mini-tta", "--system", "sine", "--shard", "3/2"], "1 <= K <= N"),
    (["generate", "--suite", "mini-tta", "--system", "sine:volume=2"], "unknown parameter 'volume'"),
    (["run", "--suite", "mini-tta", "--system", "sine", "--suite-arg", "dimension=x"], "use one of: duration, n, "),
    (["run", "--job", "mini", "--captions", "975-first"], "suite options apply to --suite only"),
    (["report", "--out", "no-such-run"], "no results store here"),
])
def test_usage_errors_are_two(tmp_path, sabench, argv, says):
    res = sabench(*argv)
    assert res.returncode == 2, res.stdout + res.stderr
    assert says in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) <= 2          # argparse adds its usage line
