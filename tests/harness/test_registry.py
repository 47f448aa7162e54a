"""Registry (lazy entries, suggestions, the systems catalog) and strict suite specs."""

from __future__ import annotations

import subprocess
import sys

import pytest

from harness.errors import ManifestError, RegistryError, SabenchError
from harness.registry import SYSTEMS, Registry, load_catalog
from harness.suite import MetricSpec, load_suite, spec_from_dict

import _kit


def test_lazy_entries_import_on_first_get_only():
    code = ("import sys\nfrom harness.registry import Registry\nr = Registry('thing')\n"
            "r.register_lazy('wav', 'wave:open', help='x')\n"
            "assert 'wave' not in sys.modules and 'wav' in r\n"
            "import wave\nassert r.get('wav') is wave.open\nprint('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "ok", out.stderr


def test_unknown_name_suggests_close_matches():
    load_catalog()
    with pytest.raises(RegistryError) as err:
        SYSTEMS.get("sinee")
    assert "did you mean sine" in str(err.value) and "available:" in str(err.value)
    r = Registry("gadget")
    r.register("alpha")(object())
    with pytest.raises(ValueError, match="registered twice"):
        r.register("alpha")(object())


def test_target_names_what_a_lazy_entry_stands_for():
    r = Registry("gadget")
    r.register_lazy("wav", "wave:open")
    r.register("alpha")(object())
    assert r.target("wav") == "wave:open" and r.target("alpha") is None
    with pytest.raises(RegistryError, match="unknown gadget"):
        r.target("wave")


def test_catalog_systems_resolve_without_torch():
    code = ("import sys\nfrom harness.registry import SYSTEMS, load_catalog\nload_catalog()\n"
            "for n in ('silence', 'sine', 'noise', 'reference-echo', 'precomputed'): SYSTEMS.get(n)\n"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


GOOD = {"name": "s", "version": 1, "task": "generate", "profile": "mini", "loader": "harness.suite:load_prompt_file",
        "loader_args": {"path": "p.jsonl"}, "metrics": ["a", {"name": "b", "args": {"k": 1}}], "seed": 3}


def test_spec_parses_and_is_strict():
    spec = spec_from_dict(dict(GOOD), "x/suite.yaml")
    assert spec.version == "1" and spec.metrics == (MetricSpec("a"), MetricSpec("b", (("k", 1),)))
    assert spec.replicates == 1 and spec.duration is None
    cases = [({**GOOD, "replicate": 5}, "unknown key 'replicate'"),
             ({k: v for k, v in GOOD.items() if k != "loader"}, "missing key 'loader'"),
             ({**GOOD, "task": "render"}, "task 'render'"),
             ({**GOOD, "profile": "huge"}, "profile 'huge'"),
             ({**GOOD, "replicates": 0}, "replicates 0"),
             ({**GOOD, "seed": "zero"}, "seed 'zero'"),
             ({**GOOD, "metrics": [{"name": "a", "arg": {}}]}, "bad metric entry"),
             ({**GOOD, "duration": -1}, "duration -1")]
    for data, message in cases:
        with pytest.raises(SabenchError) as err:
            spec_from_dict(data, "x/suite.yaml")
        assert message in str(err.value) and "x/suite.yaml" in str(err.value)


def test_unknown_key_in_file_names_key_and_file(tmp_path):
    path = _kit.write_suite(tmp_path, n=2, extra="replicate: 3\n")
    with pytest.raises(SabenchError) as err:
        load_suite(path)
    assert "'replicate'" in str(err.value) and str(path) in str(err.value)


def test_duplicate_and_empty_prompt_ids_are_named(tmp_path):
    path = _kit.write_suite(tmp_path, n=3)
    spec = load_suite(path)
    rows = (tmp_path / "prompts.jsonl").read_text().splitlines()
    (tmp_path / "prompts.jsonl").write_text("\n".join([*rows, rows[1]]) + "\n")
    with pytest.raises(ManifestError, match="'p01'.*duplicate prompt id"):
        spec.prompts()
    (tmp_path / "prompts.jsonl").write_text(rows[0].replace('"p00"', '""') + "\n")
    with pytest.raises(ManifestError, match="empty prompt id"):
        spec.prompts()


def test_load_suite_by_name_path_and_folder(tmp_path):
    path = _kit.write_suite(tmp_path / "tiny", n=2)
    assert load_suite(path).name == load_suite(tmp_path / "tiny").name == "tiny"
    assert load_suite("audiocaps").name == "audiocaps"  # registry entry -> its suite.yaml
    with pytest.raises(RegistryError, match="did you mean audiocaps"):
        load_suite("audiocap")
    with pytest.raises(SabenchError, match="suite file not found"):
        load_suite(tmp_path / "nowhere" / "suite.yaml")
