"""Open the HTML report in headless Chromium: the table renders, the sorting script runs,
and nothing injected through prompt text executes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from harness.records import Audio, Prompt
from reports import build_report

import _paper_fixture as F

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ATTACK = ("<script>document.title='pwned';document.body.setAttribute('data-pwned','1')</script>"
          "\"><img src=x onerror=\"document.body.setAttribute('data-pwned','2')\"> & 'quotes'")


def _dump_dom(page: Path, profile_dir: Path) -> str:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile_dir}",
           "--dump-dom", page.resolve().as_uri()]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium not on PATH")
def test_report_renders_and_injection_does_not_run(tmp_path: Path):
    runs = F.table2_runs()[:2]
    sr = 16000
    tone = Audio((0.2 * np.sin(2 * np.pi * 440 * np.arange(sr) / sr)).astype(np.float32)[None, :], sr)  # (1, T)
    paths = build_report(runs, tmp_path / "out", formats=("html",), title="Browser check",
                         prompts=[Prompt("prompt_0001", ATTACK)], audio_for=lambda run, pid: tone)
    dom = _dump_dom(paths["html"], tmp_path / "chrome-profile")
    assert 'data-sort-ready="yes"' in dom  # our (hash-allowed) script ran after load
    assert "data-pwned" not in dom.split("<body", 1)[1].split(">", 1)[0]  # no injected code ran
    assert "<title>pwned</title>" not in dom and "<title>Browser check (profile: real)</title>" in dom
    assert '<table class="sortable">' in dom and dom.count("<tr>") >= 3
    assert "&lt;script&gt;document.title='pwned'" in dom  # shown as text
    assert dom.count("<audio") == 2
