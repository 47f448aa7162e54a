"""Fixtures for the fetch tests: a loopback fake hub + plain-URL server, sources pointed at it,
small files in the published formats, and a guard refusing every non-loopback connection."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from _server import FakeHub, guard_loopback, hub_env  # noqa: E402


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """Any connection outside 127.0.0.0/8 (or ::1) raises: no test can reach the internet."""
    guard_loopback(monkeypatch)


@pytest.fixture
def server(monkeypatch, tmp_path):
    """A started `FakeHub`; HF_ENDPOINT and SABENCH_GITHUB_RAW point at it, no token, private HF_HOME."""
    srv = FakeHub().start()
    hub_env(srv, monkeypatch, tmp_path / "hf-home")
    yield srv
    srv.stop()
