"""Every `from <project package> import name` in the repo names something that exists.

Function-local imports are only executed by the tests that reach them (some only under Ray or
at slow-test time), so a rename can leave one dangling until CI: this checks them all statically.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("harness", "systems", "suites", "reports")
FOLDERS = (*PACKAGES, "tests", "benchmarks", "scripts")


def _imports():
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if ".venv" in path.parts:
                continue
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                        and node.module.split(".")[0] in PACKAGES:
                    yield path.relative_to(ROOT), node.module, [a.name for a in node.names]


def _missing(module: str, names: list[str]) -> list[str]:
    mod = importlib.import_module(module)
    out = []
    for name in names:
        if name == "*" or hasattr(mod, name):
            continue
        try:
            importlib.import_module(f"{module}.{name}")
        except ImportError:
            out.append(name)
    return out


def test_every_project_import_names_something_that_exists():
    problems = []
    for path, module, names in _imports():
        try:
            missing = _missing(module, names)
        except ImportError as exc:  # an optional backend absent is fine; a project module absent is not
            if exc.name and exc.name.split(".")[0] in PACKAGES:
                problems.append(f"{path}: {module} ({exc})")
            continue
        problems += [f"{path}: from {module} import {name}" for name in missing]
    assert not problems, "dangling imports:\n" + "\n".join(problems)


def test_the_check_sees_a_dangling_import():
    assert _missing("harness.runner", ["produce_samples", "no_such_name_here"]) == ["no_such_name_here"]
