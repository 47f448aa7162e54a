"""No silent wrong numbers (issue 12): each case goes through the real CLI where practical
and asserts the exit code, the item named and the numbers of the items that are fine.

- a WAV whose header under-states its data is refused, by the item that holds it;
- a failing generation batch blames the item that failed (not the batch's first item);
- one clip under a backbone's minimum length fails alone, the others are scored, and a
  resumed run records the same failure;
- `generate --to` names are injective, never hidden, never too long, and the folder
  scores back under the true ids;
- a replaced cached SynthCaps reference is detected and re-rendered.
"""

from __future__ import annotations

import csv
import json
import struct
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "harness"))

from harness import audio, cli  # noqa: E402
from harness.records import Audio  # noqa: E402
from harness.results import ResultsStore  # noqa: E402

import _kit  # noqa: E402

MINI_CLAP = "{name: clap, args: {name: mini_clap, backbone: mini_clap}}"


def _exported(tmp_path: Path, metrics=("test_rms",), ids=None, n: int = 4) -> tuple[str, str, Path]:
    """(suite path, out dir, folder of sine clips exported with generate --to)."""
    _kit.register()
    suite = _kit.write_suite(tmp_path / "s", n=n, metrics=metrics)
    if ids is not None:  # rewrite the prompt ids
        rows = [json.loads(x) for x in (suite.parent / "prompts.jsonl").read_text().splitlines()]
        for r, new in zip(rows, ids, strict=True):
            r["id"] = new
        (suite.parent / "prompts.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    out, folder = str(tmp_path / "out"), tmp_path / "exported"
    assert cli.main(["generate", "--suite", str(suite), "--system", "sine:amplitude=0.25", "--out", out,
                     "--to", str(folder), "--quiet"]) == 0
    return str(suite), out, folder


def _understate_header(path: Path) -> None:
    """Halve the data chunk size in place (the file keeps all its samples)."""
    raw = bytearray(path.read_bytes())
    i = raw.index(b"data")
    (n,) = struct.unpack("<I", raw[i + 4:i + 8])
    raw[i + 4:i + 8] = struct.pack("<I", n // 2)
    path.write_bytes(bytes(raw))


def _score(suite, folder, out, label, *extra) -> int:
    return cli.main(["score", "--suite", suite, "--path", str(folder), "--label", label, "--out", out,
                     "--quiet", *extra])


# --------------------------------------------------------------------- WAV header / blame

def test_understated_wav_header_fails_its_own_item(tmp_path, tmp_cache, capsys):
    suite, out, folder = _exported(tmp_path)
    _understate_header(folder / "p02.wav")
    capsys.readouterr()
    assert _score(suite, folder, out, "files") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert "p02 (generate)" in err and "p00 (" not in err          # blamed on the failing item
    assert "header under-states" in err and "p02.wav" in err
    assert _score(suite, folder, out, "files", "--keep-going") == 1  # an item failed: exit 1
    (run,) = ResultsStore(Path(out) / "results.sqlite").runs(system="files")
    assert [(f.item_id, f.stage) for f in run.failures] == [("p02", "generate")]
    assert sorted({s.item_id for s in run.items}) == ["p00", "p01", "p03"]
    assert run.aggregate("test_rms").value == pytest.approx(0.25 / 2 ** 0.5, rel=1e-2)  # not a half clip


def test_understated_header_is_refused_by_read_and_trailing_chunks_are_not(tmp_path):
    x = np.random.default_rng(0).uniform(-0.5, 0.5, (1, 4000)).astype(np.float32)  # (1, T) @ 16 kHz
    path = tmp_path / "a.wav"
    audio.write(path, Audio(x, 16000))
    with_list = tmp_path / "b.wav"   # a valid trailing LIST chunk after the data is fine
    with_list.write_bytes(path.read_bytes() + b"LIST" + struct.pack("<I", 4) + b"INFO")
    assert audio.read(with_list).samples.shape == (1, 4000)
    _understate_header(path)
    with pytest.raises(audio.AudioError, match="under-states"):
        audio.read(path)


def test_failing_batch_names_the_failing_item_without_keep_going():
    from harness.errors import SabenchError
    from harness.plan import PlannedSample as Job
    from harness.records import GenerationRequest, Prompt
    from harness.runner import Failures, run_batch

    class OneBad:
        name = "one-bad"
        calls: list[int] = []

        def generate(self, requests):
            OneBad.calls.append(len(requests))
            if any(r.prompt.id == "c" for r in requests):
                raise RuntimeError("cannot render c")
            return [Audio(np.zeros((1, 160), np.float32), 16000) for _ in requests]

    jobs = [Job(i, Prompt(i, "t"), GenerationRequest(Prompt(i, "t"), 1), f"k{i}") for i in "abcd"]
    with pytest.raises(SabenchError, match=r"^c \(generate\): RuntimeError: cannot render c"):
        run_batch(OneBad(), "generate", jobs, Failures(keep_going=False))
    failures = Failures(keep_going=True)
    good = run_batch(OneBad(), "generate", jobs, failures)
    assert [j.item_id for j, _, _ in good] == ["a", "b", "d"]
    assert [f.item_id for f in failures.items] == ["c"]


# ------------------------------------------------------------------- one clip fails alone

def test_a_too_short_clip_fails_alone_and_others_are_scored(tmp_path, tmp_cache, capsys):
    suite, out, folder = _exported(tmp_path, metrics=(MINI_CLAP,))
    assert _score(suite, folder, out, "good") == 0                   # all four clips fine
    bad = tmp_path / "bad"
    bad.mkdir()
    for p in folder.glob("*.wav"):
        (bad / p.name).write_bytes(p.read_bytes())
    short = np.zeros((1, 1600), np.float32) + 0.1                     # 0.1 s < mini_clap's 0.2 s
    audio.write(bad / "p02.wav", Audio(short, 16000))
    capsys.readouterr()
    assert _score(suite, bad, out, "bad") == 2                       # without keep-going: named
    err = capsys.readouterr().err.strip()
    assert "error: p02 (metric:mini_clap)" in err and "need at least 3200" in err, err
    assert _score(suite, bad, out, "bad", "--keep-going") == 1  # one item failed: exit 1
    store = ResultsStore(Path(out) / "results.sqlite")
    (good,), (run,) = store.runs(system="good"), store.runs(system="bad")
    assert [(f.item_id, f.stage) for f in run.failures] == [("p02", "metric:mini_clap")]
    want = {s.item_id: s.value for s in good.items if s.item_id != "p02"}
    got = {s.item_id: s.value for s in run.items}
    assert got.keys() == want.keys() and all(abs(got[k] - want[k]) < 1e-6 for k in want)
    assert run.aggregate("mini_clap").n == 3
    # resumed: the stored metric output is reused and the failure is recorded again
    assert _score(suite, bad, out, "bad", "--keep-going") == 1  # one item failed: exit 1
    (again,) = store.runs(system="bad")
    assert [(f.item_id, f.stage) for f in again.failures] == [("p02", "metric:mini_clap")]
    assert again.aggregate("mini_clap").n == 3


def test_context_retries_a_failing_batch_clip_by_clip(tmp_path, tmp_cache):
    from harness.context import RunContext
    from harness.isolation import ClipError

    paths = []
    for i, n in enumerate([8000, 1000, 8000]):
        p = tmp_path / f"c{i}.wav"
        audio.write(p, Audio(np.full((1, n), 0.1 * (i + 1), np.float32), 16000))
        paths.append(str(p))
    ctx = RunContext("mini", cache_dir=tmp_cache / "emb")
    with pytest.raises(ClipError) as info:
        list(ctx.embed_audio("mini_classifier", paths))
    assert list(info.value.problems) == [paths[1]] and "need at least 3200" in info.value.problems[paths[1]]
    hits = ctx.stats["audio_hits"]
    list(ctx.embed_audio("mini_classifier", [paths[0], paths[2]]))    # the good clips were cached
    assert ctx.stats["audio_hits"] == hits + 2


# ------------------------------------------------------------------------- export names

IDS = ["a/b", "a_b", ".hidden", "x" * 300, "a%2Fb", "Case", "case"]


def test_export_names_are_injective_and_score_back_under_true_ids(tmp_path, tmp_cache):
    suite, out, folder = _exported(tmp_path, ids=IDS, n=len(IDS))
    names = sorted(p.name for p in folder.iterdir())
    assert len(names) == len(IDS) + 1 and "manifest.csv" in names
    assert not any(n.startswith(".") for n in names)
    assert max(len(n.encode()) for n in names) <= 200
    assert len({n.casefold() for n in names}) == len(names)           # case-insensitive safe
    with open(folder / "manifest.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert sorted(r["id"] for r in rows) == sorted(IDS)
    assert cli.main(["run", "--suite", suite, "--system", "sine:amplitude=0.25", "--out", out, "--quiet",
                     "--no-report"]) == 0
    assert _score(suite, folder, out, "files") == 0
    store = ResultsStore(Path(out) / "results.sqlite")
    (ran,), (scored,) = store.runs(system="sine"), store.runs(system="files")
    assert sorted(s.item_id for s in scored.items) == sorted(IDS)
    assert ran.items == scored.items                                  # every file under its own id


def test_export_name_rules():
    from harness.generate_cmd import export_name

    assert export_name("a/b") != export_name("a_b")
    assert export_name("p00#r1") == "p00#r1.wav"                      # plain ids stay readable
    assert export_name(".x") == "%2Ex.wav" and export_name("%") == "%25.wav"
    long_a, long_b = export_name("y" * 400 + "a"), export_name("y" * 400 + "b")
    assert long_a != long_b and len(long_a) <= 200 and "~" in long_a


# --------------------------------------------------------------- cached reference audio

def test_replaced_cached_reference_is_rerendered(tmp_path, monkeypatch):
    from suites.synthcaps import suite_loaders as loaders

    monkeypatch.setenv("SABENCH_CACHE", str(tmp_path))
    rows = loaders.reconstruction_prompts(n=2)
    first, second = (audio.read(p.reference).samples for p in rows)
    audio.write(rows[0].reference, Audio(second, 16000))              # swap in another clip
    with pytest.warns(UserWarning, match="does not match its sha256 record"):
        again = loaders.reconstruction_prompts(n=2)
    assert np.array_equal(audio.read(again[0].reference).samples, first)
    Path(again[1].reference + ".sha256.json").unlink()               # a killed write
    with pytest.warns(UserWarning, match="no sha256 record"):
        loaders.reconstruction_prompts(n=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                                # intact: silent reuse
        loaders.reconstruction_prompts(n=2)
