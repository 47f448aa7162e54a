"""`sabench data fetch` against the loopback server, serving the checked copies in ../shared/data."""

from __future__ import annotations

import hashlib

import pytest

from harness.cli import main
from harness.fetch.data import DATA_FILES, fetch_data, select_data
from harness.fetch.http import HttpOptions


@pytest.fixture
def raw(server, shared_dir):
    """Every data file served at <raw>/<repo>/<commit>/<path>, from the shared copies."""
    for f in DATA_FILES:
        server.add_plain(f"raw/{f.repo}/{f.commit}/{f.path}", (shared_dir / "data" / f.relpath).read_bytes())
    return server


def test_table_hashes_match_the_shared_copies(shared_dir):
    for f in DATA_FILES:
        data = (shared_dir / "data" / f.relpath).read_bytes()
        assert (hashlib.sha256(data).hexdigest(), len(data)) == (f.sha256, f.size), f.relpath
        assert len(f.commit) == 40


def test_fetch_ttabench_then_the_loader_reads_it(raw, tmp_path):
    from suites.ttabench.loader import load_prompts

    lines: list[str] = []
    assert fetch_data(["ttabench"], tmp_path / "d", bars=False, echo=lines.append) == 0
    assert lines[0].startswith("data fetch: 7 fetched")
    prompts = load_prompts(data_root=tmp_path / "d")
    assert len(prompts) == 1500 and prompts[0].id == "prompt_0001"
    assert all(p.startswith("/plain/raw/xiquan-li/Resonate/e3a51de03445fc1cc2582ae263775fe7a636467d/ttabench/prompts/")
               for _, p, _ in raw.gets())


def test_fetch_audiocaps_gives_the_957_list(raw, tmp_path):
    from suites.audiocaps.loader import load_prompts

    assert fetch_data(["audiocaps"], tmp_path / "d", bars=False, echo=lambda s: None) == 0
    prompts = load_prompts(captions="957-last", references="optional", on_missing="keep", data_root=tmp_path / "d")
    assert len(prompts) == 957


def test_wrong_bytes_are_never_installed_and_existing_files_kept(raw, tmp_path):
    f = select_data(["ttabench"])[0]
    raw.plain[f"raw/{f.repo}/{f.commit}/{f.path}"] = b"[]"
    lines: list[str] = []
    assert fetch_data(["ttabench"], tmp_path / "d", bars=False, echo=lines.append) == 1
    assert not (tmp_path / "d" / f.relpath).exists()
    assert any(f"failed {f.relpath}: downloaded bytes do not match the pinned sha256" in x for x in lines)
    mine = tmp_path / "d" / f.relpath
    mine.write_text("[]")
    lines.clear()
    assert fetch_data(["ttabench"], tmp_path / "d", bars=False, echo=lines.append) == 1
    assert mine.read_text() == "[]" and any("not overwritten" in x and "--force" in x for x in lines)


def test_dry_run_and_unknown_suite(raw, tmp_path, capsys):
    assert main(["data", "fetch", "--data", str(tmp_path / "d"), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert raw.log == [] and f"dry run: {len(DATA_FILES)} of {len(DATA_FILES)} file(s) to fetch" in out
    assert main(["data", "fetch", "nosuch", "--data", str(tmp_path / "d")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "data fetch nosuch: no text files to fetch" in err[0] and "fix:" in err[0]


def test_timeout_on_data(raw, tmp_path):
    f = select_data(["ttabench"])[0]
    raw.faults[f"/plain/raw/{f.repo}/{f.commit}/{f.path}"] = "slow"
    raw.slow_seconds = 1.5
    lines: list[str] = []
    rc = fetch_data(["ttabench"], tmp_path / "d", options=HttpOptions(timeout=0.3, retries=0, backoff=0.0),
                    bars=False, echo=lines.append)
    assert rc == 1 and any(f"failed {f.relpath}" in x and "timed out" in x for x in lines)
