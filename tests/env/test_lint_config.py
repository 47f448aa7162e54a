"""The linter and type checker: pinned to what is installed, configured once, run by CI first."""

from __future__ import annotations

import importlib.metadata as md
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _pins(specs: list[str]) -> dict[str, str]:
    return {m.group(1).lower(): m.group(2) for s in specs if (m := re.fullmatch(r"\s*([\w-]+)==([\w.]+)\s*", s))}


def test_lint_tools_pinned_to_the_installed_versions():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    extra = _pins(project["project"]["optional-dependencies"]["test"])
    req = _pins((ROOT / "requirements" / "test.txt").read_text().splitlines())
    for tool in ("ruff", "mypy"):
        assert req[tool] == extra[tool] == md.version(tool), tool


def test_type_check_scope_and_ci_order():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]
    assert cfg["mypy"]["files"] == ["harness", "reports"] and cfg["mypy"]["check_untyped_defs"] is True
    silent = [o for o in cfg["mypy"]["overrides"] if o.get("follow_imports") == "silent"]
    assert silent and set(silent[0]["module"]) == {"systems.*", "suites.*"}
    assert cfg["ruff"]["line-length"] == 120 and {"E", "F", "W", "I", "B"} <= set(cfg["ruff"]["lint"]["select"])
    steps = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert steps.index("make lint") < steps.index("make test")
    target = (ROOT / "Makefile").read_text().split("\nlint:", 1)[1].split("\n\n", 1)[0]
    assert "ruff check" in target and "mypy" in target
