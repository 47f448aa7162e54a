"""HTML report: self-contained, escaped, sortable; build_report writes every format."""

from __future__ import annotations

import html as htmllib
import json
import re
from pathlib import Path

import numpy as np
import pytest

from harness.records import Audio, Prompt
from reports import build_report
from reports.html import SORT_JS

import _paper_fixture as F

PAYLOAD = "<script>alert(1)</script> & \"quoted\" 'single' <img src=x onerror=alert(2)>"


def _tone(freq: float, seconds: float = 1.0, sr: int = 16000) -> Audio:
    t = np.arange(int(seconds * sr)) / sr
    return Audio((0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)[None, :], sr)  # (1, T) @ 16 kHz


def _report(tmp_path: Path, formats=("html",)):
    runs = F.table2_runs()[:3]
    prompts = [Prompt("prompt_0001", PAYLOAD), Prompt("prompt_0002", "a dog barks")]
    tones = {"Resonate": 440.0, "TangoFlux": 880.0, "Base Model": 1760.0}
    return build_report(runs, tmp_path, formats=formats, title="Report <b>x</b>", prompts=prompts,
                        audio_for=lambda run, pid: _tone(tones[run.system.name]))


def test_html_escapes_prompt_text_and_is_self_contained(tmp_path: Path):
    paths = _report(tmp_path)
    page = paths["html"].read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in page and "onerror=alert" not in page.replace("onerror=alert(2)&gt;", "")
    assert htmllib.escape(PAYLOAD, quote=True) in page
    assert "&quot;quoted&quot;" in page and "&#x27;single&#x27;" in page and "&amp;" in page
    assert "Report &lt;b&gt;x&lt;/b&gt;" in page
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", page, flags=re.S)
    assert scripts == [SORT_JS]  # exactly one script: the fixed sorting code, no prompt text in it
    assert "addEventListener('click'" in SORT_JS and "table.sortable" in SORT_JS
    assert not re.search(r"(src|href)=\"(https?:)?//", page)  # no external assets
    assert page.count('<audio controls') == 6 and page.count('src="data:audio/wav;base64,') == 6
    assert page.count('src="data:image/png;base64,') == 6
    assert "Profile: real" in page and "Content-Security-Policy" in page
    assert '<table class="sortable">' in page and 'data-value="0.459"' in page


def test_build_report_all_formats(tmp_path: Path):
    runs, mos = F.table1_runs()
    runs += F.table2_runs()
    mini = [F.run("synthcaps", "sa-mini", {"clap_laion": 0.2}, profile="mini")]
    paths = build_report(runs + mini, tmp_path, formats=("md", "tex", "csv", "json", "html", "plots"), mos=mos)
    assert set(paths) == {"md", "tex", "csv", "json", "html", "plots"}
    md = paths["md"].read_text()
    assert md.startswith("# sabench report (profile: mini, real)")
    assert "### Table 1: Text-to-audio generation on AudioCaps" in md and "### Table 2" in md
    assert "### Leaderboard: synthcaps v1.0.0" in md and "Profile: mini (embedded SynthCaps" in md
    assert r"\toprule" in paths["tex"].read_text()
    assert "table1,real,audiocaps v1.0.0,Resonate,fd_pann,16.0" in paths["csv"].read_text()
    data = json.loads(paths["json"].read_text())
    assert data["profiles"] == ["mini", "real"] and len(data["runs"]) == len(runs) + 1
    assert (paths["plots"] / "audiocaps-real-clap_vs_fd.png").stat().st_size > 1000
    assert str(paths) == str(paths["html"])


def test_build_report_from_store_with_cli_args(tmp_path: Path):
    from harness.results import ResultsStore

    store = ResultsStore(tmp_path / "results.sqlite")
    for r in F.table3_runs():
        store.save_run(r)
    paths = build_report(store, tmp_path / "out", "--formats", "md,json", "--ci", "pm")
    assert set(paths) == {"md", "json"}
    assert "| Ours (d=128) | 1.413 | 1.828 |" in paths["md"].read_text()


def test_mixed_suite_versions_get_separate_tables_and_backbones_refused(tmp_path: Path):
    from harness.errors import SabenchError

    a = F.run("ttabench", "A", {"clap_ms": 0.4})
    b = F.run("ttabench", "B", {"clap_ms": 0.5}, version="1.1.0")
    md = build_report([a, b], tmp_path, formats=("md",))["md"].read_text()
    assert md.count("### Table 2") == 2 and "ttabench v1.1.0" in md
    other = dict(F.METRICS)
    other["clap_ms"] = F.MetricInfo("clap_ms", True, "ms_clap", "1" * 64, "r44k")
    c = F.run("ttabench", "C", {"clap_ms": 0.5}, metric_infos=other)
    with pytest.raises(SabenchError, match="not comparable"):
        build_report([a, c], tmp_path, formats=("md",))
    md = build_report([a, c], tmp_path, formats=("md",), mixing="footnote")["md"].read_text()
    assert "| C [1] |" in md


def test_plots(tmp_path: Path):
    from reports import plots, tables

    runs = [F.run("audiocaps", "semanticaudio", {"fd_pann": fd, "clap_laion": c}, params={"d": d})
            for d, fd, c in ((32, 22.5, 0.348), (64, 22.2, 0.356), (128, 19.1, 0.381), (1024, 20.9, 0.373))]
    p = plots.d_ablation(runs, ["fd_pann", "clap_laion"], tmp_path / "abl.png")
    assert p.stat().st_size > 1000
    assert plots.clap_vs_fd(runs, tmp_path / "s.png").stat().st_size > 1000
    assert plots.category_bars(tables.table6(F.table6_run()), tmp_path / "c.png").stat().st_size > 1000


def test_folder_audio_reads_files_through_harness_audio(tmp_path: Path):
    from harness import audio as A
    from reports import folder_audio

    (tmp_path / "sysA").mkdir()
    A.write(tmp_path / "sysA" / "prompt_0001.wav", _tone(440.0, 0.5, 48000))  # 48 kHz file -> 16 kHz preview
    runs = [F.run("ttabench", "sysA", {"clap_ms": 0.4}), F.run("ttabench", "sysB", {"clap_ms": 0.3})]
    find = folder_audio({"sysA": tmp_path / "sysA"})
    assert find(runs[0], "prompt_0001") == tmp_path / "sysA" / "prompt_0001.wav"
    assert find(runs[1], "prompt_0001") is None and find(runs[0], "prompt_0002") is None
    page = build_report(runs, tmp_path / "out", formats=("html",), audio_for=find,
                        prompts=[Prompt("prompt_0001", "a tone")])["html"].read_text()
    assert page.count("<audio controls") == 1
    import base64
    import io

    import soundfile as sf
    uri = re.search(r'src="data:audio/wav;base64,([^"]+)"', page).group(1)
    x, sr = sf.read(io.BytesIO(base64.b64decode(uri)), dtype="float32")
    assert sr == 16000 and x.shape == (8000,)  # 0.5 s resampled to the preview rate
    # 440 Hz survives resampling: the spectrum peak is within one FFT bin (2 Hz) of it
    peak = np.argmax(np.abs(np.fft.rfft(x))) * sr / x.shape[0]
    assert abs(peak - 440.0) <= 2.0
