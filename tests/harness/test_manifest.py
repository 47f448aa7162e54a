"""harness.manifest: CSV/TSV/JSON/JSONL/folder manifests, every malformed input, id matching."""

from __future__ import annotations

import json
import os

import pytest

from harness.errors import ManifestError
from harness.manifest import match_ids, read_entries, read_manifest
from harness.paths import resolve_under


@pytest.fixture
def data(tmp_path):
    """A data root with three clips a, b, c (content irrelevant here: manifests don't decode)."""
    root = tmp_path / "gen"
    (root / "wavs").mkdir(parents=True)
    for i in "abc":
        (root / "wavs" / f"{i}.wav").write_bytes(b"RIFF")
    return root


def _err(fn, *needles):
    with pytest.raises(ManifestError) as e:
        fn()
    msg = str(e.value)
    assert "\n" not in msg and "fix:" in msg, msg
    for n in needles:
        assert n in msg, (n, msg)
    return msg


# --------------------------------------------------------------------------- good inputs

def test_csv_with_extra_columns(data):
    (data / "m.csv").write_text("id,path,caption\nb,wavs/b.wav,\"a dog, barking\"\n"
                                "a,wavs/a.wav,rain\n\n", encoding="utf-8")
    got = read_manifest(data / "m.csv")
    assert got == {"b": (data / "wavs/b.wav").resolve(), "a": (data / "wavs/a.wav").resolve()}
    entries = read_entries(data / "m.csv")
    assert dict(entries[0].extra) == {"caption": "a dog, barking"}
    assert entries[0].where == "m.csv row 2"


def test_bom_tsv_json_jsonl_and_data_root(data, tmp_path):
    (data / "m.tsv").write_bytes("\ufeffid\tpath\na\twavs/a.wav\n".encode("utf-8"))
    assert read_manifest(data / "m.tsv") == {"a": (data / "wavs/a.wav").resolve()}
    rows = [{"id": "c", "path": "wavs/c.wav", "seed": 3}, {"id": "a", "path": "wavs/a.wav"}]
    (data / "m.json").write_text(json.dumps(rows))
    assert list(read_manifest(data / "m.json")) == ["c", "a"]
    (data / "m.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    assert read_manifest(data / "m.jsonl")["c"] == (data / "wavs/c.wav").resolve()
    # manifest elsewhere, paths relative to an explicit data root
    (tmp_path / "elsewhere.csv").write_text("id,path\na,wavs/a.wav\n")
    assert read_manifest(tmp_path / "elsewhere.csv", data_root=data)["a"].exists()


def test_folder_manifest(data):
    folder = data / "wavs"
    (folder / ".a.wav.123.tmp").write_bytes(b"x")  # stray temp file: skipped
    (folder / "notes.txt").write_text("ignored")
    (folder / "d.flac").write_bytes(b"fLaC")
    assert sorted(read_manifest(folder)) == ["a", "b", "c", "d"]


def test_absolute_path_inside_root_is_fine(data):
    (data / "m.csv").write_text(f"id,path\na,{data / 'wavs' / 'a.wav'}\n")
    assert read_manifest(data / "m.csv")["a"] == (data / "wavs/a.wav").resolve()


def test_require_files_false_keeps_missing(data):
    (data / "m.csv").write_text("id,path\nz,wavs/z.wav\n")
    assert read_manifest(data / "m.csv", require_files=False)["z"].name == "z.wav"


# --------------------------------------------------------------------------- bad inputs

BAD_CSV = {
    "missing_column": ("id,file\na,wavs/a.wav\n", ["m.csv header", "missing column", "path"]),
    "duplicate_column": ("id,path,id\na,wavs/a.wav,x\n", ["duplicate column"]),
    "wrong_field_count": ("id,path\na,wavs/a.wav,extra\n", ["m.csv row 2", "3 fields"]),
    "bad_quoting": ('id,path\n"a,wavs/a.wav\n', ["malformed CSV"]),
    "duplicate_id": ("id,path\na,wavs/a.wav\nb,wavs/b.wav\na,wavs/c.wav\n",
                     ["m.csv row 4", "'a'", "duplicate id", "row 2"]),
    "empty_id": ("id,path\n,wavs/a.wav\n", ["m.csv row 2", "empty id"]),
    "blank_id": ("id,path\n   ,wavs/a.wav\n", ["empty id"]),
    "padded_id": ("id,path\n a ,wavs/a.wav\n", ["whitespace"]),
    "dotdot_escape": ("id,path\na,../../etc/passwd\n", ["m.csv row 2", "outside the data root"]),
    "absolute_escape": ("id,path\na,/etc/hostname\n", ["outside the data root"]),
    "missing_file": ("id,path\na,wavs/zzz.wav\n", ["'a'", "zzz.wav", "not found"]),
    "directory": ("id,path\na,wavs\n", ["is not a file"]),
    "empty_path": ("id,path\na,\n", ["empty path"]),
    "header_only": ("id,path\n", ["no rows"]),
    "empty_file": ("", ["empty manifest"]),
}


@pytest.mark.parametrize("case", sorted(BAD_CSV))
def test_bad_csv(data, case):
    text, needles = BAD_CSV[case]
    (data / "m.csv").write_text(text, encoding="utf-8")
    _err(lambda: read_manifest(data / "m.csv"), *needles)


def test_non_utf8(data):
    (data / "m.csv").write_bytes(b"id,path\na,wavs/a.wav\nb\xe9,wavs/b.wav\n")
    _err(lambda: read_manifest(data / "m.csv"), "m.csv line 3", "not UTF-8", "0xe9")


BAD_JSON = {
    "syntax": ('[{"id": "a", "path": "wavs/a.wav"},]', ["m.json line 1", "invalid JSON"]),
    "not_list": ('{"id": "a", "path": "wavs/a.wav"}', ["expected a list"]),
    "not_object": ('["wavs/a.wav"]', ["m.json item 0", "expected an object"]),
    "missing_field": ('[{"id": "a"}]', ["m.json item 0", "missing field", "path"]),
    "int_id": ('[{"id": 5, "path": "wavs/a.wav"}]', ["not a string"]),
    "path_not_string": ('[{"id": "a", "path": 3}]', ["path is not a string"]),
    "duplicate_id": ('[{"id": "a", "path": "wavs/a.wav"}, {"id": "a", "path": "wavs/b.wav"}]',
                     ["m.json item 1", "duplicate id", "item 0"]),
}


@pytest.mark.parametrize("case", sorted(BAD_JSON))
def test_bad_json(data, case):
    text, needles = BAD_JSON[case]
    (data / "m.json").write_text(text)
    _err(lambda: read_manifest(data / "m.json"), *needles)


def test_bad_jsonl_line(data):
    (data / "m.jsonl").write_text('{"id": "a", "path": "wavs/a.wav"}\n{"id": "b",\n')
    _err(lambda: read_manifest(data / "m.jsonl"), "m.jsonl line 2", "invalid JSON")


def test_symlink_out_of_root_refused(data, tmp_path):
    outside = tmp_path / "outside.wav"
    outside.write_bytes(b"RIFF")
    os.symlink(outside, data / "wavs" / "evil.wav")
    (data / "m.csv").write_text("id,path\ne,wavs/evil.wav\n")
    _err(lambda: read_manifest(data / "m.csv"), "outside the data root")
    _err(lambda: read_manifest(data / "wavs"), "evil.wav", "outside the data root")


def test_folder_problems(data, tmp_path):
    (data / "wavs" / "a.flac").write_bytes(b"fLaC")
    _err(lambda: read_manifest(data / "wavs"), "duplicate id 'a'")
    (data / "wavs" / "a.flac").unlink()
    (data / "wavs" / "x.mp3").write_bytes(b"ID3")
    _err(lambda: read_manifest(data / "wavs"), "x.mp3", ".mp3 files are not read")
    (tmp_path / "empty").mkdir()
    _err(lambda: read_manifest(tmp_path / "empty"), "no .wav or .flac files")


def test_unknown_type_and_missing_manifest(data):
    (data / "m.xml").write_text("<x/>")
    _err(lambda: read_manifest(data / "m.xml"), "unknown manifest type")
    _err(lambda: read_manifest(data / "nope.csv"), "manifest not found")


def test_resolve_under_direct(tmp_path):
    assert resolve_under(tmp_path, "a/b.wav", "it") == (tmp_path / "a/b.wav").resolve()
    assert resolve_under(tmp_path, "a/../b.wav", "it") == (tmp_path / "b.wav").resolve()
    _err(lambda: resolve_under(tmp_path, "a/../../b.wav", "row 7"), "row 7", "outside")
    _err(lambda: resolve_under(tmp_path, "a\x00b", "row 8"), "NUL")


# --------------------------------------------------------------------------- matching

def test_match_by_id_never_by_order(data):
    (data / "m.csv").write_text("id,path\nc,wavs/c.wav\nx,wavs/a.wav\nb,wavs/b.wav\n")
    available = read_manifest(data / "m.csv")
    matched, missing, extra = match_ids(["a", "b", "c"], available)
    assert list(matched) == ["b", "c"]  # expected order, not file order
    assert matched["c"].name == "c.wav" and matched["b"].name == "b.wav"
    assert missing == ["a"] and extra == ["x"]
    _err(lambda: match_ids(["a", "a"], available), "'a'", "appears twice")
