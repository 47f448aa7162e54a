"""Trust boundary (docs/trust.md): data never names code; reports escape user text; files
written by sabench honour the umask.

Code-execution cases use a marker file: the hostile input tries to create it, and the test
asserts that it does not appear (and, as a control, that it does when the user explicitly
trusts the input with --allow-code, so the marker mechanism itself is live).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import numpy as np
import pytest

from harness.errors import SabenchError, WeightsError

from _cases import REPO, Case, check, run_case, sabench, write_files

MINI_BASE = REPO / "suites" / "synthcaps" / "checkpoints" / "systems" / "base"
EVIL_MODULE = "import pathlib\npathlib.Path({marker!r}).write_text('ran')\n"


def tiny_suite(tmp: Path, loader: str = "prompt_file", task: str = "generate", extra: str = "") -> dict[str, str]:
    """Files of a 2-prompt suite (prompts.jsonl + suite.yaml) whose loader is `loader`."""
    rows = [{"id": f"p{i}", "text": f"sound {i}", "duration": 0.25} for i in range(2)]
    return {"prompts.jsonl": "\n".join(json.dumps(r) for r in rows) + "\n",
            "suite.yaml": f"name: tiny\nversion: '1'\ntask: {task}\nprofile: mini\nloader: {loader}\n"
                          f"loader_args: {{path: {tmp / 'prompts.jsonl'}}}\nmetrics: [mel_loss]\n{extra}"}


# --------------------------------------------------------------------- weights / checkpoint configs

def hostile_weights(tmp: Path, encoders: str = "runpy:run_path") -> Path:
    """A weights folder whose base-model checkpoint records `encoders` = runpy:run_path, next to
    a __main__.py that writes the marker (runpy.run_path(<weights>) would execute it)."""
    weights = tmp / "W"
    shutil.copytree(MINI_BASE, weights / "semanticaudio" / "base")
    cfg_path = weights / "semanticaudio" / "base" / "config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["encoders"] = encoders
    cfg_path.write_text(json.dumps(cfg))
    (weights / "__main__.py").write_text(EVIL_MODULE.format(marker=str(tmp / "MARKER")))
    return weights


@pytest.mark.parametrize("spec", ["runpy:run_path", "os:system", "real_encoders"])
def test_checkpoint_config_cannot_name_code(tmp_path, spec):
    hostile_weights(tmp_path, spec)
    write_files(tiny_suite(tmp_path), tmp_path)
    out = sabench(("generate", "--suite", "suite.yaml", "--system", "base-model", "--weights", "W",
                   "--out", "out", "--quiet"), tmp_path)
    case = Case("checkpoint encoders", (), 2, "is not a registered encoder bundle")
    check(case, out)
    assert "config.json" in out.stderr and repr(spec) in out.stderr
    assert not (tmp_path / "MARKER").exists()


def test_checkpoint_config_cannot_name_code_even_with_allow_code(tmp_path):
    hostile_weights(tmp_path)
    write_files(tiny_suite(tmp_path), tmp_path)
    out = sabench(("generate", "--allow-code", "--suite", "suite.yaml", "--system", "base-model",
                   "--weights", "W", "--out", "out", "--quiet"), tmp_path)
    check(Case("checkpoint encoders, --allow-code", (), 2, "is not a registered encoder bundle"), out)
    assert not (tmp_path / "MARKER").exists()


def test_marker_control_user_parameter_with_allow_code_runs(tmp_path):
    """Control: the same callable named by the *user* under --allow-code does run (the marker
    mechanism works, so the refusals above are meaningful)."""
    hostile_weights(tmp_path, "mini")
    write_files(tiny_suite(tmp_path), tmp_path)
    out = sabench(("generate", "--allow-code", "--suite", "suite.yaml", "--system",
                   "base-model:encoders=runpy:run_path", "--weights", "W", "--out", "out", "--quiet"), tmp_path)
    assert (tmp_path / "MARKER").exists()
    check(Case("trusted parameter", (), 2, "returned a dict, not an Encoders bundle"), out)


def test_registered_encoders_from_checkpoint_still_load():
    from harness.registry import ENCODER_BUNDLES, load_catalog
    from systems.semanticaudio.encoders import encoders_target, load_encoders

    load_catalog()
    mini = ENCODER_BUNDLES.target("mini")
    assert encoders_target("mini") == mini == encoders_target(mini) == "suites.synthcaps.mini_encoders:mini_encoders"
    enc = load_encoders("weightless")
    assert enc.spec == "systems.semanticaudio.encoders:weightless_encoders"
    with pytest.raises(SabenchError, match="not a registered encoder bundle"):
        encoders_target("os:system", "cfg.json")
    assert encoders_target("pkg.mod:fn", "param", allow_code=True) == "pkg.mod:fn"


def test_mini_backbone_config_cannot_name_other_attributes(tmp_path, monkeypatch):
    from harness.hashing import sha256_file
    from suites.synthcaps import weights
    from suites.synthcaps.backbones.backbones import MiniClap

    folder = tmp_path / "ck"
    shutil.copytree(weights.DEFAULT_DIR, folder, ignore=shutil.ignore_patterns("systems"))
    cfg = json.loads((folder / "mini_clap.json").read_text())
    cfg["class"] = "__loader__"
    (folder / "mini_clap.json").write_text(json.dumps(cfg))
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["mini_clap.json"] = sha256_file(folder / "mini_clap.json")  # a self-consistent hostile folder
    (folder / "manifest.json").write_text(json.dumps(manifest))
    monkeypatch.setenv("SABENCH_MINI_CHECKPOINTS", str(folder))
    with pytest.raises(WeightsError, match="'__loader__' is not a mini model"):
        MiniClap().load()


# --------------------------------------------------------------------- suite loaders

LOADER_CASES = [
    Case("loader os:system", ("generate", "--suite", "suite.yaml", "--system", "sine", "--out", "o"), 2,
         "names code outside the project's suites package", files=tiny_suite(Path("{tmp}"), "os:system")),
    Case("loader outside suites.", ("generate", "--suite", "suite.yaml", "--system", "sine", "--out", "o"), 2,
         "--allow-code", files=tiny_suite(Path("{tmp}"), "evil:load")),
    Case("loader private helper", ("generate", "--suite", "suite.yaml", "--system", "sine", "--out", "o"), 2,
         "names code outside", files=tiny_suite(Path("{tmp}"), "suites.synthcaps.suite_loaders:_private")),
    Case("loader re-exported name", ("generate", "--suite", "suite.yaml", "--system", "sine", "--out", "o"), 2,
         "is not a loader defined in suites.synthcaps.suite_loaders",
         files=tiny_suite(Path("{tmp}"), "suites.synthcaps.suite_loaders:Prompt")),
    Case("loader not taking data_root", ("generate", "--suite", "suite.yaml", "--system", "sine", "--out", "o"), 2,
         "does not take 'data_root'", files=tiny_suite(Path("{tmp}"), "suites.editing.construct:main")),
    Case("registered loader name", ("generate", "--suite", "suite.yaml", "--system", "sine", "--out", "o",
                                    "--quiet"), 0, "2 samples, 0 failure(s)", outcome="handled", files=tiny_suite(Path("{tmp}"))),
]


@pytest.mark.parametrize("case", LOADER_CASES, ids=lambda c: c.name)
def test_suite_loader_cases(case, tmp_path):
    check(case, run_case(case, tmp_path))


def _evil_loader_files(tmp: Path) -> dict[str, str]:
    files = tiny_suite(tmp, "evil:load")
    files["evil.py"] = ("import pathlib\n\ndef load(path, data_root=None):\n"
                        f"    pathlib.Path({str(tmp / 'MARKER')!r}).write_text('ran')\n"
                        "    from harness.suite import load_prompt_file\n"
                        "    return load_prompt_file(path, data_root)\n")
    return files


def test_suite_loader_outside_project_is_not_imported(tmp_path, monkeypatch):
    write_files(_evil_loader_files(tmp_path), tmp_path)
    out = sabench(("generate", "--suite", "suite.yaml", "--system", "sine", "--out", "o"), tmp_path,
                  {"PYTHONPATH": f"{REPO}{os.pathsep}{tmp_path}"})
    check(Case("evil loader", (), 2, "SABENCH_ALLOW_CODE=1"), out)
    assert not (tmp_path / "MARKER").exists()


@pytest.mark.parametrize("trust", [("--allow-code",), ()], ids=["flag", "env"])
def test_allow_code_is_an_explicit_trust_decision(tmp_path, trust):
    write_files(_evil_loader_files(tmp_path), tmp_path)
    env = {"PYTHONPATH": f"{REPO}{os.pathsep}{tmp_path}", **({} if trust else {"SABENCH_ALLOW_CODE": "1"})}
    out = sabench(("generate", *trust, "--suite", "suite.yaml", "--system", "sine", "--out", "o", "--quiet"),
                  tmp_path, env)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "MARKER").read_text() == "ran"


def test_every_builtin_suite_loader_is_allowed(monkeypatch):
    from harness.registry import SUITES, load_catalog
    from harness.suite import load_suite, resolve_loader

    monkeypatch.delenv("SABENCH_ALLOW_CODE", raising=False)
    load_catalog()
    for name in SUITES.names():
        spec = load_suite(name)
        assert callable(resolve_loader(spec.loader, name)), name


# --------------------------------------------------------------------- report escaping

def _table(label: str, text: str = "n/a"):
    from reports.tables import Cell, Column, Table, TableRow

    cols = (Column("clap", "CLAP", True), Column("verdict", "Verdict", None))
    rows = (TableRow(label, (Cell(0.5), Cell(None, text=text)), notes=(1,)),
            TableRow("ok", (Cell(-0.25), Cell(None, text="-1 worse"))))
    return Table("t", "Title <b>", "System", cols, rows, "mini", "s v1", ("note <i>|x",))


def test_markdown_escapes_html_and_pipes():
    from reports import render

    md = render.markdown(_table("<script>alert(1)</script>", "a|b & c ![t](http://x)"))
    assert "<script>" not in md and "<b>" not in md and "<i>" not in md
    assert "&lt;script&gt;alert(1)&lt;/script&gt; [1]" in md
    assert "a\\|b &amp; c !\\[t\\](http://x)" in md and "note &lt;i&gt;\\|x" in md
    assert "| ok | -0.250 | -1 worse |" in md  # numbers and plain text unchanged
    row = next(x for x in md.splitlines() if "script" in x)
    assert row.count(" | ") == 2  # the label's pipe cannot add a column


def test_csv_neutralises_formulas_but_not_numbers():
    import csv
    import io

    from reports import render

    for text in ("=HYPERLINK(\"http://evil\",\"x\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"):
        rows = list(csv.reader(io.StringIO(render.csv_text(_table(text, text)), newline="")))
        want = "'" + text.replace("\r", "\n")  # a CR inside a cell is written as a (quoted) newline
        assert rows[1][2] == want and rows[1][4] == want and len(rows) == 3
        assert rows[2][3] == "-0.25" and rows[2][4] == "'-1 worse"  # numbers stay numbers
    assert render.csv_text_cell("plain") == "plain" and render.csv_text_cell(None) == ""


def test_report_files_escape_labels_through_the_cli(tmp_path):
    """A job row label with HTML and one with a formula: report.md and report.csv stay inert."""
    rows = [{"id": f"p{i}", "text": "<script>alert(2)</script>", "duration": 0.25, "source": "s.wav",
             "reference": "s.wav"}
            for i in range(2)]
    from harness import audio
    from harness.records import Audio

    audio.write(tmp_path / "s.wav", Audio(np.full((1, 4000), 0.1, np.float32), 16000))
    write_files({"prompts.jsonl": "\n".join(json.dumps(r) for r in rows) + "\n",
                 "suite.yaml": f"name: tiny\nversion: '1'\ntask: reconstruct\nprofile: mini\nloader: prompt_file\n"
                               f"loader_args: {{path: {tmp_path / 'prompts.jsonl'}}}\nmetrics: [mel_loss]\n",
                 "job.yaml": "runs:\n  - suites: [suite.yaml]\n    systems:\n"
                             "      - {name: sine, label: '<script>alert(1)</script>'}\n"
                             "      - {name: noise, label: '=HYPERLINK(\"http://x\",\"y\")'}\n"}, tmp_path)
    out = sabench(("run", "--job", "job.yaml", "--out", "out", "--quiet"), tmp_path)
    assert out.returncode == 0, out.stderr
    md = (tmp_path / "out" / "report.md").read_text()
    assert "<script>" not in md and "&lt;script&gt;alert(1)&lt;/script&gt;" in md
    csv_text = (tmp_path / "out" / "report.csv").read_text()
    assert "'=HYPERLINK" in csv_text and ",=HYPERLINK" not in csv_text and '"=HYPERLINK' not in csv_text


# --------------------------------------------------------------------- file permissions

@pytest.fixture
def umask():
    old = os.umask(0o022)
    os.umask(old)

    def set_mask(mask: int) -> None:
        os.umask(mask)

    yield set_mask
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("mask, want", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_atomic_writes_honour_the_umask(tmp_path, umask, mask, want):
    from harness import audio
    from harness.artifacts import ArtifactStore
    from harness.paths import atomic_write_bytes, default_file_mode
    from harness.records import Audio

    umask(mask)
    assert default_file_mode() == want
    atomic_write_bytes(tmp_path / "a.bin", b"x")
    clip = Audio(np.zeros((1, 160), np.float32), 16000)
    audio.write(tmp_path / "b.wav", clip)
    sample = ArtifactStore(tmp_path / "store").put_audio("ab" + "0" * 30, clip)
    files = [tmp_path / "a.bin", tmp_path / "b.wav", Path(sample.path)]
    files += [p for p in (tmp_path / "store").rglob("*") if p.is_file()]
    assert len(files) >= 4
    assert {p.name: _mode(p) for p in files} == {p.name: want for p in files}


def test_checkpoint_files_honour_the_umask(tmp_path, umask):
    from systems.semanticaudio.checkpoint import _atomic_write

    umask(0o022)
    _atomic_write(tmp_path / "c" / "config.json", lambda p: Path(p).write_text("{}"))
    assert _mode(tmp_path / "c" / "config.json") == 0o644


def test_cli_outputs_are_readable_by_the_group_under_umask_022(tmp_path, umask):
    write_files(tiny_suite(tmp_path), tmp_path)
    umask(0o022)  # inherited by the subprocess
    out = sabench(("generate", "--suite", "suite.yaml", "--system", "sine", "--out", "o", "--quiet",
                   "--to", "export"), tmp_path)
    assert out.returncode == 0, out.stderr
    made = [p for p in (tmp_path / "o").rglob("*") if p.is_file() and p.suffix in (".wav", ".flac", ".json")]
    made += [p for p in (tmp_path / "export").rglob("*") if p.is_file()]
    assert made and all(_mode(p) & 0o044 == 0o044 for p in made), {str(p): oct(_mode(p)) for p in made}


def test_key_derivation_refuses_targets_outside_the_original_checkout():
    """The SemanticVocoder key-derivation tool reads a downloaded config.json: its `_target_`
    nodes may only name the original checkout's `models.` package."""
    from systems.semanticvocoder.keys.derive import instantiate

    for target in ("os.system", "runpy.run_path", "models._private"):
        with pytest.raises(SystemExit, match="outside the original checkout"):
            instantiate({"_target_": target, "command": "touch MARKER"})
    assert instantiate({"a": [1, {"b": 2}]}) == {"a": [1, {"b": 2}]}  # plain nodes pass through


@pytest.mark.parametrize("edit, fragment", [
    (lambda cfg: "{not json", "is not valid JSON"),
    (lambda cfg: json.dumps([1, 2]), "unknown checkpoint format None"),
    (lambda cfg: json.dumps({**cfg, "model": {**cfg["model"], "dit": {"bogus": 1}}}), "bad model config (TypeError"),
    (lambda cfg: json.dumps({**cfg, "model": {}}), "bad model config (KeyError"),
])
def test_corrupt_checkpoint_config_is_one_line(tmp_path, edit, fragment):
    weights = hostile_weights(tmp_path, "mini")
    cfg_path = weights / "semanticaudio" / "base" / "config.json"
    cfg_path.write_text(edit(json.loads(cfg_path.read_text())))
    write_files(tiny_suite(tmp_path), tmp_path)
    out = sabench(("generate", "--suite", "suite.yaml", "--system", "base-model", "--weights", "W",
                   "--out", "out", "--quiet"), tmp_path)
    check(Case("corrupt checkpoint config", (), 2, fragment), out)
    assert "config.json" in out.stderr and not (tmp_path / "MARKER").exists()
