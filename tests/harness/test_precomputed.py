"""`precomputed`: pre-generated files are matched to prompts by id, never by listing order."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from harness import audio
from harness.errors import SabenchError
from harness.records import Audio
from harness.results import ResultsStore
from harness.runner import run_suite
from harness.suite import load_suite
from systems.precomputed import PrecomputedSystem

import _kit


@pytest.fixture(autouse=True)
def _registered(tmp_cache):
    _kit.register()


LEVEL = {f"p{i:02d}": 0.05 * (i + 1) for i in range(6)}
"""Each id's file is a constant at its own level, so RMS(item) == LEVEL[id] tells who served it."""


def _write(path, level):
    audio.write(path, Audio(np.full((1, 4000), level, dtype=np.float32), _kit.SR))


def _suite(tmp_path):
    yaml_path = _kit.write_suite(tmp_path / "suite", n=6, metrics=("test_rms",))
    rows = (tmp_path / "suite" / "prompts.jsonl").read_text().splitlines()
    order = [3, 0, 5, 1, 4, 2]  # loader order differs from the files' listing order
    (tmp_path / "suite" / "prompts.jsonl").write_text("\n".join(rows[i] for i in order) + "\n")
    return load_suite(yaml_path)


def _score(tmp_path, spec, system, **kw):
    return run_suite(spec, system, out_dir=tmp_path / "out", results=ResultsStore(tmp_path / "out" / "r.sqlite"),
                     progress=False, **kw)


def _rms(result):
    return {s.item_id: s.value for s in result.items if s.metric == "test_rms"}


def test_folder_matched_by_id(tmp_path):
    spec = _suite(tmp_path)
    out = tmp_path / "gen"
    out.mkdir()
    for pid, level in reversed(list(LEVEL.items())):
        _write(out / f"{pid}.wav", level)
    result = _score(tmp_path, spec, PrecomputedSystem(out))
    assert _rms(result) == pytest.approx(LEVEL, abs=1e-7)  # float32 constant: exact to ~1e-8


def test_manifest_with_shuffled_rows_and_unrelated_names(tmp_path):
    spec = _suite(tmp_path)
    out = tmp_path / "gen"
    out.mkdir()
    rows = ["id,path"]
    for k, (pid, level) in enumerate(sorted(LEVEL.items(), key=lambda kv: -kv[1])):
        _write(out / f"clip_{k}.wav", level)  # clip_0 holds p05's audio, ...
        rows.append(f"{pid},clip_{k}.wav")
    (out / "manifest.csv").write_text("\n".join([rows[0], *rows[1:][::-1]]) + "\n")
    result = _score(tmp_path, spec, PrecomputedSystem(out / "manifest.csv"))
    assert _rms(result) == pytest.approx(LEVEL, abs=1e-7)


def test_missing_ids_named_and_extra_ids_warned(tmp_path):
    spec = _suite(tmp_path)
    out = tmp_path / "gen"
    out.mkdir()
    for pid, level in LEVEL.items():
        if pid not in ("p01", "p04"):
            _write(out / f"{pid}.wav", level)
    _write(out / "zz_extra.wav", 0.9)
    with pytest.raises(SabenchError) as err, pytest.warns(UserWarning, match="zz_extra"):
        _score(tmp_path, spec, PrecomputedSystem(out))
    assert "p01" in str(err.value) and "p04" in str(err.value)
    with pytest.warns(UserWarning, match="1 file"):
        result = _score(tmp_path, spec, PrecomputedSystem(out), keep_going=True)
    assert {(f.item_id, f.stage) for f in result.failures} == {("p01", "generate"), ("p04", "generate")}
    assert set(_rms(result)) == set(LEVEL) - {"p01", "p04"}


def test_identity_follows_content_not_location(tmp_path):
    a = tmp_path / "a"
    a.mkdir()
    for pid, level in LEVEL.items():
        _write(a / f"{pid}.wav", level)
    b = tmp_path / "b"
    shutil.copytree(a, b)
    sha_a = PrecomputedSystem(a).info.checkpoint_sha256
    assert PrecomputedSystem(b).info.checkpoint_sha256 == sha_a
    _write(b / "p02.wav", 0.77)
    assert PrecomputedSystem(b).info.checkpoint_sha256 != sha_a


def test_malformed_manifest_is_a_one_line_error(tmp_path):
    spec = _suite(tmp_path)
    _write(tmp_path / "x.wav", 0.1)
    _write(tmp_path / "y.wav", 0.2)
    (tmp_path / "m.json").write_text(json.dumps([{"id": "p00", "path": "x.wav"}, {"id": "p00", "path": "y.wav"}]))
    with pytest.raises(SabenchError) as err:
        _score(tmp_path, spec, PrecomputedSystem(tmp_path / "m.json"))
    assert "duplicate id" in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("task", ["generate", "edit"])
def test_replicates_served_by_item_id(tmp_path, task):
    """replicates: 3 -> files <id>#r<k>; each item gets its own file (levels tell them apart);
    a plain <id> file serves replicate 0; a missing replicate is a failure naming its item id."""
    spec = load_suite(_kit.write_suite(tmp_path / "suite", n=2, task=task, metrics=("test_rms",), replicates=3))
    out = tmp_path / "gen"
    out.mkdir()
    want = {}
    for i, pid in enumerate(["p00", "p01"]):
        for k in range(3):
            level = 0.1 * (i + 1) + 0.01 * k
            name = pid if (pid, k) == ("p01", 0) else f"{pid}#r{k}"      # p01's replicate 0: plain id
            if (pid, k) != ("p00", 2):                                  # p00#r2 is missing
                _write(out / f"{name}.wav", level)
                want[f"{pid}#r{k}"] = level
    with pytest.raises(SabenchError, match=r"1 item\(s\) cannot be served: p00#r2"):
        _score(tmp_path, spec, PrecomputedSystem(out))
    result = _score(tmp_path, spec, PrecomputedSystem(out), keep_going=True)
    assert _rms(result) == pytest.approx(want, abs=1e-7)
    assert [(f.item_id, "p00#r2" in f.message) for f in result.failures] == [("p00#r2", True)]
