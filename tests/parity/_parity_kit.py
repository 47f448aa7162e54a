"""Fixtures for tests/parity: one folder of 20 paired clips from shared/data/realset-dev and one
set of random-init checkpoints, written once per session and read by every peer and by sabench."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import peer_env  # noqa: E402
import peers_run  # noqa: E402


def _need(module: str) -> None:
    import importlib.util

    if module not in sys.modules and importlib.util.find_spec(module) is None:
        pytest.skip(f"peer package {module} not installed (bash scripts/setup.sh installs requirements/peers.txt)")


@pytest.fixture(scope="session")
def parity(tmp_path_factory, shared_dir):
    """(root, gen dir, ref dir, prompts.jsonl, weights root); SABENCH_CACHE shared by the CLI runs."""
    root = tmp_path_factory.mktemp("parity")
    os.environ["SABENCH_PARITY_TMP"] = str(root)
    weights = root / "w"
    peer_env.write_weights(weights)
    gen, ref, prompts = peers_run.build_sets(shared_dir / "data" / "realset-dev", root / "sets")
    return {"root": root, "gen": gen, "ref": ref, "prompts": prompts, "w": weights}


def sabench(parity, preset: str, metrics: list[str]) -> dict[str, float]:
    suite = peers_run.write_suite(parity["root"], parity["prompts"], preset, metrics)
    return peers_run.run_sabench(suite, parity["gen"], parity["w"] / "sabench", parity["root"] / f"out_{preset}",
                                 parity["root"] / "cache")


@pytest.fixture
def need():
    return _need
