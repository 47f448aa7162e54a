"""Blinding: nothing a rater can receive (pages, URLs, redirects, headers, scripts, JSON, audio
files) names a system, a run id or a file path."""

from __future__ import annotations

import http.client
import json
import re
from pathlib import Path
from urllib.parse import urlparse

from harness.listen.design import add_raters
from harness.listen.store import ListenStore
from harness.results import ResultsStore


class Crawler:
    """Fetches with http.client (no redirects followed) and keeps everything it saw."""

    def __init__(self, base: str):
        u = urlparse(base)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        self.seen: list[tuple[str, bytes]] = []

    def fetch(self, method: str, path: str, body: bytes | None = None, ctype: str = "application/json"):
        self.conn.request(method, path, body=body, headers={"Content-Type": ctype} if body is not None else {})
        resp = self.conn.getresponse()
        data = resp.read()
        headers = "\n".join(f"{k}: {v}" for k, v in resp.getheaders())
        self.seen.append((f"{method} {path}\n{headers}", data))
        return resp.status, resp.getheader("location"), data


def _wav_chunks(data: bytes) -> list[bytes]:
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    pos, out = 12, []
    while pos + 8 <= len(data):
        cid, size = data[pos:pos + 4], int.from_bytes(data[pos + 4:pos + 8], "little")
        out.append(cid)
        pos += 8 + size + (size & 1)
    return out


def test_nothing_served_names_a_system_run_or_path(kit_store, server):
    results = ResultsStore(kit_store / "results.sqlite", read_only=True)
    store = ListenStore(kit_store / "results.sqlite")
    forbidden = {"sine", "noise", str(kit_store), "results.sqlite", "ref_p0", "/tmp", "tiny"}
    for run in results.runs():
        forbidden |= {run.run_id, run.system.name, run.system.checkpoint_sha256[:12]}
        for path, _ in results.samples(run.run_id).values():
            forbidden |= {Path(path).stem, str(Path(path).parent)}
    forbidden |= {Path(c.path).parent.as_posix() for c in store.clips("s1")}
    forbidden = {f for f in forbidden if len(f) >= 4 and f != "none"}

    (token,) = add_raters(store, "s1", 1)
    c = Crawler(server)
    for path in ("/", f"/go?code={token}", f"/r/{token}", "/static/listen.js", "/static/listen.css"):
        assert c.fetch("GET", path)[0] in (200, 303)
    assert c.fetch("POST", f"/r/{token}/consent", b"agree=yes", "application/x-www-form-urlencoded")[:2] == \
        (303, f"/r/{token}/check")
    assert c.fetch("GET", f"/r/{token}/check")[0] == 200
    assert c.fetch("POST", f"/r/{token}/check", b"", "application/x-www-form-urlencoded")[:2] == \
        (303, f"/r/{token}/next")
    status, state_json = c.fetch("GET", f"/api/r/{token}")[::2]
    state = json.loads(state_json)
    clip_urls = {state["check_clip"]}
    for t in state["trials"]:
        status, _, page = c.fetch("GET", f"/r/{token}/t/{t['position']}")
        assert status == 200
        clip_urls |= set(re.findall(r"src='(/r/[^']+/c/[^']+)'", page.decode()))
        play = min(x["seconds"] for x in t["clips"] if x["required"])
        body = json.dumps({"assignment": t["assignment"], "value": t["ask"] or 3, "revision": 0,
                           "play_ms": int(play * 1000) + 5, "ended": True}).encode()
        assert c.fetch("POST", f"/api/r/{token}/rate", body)[0] == 200
    assert c.fetch("GET", f"/r/{token}/next")[1] == f"/r/{token}/done"
    assert c.fetch("GET", f"/r/{token}/done")[0] == 200
    assert len(clip_urls) >= 2 + 2 + 1                      # both systems' clips, references, the check clip
    for url in clip_urls:
        status, _, data = c.fetch("GET", url)
        assert status == 200 and _wav_chunks(data) == [b"fmt ", b"data"]   # no LIST/INFO/bext metadata

    assert len(c.seen) > 25
    for where, data in c.seen:
        text = (where + "\n").lower().encode() + data.lower()
        hits = [f for f in forbidden if f and f.lower().encode() in text]
        assert not hits, f"{where.splitlines()[0]} reveals {hits}"
        assert b"content-disposition" not in where.lower().encode()
