"""Suite options on the command line map onto the suite's loader_args, strictly checked."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from harness import audio
from harness.errors import UsageError
from harness.records import Audio
from harness.results import ResultsStore
from harness.suite import load_suite
from harness.suite_options import SuiteOptions, apply_options, from_flags

ROOT = Path(__file__).resolve().parents[2]


def test_flags_map_onto_loader_args(tmp_path):
    opts = from_flags(["csv=/x/test.csv", "strict-count=false"], captions="975-first",
                      reference_dir="refs", missing="skip", ids="Y1,Y2")
    args = dict(opts.args)
    assert args["captions"] == "975-first" and args["on_missing"] == "drop" and args["strict_count"] is False
    assert args["audio_dir"] == str((Path.cwd() / "refs").resolve()) and opts.ids == ("Y1", "Y2")
    ids = tmp_path / "ids.txt"
    ids.write_text("# chosen clips\nYa\n\nYb\n")
    assert from_flags(ids=str(ids)).ids == ("Ya", "Yb")


@pytest.mark.parametrize("kwargs, says", [
    ({"suite_args": ["captions"]}, "expected KEY=VALUE"),
    ({"suite_args": ["captions=975-first"], "captions": "957-last"}, "also given with --suite-arg"),
    ({"ids": "a,b,a"}, "listed twice"),
    ({"ids": " , "}, "no ids"),
])
def test_malformed_flags_are_usage_errors(kwargs, says):
    with pytest.raises(UsageError, match=says):
        from_flags(**kwargs)


def test_unknown_key_and_bad_choice_name_the_valid_ones():
    spec = load_suite("audiocaps")
    with pytest.raises(UsageError) as exc:
        apply_options(spec, SuiteOptions((("dimension", "accuracy"),)))
    text = str(exc.value)
    assert "'dimension'" in text and "audio_dir, captions, csv, duration, id_list, on_missing" in text
    with pytest.raises(UsageError, match="use one of: 957-last, 964-third"):
        apply_options(spec, SuiteOptions((("captions", "999"),)))
    tta = load_suite("ttabench")
    assert dict(apply_options(tta, SuiteOptions((("dimension", "robustness"),))).loader_args)["dimension"] == \
        "robustness"
    assert apply_options(tta, SuiteOptions()) is tta


def test_an_id_subset_is_its_own_run(tmp_path, tmp_cache, capsys):
    """`--ids` keeps exactly those prompts, and is part of the run id: the same two prompts
    chosen by --limit are another run (a subset never resumes or overwrites a full run)."""
    from harness import cli

    ids = [p.id for p in load_suite("mini-tta").prompts()[:2]]
    base = ["run", "--suite", "mini-tta", "--system", "sine", "--out", str(tmp_path), "--quiet", "--no-report"]
    assert cli.main([*base, "--ids", f"{ids[1]},{ids[0]}"]) == 0
    assert cli.main([*base, "--limit", "2"]) == 0
    subset, limited = ResultsStore(tmp_path / "results.sqlite").runs()
    assert subset.run_id != limited.run_id
    assert sorted({s.item_id for s in subset.items}) == sorted(ids) == sorted({s.item_id for s in limited.items})
    assert [s.value for s in subset.items] == [s.value for s in limited.items]      # same audio, same numbers
    assert cli.main([*base, "--ids", "nope"]) == 2
    assert "not prompt ids of this suite: nope" in capsys.readouterr().err


def _audiocaps(tmp_path: Path) -> tuple[Path, Path]:
    """A 3-clip AudioCaps-format test.csv (5 captions each) and reference clips for 2 of them."""
    path = tmp_path / "test.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["audiocap_id", "youtube_id", "start_time", "caption"])
        for k in range(5):
            for c, yid in enumerate(["aaa", "bbb", "ccc"]):
                w.writerow([100 * c + k, yid, 30, f"{yid} caption {k}"])
    refs = tmp_path / "refs"
    refs.mkdir()
    for yid in ("aaa", "ccc"):
        audio.write(refs / f"Y{yid}.wav", Audio(np.zeros((1, 1600), np.float32), 16000))
    return path, refs


def test_audiocaps_from_the_command_line(tmp_path):
    """generate on AudioCaps with the caption variant, reference folder, missing-clip policy and
    id subset all given as flags: the exported files are exactly the chosen prompts."""
    test_csv, refs = _audiocaps(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SABENCH_CACHE": str(tmp_path / "cache")}
    env.pop("SABENCH_AUDIOCAPS_AUDIO", None)
    base = [sys.executable, "-m", "harness.cli", "generate", "--suite", "audiocaps", "--system", "silence",
            "--suite-arg", f"csv={test_csv}", "--captions", "975-first", "--reference-dir", str(refs),
            "--out", str(tmp_path / "out"), "--quiet"]
    run = subprocess.run([*base, "--missing", "skip", "--to", str(tmp_path / "gen")], capture_output=True,
                         text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in (tmp_path / "gen").glob("*.wav")) == ["Yaaa.wav", "Yccc.wav"]  # bbb: no clip
    run = subprocess.run([*base, "--missing", "skip", "--ids", "Yccc", "--to", str(tmp_path / "one")],
                         capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0 and [p.name for p in (tmp_path / "one").glob("*.wav")] == ["Yccc.wav"]
    run = subprocess.run([*base, "--missing", "skip", "--ids", "Ybbb"], capture_output=True, text=True, env=env)
    assert run.returncode == 2 and "not prompt ids of this suite: Ybbb" in run.stderr
    run = subprocess.run(base, capture_output=True, text=True, env=env, timeout=120)   # default: fail
    assert run.returncode == 2 and "bbb" in run.stderr and "Traceback" not in run.stderr
