"""Fixtures for the real-data suite tests: the shared data folder (skip when absent)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def data_root(shared_dir: Path) -> Path:
    root = shared_dir / "data"
    if not (root / "audiocaps" / "v1" / "test.csv").is_file():
        pytest.skip("shared/data/audiocaps/v1/test.csv not present")
    return root
