"""Progress: per-item counts, periodic plain lines off a terminal, one-line warnings."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from harness import progress as P


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def _drive(total: int, seconds_per_item: float) -> list[str]:
    out, clock = io.StringIO(), Clock()
    log = P.LogProgress("generate sine", total, out=out, clock=clock)
    for _ in range(total):
        clock.t += seconds_per_item
        log.update(1)
    log.close()
    return out.getvalue().splitlines()


def test_fast_loops_print_nothing():
    assert _drive(100, 0.01) == []                 # 1 s in all: below MIN_GAP_S


def test_slow_loop_prints_every_ten_percent_with_rate_and_eta():
    lines = _drive(100, 1.0)                        # 100 s: a line per 10 items (10 s apart)
    assert len(lines) == 10
    assert lines[0] == "generate sine: 10/100 (10%) 1/s ETA 1m30s"
    assert lines[-1] == "generate sine: 100/100 (100%) 1/s"


def test_very_slow_loop_prints_at_least_every_period():
    lines = _drive(1000, 3.0)                       # 10 % = 100 items = 300 s: the 30 s period rules
    assert lines[0].startswith("generate sine: 10/1000 (1%) 0.333/s ETA 49m30s")
    assert len(lines) == 100


def test_batches_count_items_and_log_off_a_terminal(monkeypatch, capsys):
    """`size=len`: a batch of 8 advances the count by 8; stderr is not a TTY under pytest."""
    clock = Clock()
    monkeypatch.setattr(P.time, "monotonic", clock)
    batches = [list(range(8))] * 4
    seen = []
    for batch in P.progress(batches, total=32, desc="embed mini_clap", size=len):
        clock.t += 10.0
        seen.append(len(batch))
    assert seen == [8, 8, 8, 8]
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("embed mini_clap: 8/32 (25%)") and err[-1].startswith("embed mini_clap: 32/32 (100%)")


def test_quiet_silences_everything(capsys):
    P.set_quiet(True)
    try:
        items = [1, 2]
        assert P.progress(items) is items
        P.note("hello")
    finally:
        P.set_quiet(False)
    assert capsys.readouterr().err == ""


def test_only_our_own_warnings_are_labelled_sabench():
    ours = P.format_warning("3 file(s) match no prompt", UserWarning, P.__file__, 10)
    assert ours == "sabench: warning: 3 file(s) match no prompt\n"
    theirs = P.format_warning("path is deprecated.\nmore", DeprecationWarning,
                              "/venv/lib/python3.11/site-packages/librosa/core/intervals.py", 15)
    assert theirs == "DeprecationWarning (librosa/core/intervals.py:15): path is deprecated.\n"


def test_cli_prints_third_party_warnings_unlabelled(tmp_path):
    """Through the CLI: a warning raised from outside sabench's packages keeps its origin."""
    pkg = tmp_path / "thirdparty.py"
    pkg.write_text("import warnings\ndef go():\n    warnings.warn('old api', FutureWarning)\n")
    script = (f"import sys; sys.path.insert(0, {str(tmp_path)!r})\n"
              "from harness import cli\nimport thirdparty\n"
              "cli.HANDLERS['list'] = lambda args: (thirdparty.go(), 0)[1]\n"
              "sys.exit(cli.main(['list']))\n")
    root = Path(__file__).resolve().parents[2]
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=root, timeout=60)
    assert res.returncode == 0, res.stderr
    assert "FutureWarning (" in res.stderr and "thirdparty.py:3): old api" in res.stderr
    assert "sabench: warning" not in res.stderr


def test_embedding_progress_counts_clips(tmp_path, tmp_cache, monkeypatch, capsys):
    """RunContext.embed_audio reports per clip (batches of 2 here), and show=False is silent."""
    import numpy as np

    from harness import audio
    from harness.context import RunContext
    from harness.records import Audio

    import _kit

    _kit.register()
    paths = []
    for i in range(5):
        paths.append(str(tmp_path / f"c{i}.wav"))
        audio.write(paths[-1], Audio(np.full((1, 800), 0.1 * i, np.float32), _kit.SR))
    ticks = iter(range(0, 10_000, 10))                      # every clock read is 10 s later
    monkeypatch.setattr(P.time, "monotonic", lambda: float(next(ticks)))
    list(RunContext("mini", cache_dir=tmp_path / "cache", show=False).embed_audio("test_stats", paths))
    assert capsys.readouterr().err == ""
    list(RunContext("mini", cache_dir=tmp_path / "cache2").embed_audio("test_stats", paths))
    err = capsys.readouterr().err.splitlines()
    assert [ln.split(" (")[0] for ln in err] == ["embed test_stats: 2/5", "embed test_stats: 4/5",
                                                  "embed test_stats: 5/5"]
