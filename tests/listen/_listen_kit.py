"""Fixtures for the listening-test tests: a tiny results store made with the test kit (sine and
noise systems on a 6-prompt suite with references), a study on it, and the real server on a
loopback port."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "harness"))  # the test kit (_kit)

from harness import cli  # noqa: E402

import _kit  # noqa: E402


def make_store(root: Path, n: int = 6, task: str = "generate",
               systems=("sine:amplitude=0.25", "noise")) -> tuple[Path, str]:
    """(run folder, suite.yaml) with one finished run per system."""
    _kit.register()
    suite = str(_kit.write_suite(root / "suite", n=n, metrics=("test_rms",), task=task))
    out = root / "out"
    args = ["run", "--suite", suite, "--out", str(out), "--quiet", "--no-report"]
    for s in systems:
        args += ["--system", s]
    assert cli.main(args) == 0
    return out, suite


def make_study(out: Path, suite: str, *extra: str) -> None:
    assert cli.main(["listen", "--out", str(out), "--suite", suite, "--quiet", *extra]) == 0


@pytest.fixture(scope="module")
def kit_store(tmp_path_factory):
    """A run folder with runs of sine and noise and a MOS study "s1": 4 items per system,
    2 hidden references, 2 anchors, 2 attention checks, 3 rater links."""
    root = tmp_path_factory.mktemp("listen")
    old = os.environ.get("SABENCH_CACHE")
    os.environ["SABENCH_CACHE"] = str(root / "cache")
    try:
        out, suite = make_store(root)
        make_study(out, suite, "--study", "s1", "--items", "4", "--raters", "3", "--references", "2",
                   "--anchors", "2", "--attention", "2")
    finally:
        if old is None:
            os.environ.pop("SABENCH_CACHE", None)
        else:
            os.environ["SABENCH_CACHE"] = old
    return out


@pytest.fixture(scope="module")
def server(kit_store):
    from harness.listen.simulate import BackgroundServer

    with BackgroundServer(kit_store / "results.sqlite") as url:
        yield url
