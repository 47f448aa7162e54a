"""harness.fetch.http.download: resume, servers that ignore Range, complete partials, retries."""

from __future__ import annotations

import pytest

from harness.fetch import FetchError
from harness.fetch.http import HttpOptions, download

DATA = bytes(range(256)) * 1200          # 300 KB: several read chunks

FAST = HttpOptions(timeout=2.0, retries=2, backoff=0.0)


def test_existing_partial_is_resumed_with_range(server, tmp_path):
    url = server.add_plain("f.bin", DATA)
    part = tmp_path / "f.part"
    part.write_bytes(DATA[:1000])
    download(url, part, item="f.bin", options=FAST)
    assert part.read_bytes() == DATA
    assert server.gets("f.bin") == [("GET", "/plain/f.bin", "bytes=1000-")]


def test_server_ignoring_range_restarts_from_zero(server, tmp_path):
    url = server.add_plain("f.bin", DATA)
    server.faults["/plain/f.bin"] = "norange"
    part = tmp_path / "f.part"
    part.write_bytes(b"garbage!")
    download(url, part, item="f.bin", options=FAST)
    assert part.read_bytes() == DATA


def test_complete_partial_needs_no_body(server, tmp_path):
    url = server.add_plain("f.bin", DATA)
    part = tmp_path / "f.part"
    part.write_bytes(DATA)
    download(url, part, item="f.bin", options=FAST)
    assert part.read_bytes() == DATA


def test_server_errors_are_retried_then_reported(server, tmp_path):
    url = server.add_plain("f.bin", DATA)
    server.faults["/plain/f.bin"] = "status:503"
    slept: list[float] = []
    with pytest.raises(FetchError) as err:
        download(url, tmp_path / "f.part", item="f.bin", options=HttpOptions(2.0, 2, 0.5), sleep=slept.append)
    assert slept == [0.5, 1.0]                                             # exponential back-off
    assert len(server.gets("f.bin")) == 3
    assert "HTTP 503" in err.value.problem and "gave up after 3 attempt(s)" in err.value.problem


def test_forbidden_is_not_retried(server, tmp_path):
    url = server.add_plain("f.bin", DATA)
    server.faults["/plain/f.bin"] = "status:403"
    with pytest.raises(FetchError, match=r"access denied by 127\.0\.0\.1 \(HTTP 403\)"):
        download(url, tmp_path / "f.part", item="f.bin", options=FAST)
    assert len(server.gets("f.bin")) == 1
