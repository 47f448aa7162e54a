"""`sabench weights fetch` against a loopback fake hub + plain-URL server (tests/fetch/_server.py)."""

from __future__ import annotations

import hashlib
import json
import socket

import pytest

from harness.cli import main
from harness.fetch.command import FetchOptions, fetch_weights
from harness.fetch.lock import LOCK_NAME, lock_sha256, read_lock

from _published import published
from _server import serve_weights as serve

HUB_FILES = ["laion_clap/630k-audioset-best.pt",
             *[f"laion_clap/tokenizers/roberta-base/{f}" for f in ("vocab.json", "merges.txt", "config.json")],
             "laion_clap/tokenizers/bert-base-uncased/vocab.txt",
             *[f"laion_clap/tokenizers/facebook-bart-base/{f}" for f in ("vocab.json", "merges.txt")]]
URL_FILE = "panns/Cnn14_16k_mAP=0.438.pth"
LAION = "laion_clap:630k-audioset-best"


def _fetch(root, names, lines=None, **kw):
    opts = FetchOptions(root, force=kw.pop("force", False), timeout=kw.pop("timeout", 5.0),
                        retries=kw.pop("retries", 2), backoff=0.0)
    out = [] if lines is None else lines
    return fetch_weights(names, all_files=False, job=kw.pop("job", None), opts=opts, dry=kw.pop("dry", False),
                         bars=False, echo=out.append, **kw)


@pytest.fixture
def published_set(server, monkeypatch):
    files = {rel: published(rel) for rel in [*HUB_FILES, URL_FILE]}
    serve(server, monkeypatch, files)
    return files


def test_fresh_fetch_hub_and_url_writes_files_and_lock(server, published_set, tmp_path):
    root = tmp_path / "w"
    lines: list[str] = []
    assert _fetch(root, ["laion_clap:630k-audioset-best", URL_FILE], lines) == 0
    lock = read_lock(root)
    for rel, data in published_set.items():
        assert (root / rel).read_bytes() == data
        assert lock[rel].sha256 == hashlib.sha256(data).hexdigest() and lock[rel].size == len(data)
    cfg = lock["laion_clap/tokenizers/roberta-base/config.json"]
    assert (cfg.source, cfg.repo, cfg.file) == ("hub", "FacebookAI/roberta-base", "config.json")
    assert cfg.revision == server.commits["FacebookAI/roberta-base"]       # the commit served, recorded
    assert lock[URL_FILE].source == "url" and lock[URL_FILE].url.startswith(server.url)
    assert any(line.startswith("weights fetch: 8 fetched") and "0 failed" in line for line in lines)
    assert not list(root.rglob("*.part")) and not (root / "laion_clap" / ".cache").exists()
    # the other laion files of the table were not requested by this name
    assert not (root / "laion_clap/630k-audioset-fusion-best.pt").exists()


def test_second_fetch_is_a_no_op(server, published_set, tmp_path):
    root = tmp_path / "w"
    assert _fetch(root, [LAION, URL_FILE]) == 0
    before = (root / LOCK_NAME).read_bytes()
    n = len(server.log)
    lines: list[str] = []
    assert _fetch(root, [LAION, URL_FILE], lines) == 0
    assert server.log[n:] == []                                            # no request at all
    assert (root / LOCK_NAME).read_bytes() == before
    assert any("0 fetched" in line and "8 already present" in line for line in lines)


def test_truncated_file_is_fetched_again(server, published_set, tmp_path, capsys):
    root = tmp_path / "w"
    assert _fetch(root, [URL_FILE]) == 0
    path = root / URL_FILE
    path.write_bytes(path.read_bytes()[:100])
    lines: list[str] = []
    assert _fetch(root, [URL_FILE], lines) == 0
    assert path.read_bytes() == published_set[URL_FILE]
    err = capsys.readouterr().err.splitlines()
    assert any(f"fetched {URL_FILE}" in x and "corrupt (100 bytes, weights.lock says" in x for x in err)


def test_changed_byte_is_refused_without_force(server, published_set, tmp_path):
    root = tmp_path / "w"
    rel = "laion_clap/tokenizers/roberta-base/vocab.json"
    assert _fetch(root, [LAION]) == 0
    path = root / rel
    data = bytearray(path.read_bytes())
    data[3] ^= 0x01                                                        # still valid JSON, same size
    path.write_bytes(bytes(data))
    lines: list[str] = []
    assert _fetch(root, [LAION], lines) == 1
    assert path.read_bytes() == bytes(data)                                # not overwritten
    failed = [line for line in lines if line.startswith(f"  failed {rel}")]
    assert len(failed) == 1 and "differs from weights.lock" in failed[0] and "--force" in failed[0]
    assert _fetch(root, [LAION], force=True) == 0
    assert path.read_bytes() == published_set[rel]


def test_resume_after_the_server_drops_the_connection(server, published_set, tmp_path):
    server.faults[f"/plain/{URL_FILE}"] = "drop"
    root = tmp_path / "w"
    assert _fetch(root, [URL_FILE]) == 0
    gets = server.gets(URL_FILE)
    assert len(gets) == 2 and gets[0][2] is None
    size = len(published_set[URL_FILE])
    start = int(gets[1][2].removeprefix("bytes=").rstrip("-"))           # resumed, not restarted
    assert 0 < start <= size // 2 and start % (1 << 16) == 0
    assert (root / URL_FILE).read_bytes() == published_set[URL_FILE]


def test_hub_lfs_sha256_mismatch_is_not_installed(server, published_set, tmp_path, monkeypatch):
    rel = "laion_clap/630k-audioset-best.pt"
    real_sha = hashlib.sha256(published_set[rel]).hexdigest()
    import harness.fetch.command as command

    monkeypatch.setattr(command, "sha256_file", lambda p: "0" * 64 if str(p).endswith(".pt") else real_sha)
    lines: list[str] = []
    assert _fetch(tmp_path / "w", ["laion_clap:630k-audioset-best"], lines) == 1
    assert not (tmp_path / "w" / rel).exists()
    assert any("do not match the hub's LFS sha256" in line for line in lines)


@pytest.mark.parametrize("code", [401, 403])
def test_gated_repo_is_one_line_naming_licence_page_and_token(server, published_set, tmp_path, capsys, code):
    server.gated["lukewys/laion_clap"] = code
    rc = main(["weights", "fetch", "laion_clap:630k-audioset-best", "--weights", str(tmp_path / "w"),
               "--quiet", "--retries", "0"])
    out = capsys.readouterr().out
    assert rc == 1
    failed = [line for line in out.splitlines() if "failed laion_clap/630k-audioset-best.pt" in line]
    assert len(failed) == 1
    assert "lukewys/laion_clap is gated" in failed[0] and f"HTTP {code}" in failed[0]
    assert "https://huggingface.co/lukewys/laion_clap" in failed[0] and "HF_TOKEN" in failed[0]
    assert "Traceback" not in out


def test_not_found_hub_file_and_url_are_one_line(server, published_set, tmp_path, monkeypatch):
    del server.hub[("FacebookAI/roberta-base", "merges.txt")]
    server.faults[f"/plain/{URL_FILE}"] = "status:404"
    lines: list[str] = []
    assert _fetch(tmp_path / "w", [LAION, URL_FILE], lines) == 1
    hub = [x for x in lines if "failed laion_clap/tokenizers/roberta-base/merges.txt" in x]
    url = [x for x in lines if f"failed {URL_FILE}" in x]
    assert len(hub) == 1 and "merges.txt not found in FacebookAI/roberta-base @ main (HTTP 404)" in hub[0]
    assert len(url) == 1 and "(HTTP 404)" in url[0] and "fix:" in url[0]
    assert (tmp_path / "w" / "laion_clap/tokenizers/roberta-base/vocab.json").is_file()  # the others went on


def test_slow_server_times_out_with_a_message(server, published_set, tmp_path):
    server.faults[f"/plain/{URL_FILE}"] = "slow"
    server.slow_seconds = 2.0
    lines: list[str] = []
    assert _fetch(tmp_path / "w", [URL_FILE], lines, timeout=0.3, retries=1) == 1
    failed = [x for x in lines if f"failed {URL_FILE}" in x]
    assert len(failed) == 1 and "timed out" in failed[0] and "--timeout" in failed[0]
    assert "gave up after 2 attempt(s)" in failed[0]


def test_dry_run_makes_no_request(server, published_set, tmp_path, monkeypatch):
    def no_network(self, address):
        raise AssertionError(f"dry run opened a connection to {address!r}")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    lines: list[str] = []
    assert _fetch(tmp_path / "w", [LAION, URL_FILE], lines, dry=True) == 0
    assert server.log == []
    assert not (tmp_path / "w").exists()
    assert any(x.startswith(f"would fetch {URL_FILE}") and server.url in x for x in lines)
    assert any("hub lukewys/laion_clap: 630k-audioset-best.pt @ main" in x for x in lines)
    assert lines[-1].startswith("dry run: 8 file(s) to fetch, total ≈")


def test_lock_hash_goes_into_the_run_environment(server, published_set, tmp_path, monkeypatch):
    from harness.runner import environment

    root = tmp_path / "w"
    assert _fetch(root, [URL_FILE]) == 0
    monkeypatch.setenv("SABENCH_WEIGHTS", str(root))
    env = dict(environment())
    assert env["weights_lock"] == hashlib.sha256((root / LOCK_NAME).read_bytes()).hexdigest() == lock_sha256(root)
    monkeypatch.setenv("SABENCH_WEIGHTS", str(tmp_path / "empty"))
    assert dict(environment())["weights_lock"] == "none"


def test_lock_file_is_sorted_json(server, published_set, tmp_path):
    root = tmp_path / "w"
    assert _fetch(root, [URL_FILE, LAION]) == 0
    data = json.loads((root / LOCK_NAME).read_text())
    assert data["format"] == "sabench-weights-lock/1" and list(data["files"]) == sorted(data["files"])


def test_guard_refuses_non_loopback_addresses():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(ConnectionRefusedError, match="test guard"):
            s.connect(("93.184.216.34", 80))
    finally:
        s.close()


def test_refetch_of_a_locked_hub_file_asks_for_the_locked_commit(server, published_set, tmp_path):
    root = tmp_path / "w"
    rel = "laion_clap/tokenizers/roberta-base/config.json"
    assert _fetch(root, [LAION]) == 0
    commit = read_lock(root)[rel].revision
    (root / rel).unlink()
    n = len(server.log)
    assert _fetch(root, [LAION]) == 0
    assert [p for m, p, _ in server.log[n:] if m == "GET"] == [f"/FacebookAI/roberta-base/resolve/{commit}/config.json"]
    server.commits["FacebookAI/roberta-base"] = "f" * 40                 # the repo moved on: locked commit gone
    (root / rel).unlink()
    lines: list[str] = []
    assert _fetch(root, [LAION], lines) == 1
    assert any(f"revision {commit} not found in FacebookAI/roberta-base" in x for x in lines)


def test_slow_hub_times_out_with_a_message(server, published_set, tmp_path, monkeypatch):
    import huggingface_hub.file_download as fd
    import huggingface_hub.utils._http as hf_http

    monkeypatch.setattr(fd, "_ETAG_RETRY_TIMEOUT", 0.3)     # the library's own second try, kept short
    monkeypatch.setattr(fd.time, "sleep", lambda s: None)
    monkeypatch.setattr(hf_http.time, "sleep", lambda s: None)
    rel = "laion_clap/tokenizers/roberta-base/config.json"
    server.faults["/FacebookAI/roberta-base/resolve/main/config.json"] = "slow"
    server.slow_seconds = 1.0
    lines: list[str] = []
    assert _fetch(tmp_path / "w", [LAION], lines, timeout=0.3) == 1
    failed = [x for x in lines if f"failed {rel}" in x]
    assert len(failed) == 1 and "timed out" in failed[0] and "--timeout" in failed[0], (lines, server.log)


def test_terminal_shows_bars_with_rate(server, published_set, tmp_path, capsys):
    opts = FetchOptions(tmp_path / "w", timeout=5.0, retries=0)
    assert fetch_weights([URL_FILE], all_files=False, job=None, opts=opts, bars=True, echo=lambda s: None) == 0
    err = capsys.readouterr().err
    assert "overall 1/1" in err and "B/s" in err and f"fetched {URL_FILE}" in err


def test_cli_needs_a_weights_folder_and_names(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("SABENCH_WEIGHTS", raising=False)
    assert main(["weights", "fetch", "vggish"]) == 2
    assert main(["weights", "fetch", "--weights", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0] == ("sabench: error: sabench weights fetch: no weights directory given "
                      "(fix: pass --weights DIR (or set SABENCH_WEIGHTS))")
    assert "nothing to fetch" in err[1] and "--for-job" in err[1] and len(err) == 2


def test_a_second_concurrent_fetch_is_refused(server, published_set, tmp_path):
    from harness.errors import SabenchError
    from harness.fetch.command import exclusive

    root = tmp_path / "w"
    root.mkdir()
    with exclusive(root):
        with pytest.raises(SabenchError, match="another `sabench weights fetch` is filling this directory"):
            _fetch(root, [URL_FILE])
    assert _fetch(root, [URL_FILE]) == 0


def test_force_keeps_verified_files_and_replaces_unlocked_ones(server, published_set, tmp_path):
    root = tmp_path / "w"
    mine = root / URL_FILE
    mine.parent.mkdir(parents=True)
    mine.write_bytes(b"my own copy")
    lines: list[str] = []
    assert _fetch(root, [URL_FILE], lines) == 0                            # kept: the user's file
    assert mine.read_bytes() == b"my own copy" and URL_FILE not in read_lock(root)
    assert any("1 already present" in x for x in lines)
    assert _fetch(root, [URL_FILE], force=True) == 0
    assert mine.read_bytes() == published_set[URL_FILE] and URL_FILE in read_lock(root)
    n = len(server.log)
    assert _fetch(root, [URL_FILE], force=True) == 0                       # verified: no request
    assert server.log[n:] == []
