"""The CLI is the top layer: no library module imports `harness.cli` (parsed with ast)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = {"harness/cli.py", "harness/__main__.py"}


def cli_imports(source: str) -> list[int]:
    """Line numbers of imports of harness.cli (`import harness.cli`, `from harness.cli import x`,
    `from harness import cli`), at any depth (function-local imports count too)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import) and any(a.name == "harness.cli" or a.name.startswith("harness.cli.")
                                                for a in node.names):
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "harness.cli" or (node.module == "harness" and any(a.name == "cli" for a in node.names)):
                lines.append(node.lineno)
    return lines


def test_detector_sees_every_form():
    src = "import harness.cli\nfrom harness.cli import main\ndef f():\n    from harness import cli, job\n" \
          "import harness.clip\nfrom harness import client\n"
    assert cli_imports(src) == [1, 2, 4]


def test_no_library_module_imports_the_cli():
    offenders = []
    for package in ("harness", "systems", "suites", "reports"):
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel in ALLOWED:
                continue
            offenders += [f"{rel}:{n}" for n in cli_imports(path.read_text(encoding="utf-8"))]
    assert offenders == [], "library code imports harness.cli (move the helper to a library module): " \
                            + ", ".join(offenders)
