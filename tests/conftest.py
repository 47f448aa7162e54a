"""Shared fixtures: the `shared/` data folder (skipped when absent) and a private cache dir."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """`$SABENCH_SHARED` or `../shared` beside the repository; the test is skipped if absent."""
    from harness.paths import shared_root

    root = shared_root()
    if root is None:
        pytest.skip("shared/ data folder not present (set SABENCH_SHARED to run this test)")
    return root


@pytest.fixture
def tmp_cache(tmp_path, monkeypatch) -> Path:
    """`SABENCH_CACHE` pointed at a fresh temporary folder for this test."""
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv("SABENCH_CACHE", str(cache))
    return cache


@pytest.fixture(autouse=True)
def _restore_torch_grad_mode():
    """Some peers' code (fadtk, kadtk) switch autograd off globally: no test may leak that."""
    torch = sys.modules.get("torch")
    before = torch.is_grad_enabled() if torch is not None else True
    yield
    torch = sys.modules.get("torch")
    if torch is not None and torch.is_grad_enabled() != before:
        torch.set_grad_enabled(before)
