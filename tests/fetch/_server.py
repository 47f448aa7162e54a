"""A loopback HTTP server for the fetch tests: a Hugging Face hub-compatible endpoint and plain URLs.

Hub routes (`/<owner>/<name>/resolve/<revision>/<file>`, HEAD and GET) answer with the headers
`huggingface_hub.file_download` reads: `ETag` (git blob sha1, or the sha256 for LFS files),
`X-Repo-Commit`, `Content-Length`, and `X-Linked-Etag` / `X-Linked-Size` for LFS files (weights
suffixes); errors carry `X-Error-Code` (`GatedRepo`, `RepoNotFound`, `EntryNotFound`) as the
hub does. Plain routes (`/plain/<path>`) serve bytes with `Range` support. Per-path faults:
`drop` (first GET sends half the body, then closes), `slow` (waits before answering),
`status:<code>` (a fixed HTTP status), `norange` (ignores Range). Every request is logged as
(method, path, Range header).
"""

from __future__ import annotations

import hashlib
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

LFS_SUFFIXES = (".pt", ".pth", ".bin", ".safetensors", ".model")


class FakeHub(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.hub: dict[tuple[str, str], bytes] = {}
        self.commits: dict[str, str] = {}
        self.gated: dict[str, int] = {}
        self.plain: dict[str, bytes] = {}
        self.faults: dict[str, str] = {}
        self.missing_revisions: set[str] = set()
        """Branch names answered with RevisionNotFound (any other branch name serves the files)."""
        self.slow_seconds = 3.0
        self.log: list[tuple[str, str, str | None]] = []
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def add_hub(self, repo: str, file: str, data: bytes) -> None:
        self.hub[(repo, file)] = data
        self.commits.setdefault(repo, hashlib.sha1(repo.encode()).hexdigest())

    def add_plain(self, path: str, data: bytes) -> str:
        self.plain[path] = data
        return f"{self.url}/plain/{path}"

    def gets(self, needle: str = "") -> list[tuple[str, str, str | None]]:
        return [e for e in self.log if e[0] == "GET" and needle in e[1]]

    def start(self) -> FakeHub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


def _git_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class _Handler(BaseHTTPRequestHandler):
    server: FakeHub
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    # ------------------------------------------------------------------ routing
    def _serve(self, head: bool) -> None:
        path = unquote(urlsplit(self.path).path)
        self.server.log.append((self.command, path, self.headers.get("Range")))
        fault = self.server.faults.get(path)
        if fault == "slow":  # (an Event wait: tests may stub time.sleep for the client's retries)
            threading.Event().wait(self.server.slow_seconds)
        if fault and fault.startswith("status:"):
            return self._error(int(fault.split(":")[1]), {})
        if path.startswith("/plain/"):
            data = self.server.plain.get(path[len("/plain/"):])
            if data is None:
                return self._error(404, {})
            return self._body(data, {}, head, path)
        parts = path.strip("/").split("/")
        if len(parts) >= 5 and parts[2] == "resolve":
            return self._hub("/".join(parts[:2]), parts[3], "/".join(parts[4:]), head, path)
        return self._error(404, {})

    def _hub(self, repo: str, revision: str, file: str, head: bool, path: str) -> None:
        commit = self.server.commits.get(repo)
        if repo in self.server.gated:
            return self._error(self.server.gated[repo], {"X-Error-Code": "GatedRepo",
                                                         "X-Error-Message": "Access to model is restricted."})
        if commit is None:
            return self._error(401, {"X-Error-Code": "RepoNotFound", "X-Error-Message": "Repository not found"})
        if revision != commit and (len(revision) == 40 or revision in self.server.missing_revisions):
            return self._error(404, {"X-Error-Code": "RevisionNotFound", "X-Error-Message": "Invalid rev id"})
        data = self.server.hub.get((repo, file))
        if data is None:
            return self._error(404, {"X-Error-Code": "EntryNotFound", "X-Error-Message": "Entry not found",
                                     "X-Repo-Commit": commit})
        headers = {"X-Repo-Commit": commit, "ETag": f'"{_git_sha1(data)}"'}
        if file.endswith(LFS_SUFFIXES):
            sha = hashlib.sha256(data).hexdigest()
            headers.update({"ETag": f'"{sha}"', "X-Linked-Etag": f'"{sha}"', "X-Linked-Size": str(len(data))})
        self._body(data, headers, head, path)

    # ------------------------------------------------------------------ responses
    def _error(self, code: int, headers: dict[str, str]) -> None:
        body = b'{"error": "fake hub error"}'
        self.send_response(code)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _body(self, data: bytes, headers: dict[str, str], head: bool, path: str) -> None:
        start, code = 0, 200
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes=") and not head and self.server.faults.get(path) != "norange":
            start = int(rng[len("bytes="):].split("-")[0] or 0)
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            code = 206
        self.send_response(code)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(len(data) - start))
        if code == 206:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        if head:
            return
        body = data[start:]
        if self.server.faults.get(path) == "drop" and not head:
            self.server.faults.pop(path)                       # once: the retry gets the rest
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.wfile.write(body)


def _loopback(family: int, address) -> bool:
    if family == getattr(socket, "AF_UNIX", None):
        return True
    host = address[0] if isinstance(address, tuple) else address
    return isinstance(host, str) and (host.startswith("127.") or host in ("::1", "localhost"))


def guard_loopback(monkeypatch) -> None:
    """Make every connection outside 127.0.0.0/8 (or ::1) raise: no test can reach the internet."""
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def connect(self, address):
        if not _loopback(self.family, address):
            raise ConnectionRefusedError(f"test guard: non-loopback connection to {address!r} refused")
        return real_connect(self, address)

    def connect_ex(self, address):
        if not _loopback(self.family, address):
            raise ConnectionRefusedError(f"test guard: non-loopback connection to {address!r} refused")
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)


def serve_weights(srv: FakeHub, monkeypatch, files: dict) -> None:
    """Publish `files` (weights relpath -> bytes) where the sources table says they live: hub
    files on the fake hub, URL files as plain URLs (the table entry re-pointed at the server)."""
    from harness.fetch import sources

    for rel, data in files.items():
        src = sources.SOURCES[rel]
        if src.repo:
            srv.add_hub(src.repo, src.file, data)
        else:
            url = srv.add_plain(rel, data)
            monkeypatch.setitem(sources.SOURCES, rel, sources.Source(url=url, immutable=src.immutable))


def hub_env(srv: FakeHub, monkeypatch, home) -> None:
    """HF_ENDPOINT and SABENCH_GITHUB_RAW at the server, no token, a private HF_HOME."""
    monkeypatch.setenv("HF_ENDPOINT", srv.url)
    monkeypatch.setenv("SABENCH_GITHUB_RAW", f"{srv.url}/plain/raw")
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.delenv("SABENCH_WEIGHTS", raising=False)
