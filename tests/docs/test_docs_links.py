"""The docs stand alone: no link or path outside the repository (a user's machine has no
../shared), and every relative Markdown link points at a file that exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted([ROOT / "README.md", *ROOT.glob("docs/*.md"), *ROOT.glob("suites/*/README.md"),
               *ROOT.glob("reports/README.md"), *ROOT.glob("requirements/README.md")])
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_doc_stays_inside_the_repo(doc):
    text = doc.read_text(encoding="utf-8")
    assert "../shared" not in text, f"{doc.name} points outside the repository"
    for target in LINK.findall(text):
        if re.match(r"^[a-z]+:", target):  # http(s):, mailto: ... (external sites are fine)
            continue
        path = (doc.parent / target).resolve()
        assert path.is_relative_to(ROOT), f"{doc.name}: link {target} leaves the repository"
        assert path.exists(), f"{doc.name}: link {target} points at nothing"


def test_mini_world_loader_signatures_match_the_code():
    """docs/mini_world.md lists the suite loaders with their real signatures."""
    import importlib
    import inspect

    text = (ROOT / "docs" / "mini_world.md").read_text(encoding="utf-8")
    found = re.findall(r"^(suites\.synthcaps\.suite_loaders):(\w+)\((.*)\)$", text, flags=re.M)
    assert {f for _, f, _ in found} == {"generation", "tta", "reconstruction", "editing"}
    for module, name, args in found:
        fn = getattr(importlib.import_module(module), name)
        documented = [a.split("=")[0].strip() for a in args.split(",")]
        assert documented == list(inspect.signature(fn).parameters), name


def test_no_merge_conflict_markers_in_the_repository():
    import subprocess

    out = subprocess.run(["git", "grep", "-n", "-E", "^(<<<<<<<|>>>>>>>) "], cwd=ROOT, capture_output=True,
                         text=True)
    if out.returncode not in (0, 1):  # 1: no match; anything else: not a git checkout
        pytest.skip("not a git checkout")
    assert out.stdout == "", out.stdout


def _readme_commands() -> list[tuple[str, list[str]]]:
    """(subcommand words, options) of every `sabench ...` line in the README's code blocks,
    with backslash continuations joined."""
    text = (ROOT / "README.md").read_text(encoding="utf-8").replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        m = re.search(r"(?:\.venv/bin/)?\bsabench ((?:[a-z]+ ?)+)(.*)$", line.strip())
        if not line.startswith("    ") or not m:
            continue
        words = m.group(1).split()
        opts = re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", m.group(2).split("#")[0])
        out.append((words, opts))
    return out


def test_every_option_the_readme_uses_is_in_that_commands_help():
    """`--help` of each command lists every option the README shows for it (gate and report too)."""
    import subprocess
    import sys

    cmds = _readme_commands()
    assert {w[0] for w, _ in cmds} >= {"run", "score", "report", "gate", "generate", "doctor", "listen"}
    for words, opts in cmds:
        sub = words[:2] if words[0] in ("weights", "data", "mini") else words[:1]
        help_text = subprocess.run([sys.executable, "-m", "harness.cli", *sub, "--help"], capture_output=True,
                                   text=True, timeout=120, cwd=ROOT).stdout
        missing = [o for o in opts if o not in help_text]
        assert not missing, f"`sabench {' '.join(sub)} --help` does not list {missing}"


def test_report_help_lists_every_report_builder_option():
    import argparse
    import subprocess
    import sys
    from unittest import mock

    from reports import build

    seen: list[str] = []
    real = argparse.ArgumentParser.add_argument

    def spy(self, *names, **kw):
        seen.extend(n for n in names if n.startswith("--"))
        return real(self, *names, **kw)
    with mock.patch.object(argparse.ArgumentParser, "add_argument", spy):
        build._parse_argv([])
    help_text = subprocess.run([sys.executable, "-m", "harness.cli", "report", "--help"], capture_output=True,
                               text=True, timeout=120, cwd=ROOT).stdout
    assert seen and all(o in help_text for o in seen), [o for o in seen if o not in help_text]
