"""Ordinary faults around the results store and the run folder are one line, never a
traceback, through the real CLI: corrupt / truncated / foreign / folder `results.sqlite`,
`--out` that is a file, read-only folders and mounts (reports and gates read them), disk
full (one line, and everything computed before is kept and resumed).

Permission cases drop every capability (`_gate_kit.UNPRIVILEGED`; the tests run as root,
which ignores permission bits); mount cases (tmpfs, read-only bind) are skipped when
`mount` is not allowed here.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from harness.errors import SabenchError, describe_os_error
from harness.results import ResultsStore

from _gate_kit import UNPRIVILEGED, check_one_line_error, make_run, sabench, write_run_json

RUN = ["run", "--suite", "mini-generation", "--system", "sine", "--limit", "10", "--quiet", "--no-report"]


def _good_store(folder: Path, *runs) -> Path:
    store = ResultsStore(folder / "results.sqlite")
    for r in runs or (make_run(),):
        store.save_run(r)
    store.close()
    return folder / "results.sqlite"


def _junk(folder: Path) -> None:
    (folder / "results.sqlite").write_bytes(os.urandom(4096))


def _truncated(folder: Path) -> None:
    path = _good_store(folder)
    os.truncate(path, path.stat().st_size // 2)


def _empty(folder: Path) -> None:
    (folder / "results.sqlite").write_bytes(b"")


def _foreign(folder: Path) -> None:
    conn = sqlite3.connect(folder / "results.sqlite")
    conn.execute("CREATE TABLE photos (id INTEGER, path TEXT)")
    conn.commit()
    conn.close()


def _folder(folder: Path) -> None:
    (folder / "results.sqlite").mkdir()


# (id, how the run folder is spoiled, command, exit code, fragment)
CASES = [
    ("random bytes, report", _junk, ["report"], 2, "is corrupt, truncated or not a sabench results store"),
    ("random bytes, run", _junk, RUN, 2, "file is not a database"),
    ("random bytes, gate", _junk, ["gate", "--baseline", "b.json", "--results", "o/results.sqlite"], 2, "is corrupt"),
    ("truncated, report", _truncated, ["report"], 2, "is corrupt, truncated"),
    ("truncated, gate", _truncated, ["gate", "--baseline", "b.json", "--results", "o/results.sqlite"], 2, "is corrupt"),
    ("empty file, report", _empty, ["report"], 2, "not a sabench results store"),
    ("foreign sqlite, report", _foreign, ["report"], 2, "not a sabench results store"),
    ("foreign sqlite, run", _foreign, RUN, 2, "sabench will not write into this file"),
    ("folder, run", _folder, RUN, 2, "is a folder, not a results store file"),
    ("folder, gate", _folder, ["gate", "--baseline", "b.json", "--results", "o/results.sqlite"], 2, "is a folder"),
]


@pytest.mark.parametrize("name,spoil,argv,code,fragment", CASES, ids=[c[0] for c in CASES])
def test_bad_store_files(tmp_path: Path, tmp_cache, name, spoil, argv, code, fragment):
    write_baseline(tmp_path)
    (tmp_path / "o").mkdir()
    spoil(tmp_path / "o")
    extra = ["--out", "o"] if argv[0] != "gate" else []
    check_one_line_error(sabench([*argv, *extra], tmp_path), code, fragment)


def write_baseline(folder: Path) -> Path:
    from reports.gate import write_baseline as wb

    return wb(make_run(), folder / "b.json")


def test_out_is_a_file(tmp_path: Path, tmp_cache):
    (tmp_path / "o").write_text("not a folder")
    check_one_line_error(sabench([*RUN, "--out", "o"], tmp_path), 2, "o: exists and is a file, not a folder")
    check_one_line_error(sabench(["report", "--out", "o"], tmp_path), 2, "no results store here")
    assert (tmp_path / "o").read_text() == "not a folder"


def test_disk_full_in_the_store_keeps_what_was_written(tmp_path: Path):
    """SQLITE_FULL (simulated with max_page_count) is one line; the store stays readable and
    holds every run saved before; the failed write left nothing half-done."""
    run = replace(make_run(), created="2026-01-01T00:00:00Z")
    store = ResultsStore(tmp_path / "results.sqlite")
    store.save_run(run)
    pages = store._db().execute("PRAGMA page_count").fetchone()[0]
    store._db().execute(f"PRAGMA max_page_count = {pages + 1}")
    with pytest.raises(SabenchError, match="disk full while writing the results store"):
        store.put_item_scores("run-a", "clap_laion", {f"item-{i:05d}": 0.5 for i in range(20000)})
    assert store.item_scores("run-a", "clap_laion") == {}          # rolled back, not partial
    assert store.load_run("run-a") == run
    store.close()
    assert ResultsStore(tmp_path / "results.sqlite", read_only=True).load_run("run-a") == run


def test_os_errors_are_described_in_one_line(tmp_path: Path):
    with pytest.raises(OSError) as info:
        with open("/dev/full", "w") as f:
            f.write("x" * 10)
            f.flush()
    err = describe_os_error(info.value, tmp_path)
    assert "disk full" in err.one_line() and "completed work is kept" in err.fix
    (tmp_path / "f").write_text("")
    with pytest.raises(OSError) as info:
        (tmp_path / "f" / "sub").mkdir(parents=True)
    assert describe_os_error(info.value).one_line().startswith(str(tmp_path / "f" / "sub"))


@contextlib.contextmanager
def _mounted(args: list[str], target: Path):
    target.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["mount", *args, str(target)], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"mount not allowed here ({proc.stderr.strip()[:80]})")
    try:
        yield target
    finally:
        subprocess.run(["umount", str(target)], capture_output=True)


@pytest.mark.slow
def test_disk_full_run_is_one_line_and_resumes(tmp_path: Path, tmp_cache):
    """A run on a 300 KB tmpfs: one line naming --out; copied to a roomy disk it resumes."""
    with _mounted(["-t", "tmpfs", "-o", "size=300k", "tmpfs"], tmp_path / "small") as small:
        proc = sabench([*RUN, "--out", str(small / "o")], tmp_path)
        check_one_line_error(proc, 2, "no space left on the device (disk full)")
        assert str(small / "o") in proc.stderr
        shutil.copytree(small / "o", tmp_path / "big")
    proc = sabench([*RUN, "--out", str(tmp_path / "big")], tmp_path)
    check_one_line_error(proc, 0, "mini_fd")


def test_read_only_bind_mount_is_read_by_gate_and_report(tmp_path: Path):
    src = tmp_path / "src"
    src.mkdir()
    _good_store(src)
    b = write_baseline(tmp_path)
    with _mounted(["--bind", "-o", "ro", str(src)], tmp_path / "ro") as ro:
        if os.access(ro, os.W_OK) and (subprocess.run(["touch", str(ro / "x")]).returncode == 0):
            pytest.skip("the read-only bind mount is writable here")
        gate = sabench(["gate", "--baseline", str(b), "--results", str(ro / "results.sqlite")], tmp_path)
        check_one_line_error(gate, 0, "PASS")
        report = sabench(["report", "--out", str(ro)], tmp_path)   # reads fine; writing the report cannot
        check_one_line_error(report, 2, "read-only file system")
        assert not list(ro.glob("results.sqlite-*"))


needs_unprivileged = pytest.mark.skipif(UNPRIVILEGED is None, reason="cannot drop root's capabilities here "
                                        "(no setpriv): permission bits would be ignored")


@pytest.mark.slow
@needs_unprivileged
def test_read_only_folder(tmp_path: Path, tmp_cache):
    """chmod 555 run folder: gate reads it (mode=ro); run and report say what cannot be written."""
    ro = tmp_path / "ro"
    ro.mkdir()
    _good_store(ro)
    b = write_baseline(tmp_path)
    ro.chmod(0o555)
    (ro / "results.sqlite").chmod(0o444)
    try:
        gate = sabench(["gate", "--baseline", str(b), "--results", str(ro / "results.sqlite")], tmp_path,
                       prefix=UNPRIVILEGED)
        check_one_line_error(gate, 0, "PASS")
        check_one_line_error(sabench([*RUN, "--out", str(ro)], tmp_path, prefix=UNPRIVILEGED), 2, "cannot be written")
        check_one_line_error(sabench(["report", "--out", str(ro)], tmp_path, prefix=UNPRIVILEGED), 2,
                             f"{ro}: permission denied")
    finally:
        ro.chmod(0o755)


@needs_unprivileged
def test_read_only_folder_with_a_pending_wal(tmp_path: Path):
    """A WAL not yet checkpointed in a folder where no -shm can be created: its rows are read
    (a private snapshot), not silently dropped."""
    live = tmp_path / "live"
    live.mkdir()
    store = ResultsStore(live / "results.sqlite")
    store._db().execute("PRAGMA wal_autocheckpoint = 0")
    store.save_run(make_run(delta=-0.07, run_id="only-in-wal"))
    ro = tmp_path / "ro"
    ro.mkdir()
    shutil.copyfile(live / "results.sqlite", ro / "results.sqlite")
    shutil.copyfile(live / "results.sqlite-wal", ro / "results.sqlite-wal")
    store.close()
    ro.chmod(0o555)
    b = write_baseline(tmp_path)
    try:
        gate = sabench(["gate", "--baseline", str(b), "--results", str(ro / "results.sqlite"), "--run", "only-in-wal"],
                       tmp_path, prefix=UNPRIVILEGED)
        check_one_line_error(gate, 1, "delta_clap: worse than the baseline")
        assert sorted(p.name for p in ro.iterdir()) == ["results.sqlite", "results.sqlite-wal"]
    finally:
        ro.chmod(0o755)


@pytest.mark.slow
@needs_unprivileged
def test_unreadable_store_and_inputs(tmp_path: Path, tmp_cache):
    (tmp_path / "o").mkdir()
    path = _good_store(tmp_path / "o")
    path.chmod(0o000)
    b = write_baseline(tmp_path)
    run_json = write_run_json(make_run(), tmp_path / "run.json")
    run_json.chmod(0o000)
    noread = tmp_path / "noread"
    noread.mkdir(mode=0o000)
    try:
        check_one_line_error(sabench(["gate", "--baseline", str(b), "--results", str(path)], tmp_path,
                                     prefix=UNPRIVILEGED), 2, "cannot be opened")
        check_one_line_error(sabench(["gate", "--baseline", str(b), "--run", str(run_json)], tmp_path,
                                     prefix=UNPRIVILEGED), 2, "permission denied")
        for extra in ([], ["--keep-going"]):
            proc = sabench(["score", "--suite", "mini-generation", "--path", str(noread), "--out", "s", "--quiet",
                            *extra], tmp_path, prefix=UNPRIVILEGED)
            check_one_line_error(proc, 2, "permission denied")
            assert str(noread) in proc.stderr
    finally:
        path.chmod(0o644)
        run_json.chmod(0o644)
        noread.chmod(0o755)


def test_read_only_open_of_an_older_schema_migrates_a_copy_only(tmp_path: Path):
    path = _good_store(tmp_path)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    store = ResultsStore(path, read_only=True)
    assert store.legacy_runs() == ["run-a"] and store.runs() == []   # migrated view: kept, not reported
    store.close()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("1",)
    assert conn.execute("SELECT status FROM runs").fetchall() == [("done",)]
    conn.close()
