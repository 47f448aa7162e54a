"""From an empty folder, `sabench weights fetch --for-job paper` (loopback server) builds a
weights directory that `sabench doctor` reports complete and verified against weights.lock."""

from __future__ import annotations

from harness.cli import main
from harness.doctor import run_doctor
from harness.fetch.lock import read_lock
from harness.fetch.sources import select

from _published import published
from _server import serve_weights as serve


def test_for_job_paper_then_doctor_reports_complete_and_verified(server, monkeypatch, tmp_path, capsys):
    files, notes = select(job="paper")
    serve(server, monkeypatch, {wf.relpath: published(wf.relpath) for wf in files})
    root = tmp_path / "weights"
    assert main(["weights", "fetch", "--for-job", "paper", "--weights", str(root), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert f"weights fetch: {len(files)} fetched" in out and "0 failed" in out
    assert "note: semanticaudio:" in out                                   # its checkpoints are not published
    assert sorted(read_lock(root)) == sorted(wf.relpath for wf in files)

    lines: list[str] = []
    assert run_doctor(str(root), None, echo=lines.append) == 0
    rows = {ln.split("] ", 1)[1].split("  <-")[0]: ln.split("]")[0].strip(" [") for ln in lines
            if ln.startswith("  [") and ": " in ln}
    for wf in files:
        assert rows[f"{wf.backbone}: {wf.relpath}"] == "verified", wf.relpath
    assert f"weights.lock: {len(files)} file(s) recorded, {len(files)} verified (size + sha256)" in "\n".join(lines)

    # a changed locked file is a doctor failure naming it
    victim = root / "flan-t5-large" / "spiece.model"
    victim.write_bytes(victim.read_bytes().upper())
    lines.clear()
    assert run_doctor(str(root), None, echo=lines.append) == 1
    assert any(ln.startswith("  [lock-mismatch: sha256") and "flan-t5-large/spiece.model" in ln for ln in lines)


def test_doctor_reports_an_unreadable_lock(tmp_path):
    (tmp_path / "weights.lock").write_text("{not json")
    lines: list[str] = []
    assert run_doctor(str(tmp_path), None, hash_files=False, echo=lines.append) == 1
    assert any("[corrupt]" in ln and "weights.lock: unreadable lock file" in ln and "fix:" in ln for ln in lines)
