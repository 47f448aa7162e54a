"""Shared fixtures: the `shared/` data folder (skipped when absent) and a private cache dir."""

from __future__ import annotations

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
