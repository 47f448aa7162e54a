"""The mini world is one package (`suites/synthcaps/`) that only plugs in: nothing in harness/,
systems/ or reports/ imports it (parsed with ast, at any depth); they reach its backbones,
metrics, suites, encoders, checkpoints and trainer through the registries its catalog fills."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MINI = "suites.synthcaps"
LAYERS = ("harness", "systems", "reports")


def _names(module: str) -> bool:
    return module == MINI or module.startswith(MINI + ".")


def mini_imports(source: str) -> list[int]:
    """Line numbers that import the mini package: `import suites.synthcaps[.x]`,
    `from suites.synthcaps[.x] import y`, `from suites import synthcaps`, and
    `import_module("suites.synthcaps...")` / `__import__(...)` with a literal name."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import) and any(_names(a.name) for a in node.names):
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if _names(node.module) or (node.module == "suites" and any(a.name == "synthcaps" for a in node.names)):
                lines.append(node.lineno)
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            fn = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            arg = node.args[0].value
            if fn in ("import_module", "__import__") and isinstance(arg, str) and _names(arg):
                lines.append(node.lineno)
    return lines


def test_detector_sees_every_form():
    src = ("import suites.synthcaps\nfrom suites.synthcaps.weights import verify\n"
           "def f():\n    from suites import synthcaps, editing\n"
           "import importlib\nimportlib.import_module('suites.synthcaps.catalog')\n"
           "import suites.synthcapsx\nfrom suites import editing\nfrom . import synthcaps\n"
           "x = 'suites.synthcaps.mini_encoders:mini_encoders'\n")
    assert mini_imports(src) == [1, 2, 4, 6]


def test_no_harness_systems_or_reports_module_imports_the_mini_world():
    offenders = []
    for package in LAYERS:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            offenders += [f"{rel}:{n}" for n in mini_imports(path.read_text(encoding="utf-8"))]
    assert offenders == [], "these modules import the mini world (use a registry entry instead): " \
                            + ", ".join(offenders)


def test_the_old_mini_backbone_package_is_gone():
    assert not (ROOT / "harness" / "backbones" / "mini").exists()
    assert (ROOT / "suites" / "synthcaps" / "backbones" / "backbones.py").is_file()


def test_every_mini_registration_points_into_the_package_and_imports_no_torch():
    code = (
        "import sys\n"
        "from harness.registry import (BACKBONES, ENCODER_BUNDLES, METRICS, PROFILE_CHECKPOINTS, SUITES,\n"
        "                              TRAINERS, load_catalog)\n"
        "load_catalog()\n"
        "assert 'torch' not in sys.modules\n"
        "names = {'BACKBONES': [n for n in BACKBONES.names() if n.startswith('mini_')],\n"
        "         'METRICS': [n for n in METRICS.names() if n.startswith('mini_')],\n"
        "         'SUITES': [n for n in SUITES.names() if n.startswith('mini-')],\n"
        "         'ENCODER_BUNDLES': ['mini'], 'PROFILE_CHECKPOINTS': ['mini'], 'TRAINERS': ['mini']}\n"
        "for reg, ns in names.items():\n"
        "    for n in ns:\n"
        "        print(reg, n, globals()[reg].target(n))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    rows = [line.split() for line in out.stdout.splitlines()]
    counts = {reg: sum(r[0] == reg for r in rows) for reg in {r[0] for r in rows}}
    assert counts == {"BACKBONES": 5, "METRICS": 6, "SUITES": 4, "ENCODER_BUNDLES": 1,
                      "PROFILE_CHECKPOINTS": 1, "TRAINERS": 1}
    assert all(target.startswith(MINI + ".") for _, _, target in rows), rows
