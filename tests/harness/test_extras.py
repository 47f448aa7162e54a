"""Optional backends (harness.extras): a missing package is one line naming the extra; every
`require(...)` in the code names an extra that pyproject.toml declares with that package; no
module imports a heavy backend outside `require` (so the core installs without them)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

import pytest

from harness.extras import DISTRIBUTIONS, EXTRAS, MissingExtraError, ensure_installed, require

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("harness", "systems", "suites", "reports")
HEAVY = set(DISTRIBUTIONS) - {"tokenizers"}
"""Import names that only an extra installs."""
MAINTAINER_SCRIPTS = {"systems/tangoflux/keys/derive.py", "systems/semanticvocoder/keys/derive.py"}
"""Offline key-derivation scripts run by maintainers beside the original repositories."""
OWN_GUARD = {"harness/executors/ray.py"}
"""Modules that wrap their backend import in their own one-line error naming the extra
(`harness.executors.ray.import_ray`: `pip install 'sabench[ray]'`)."""


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _names(reqs: list[str]) -> set[str]:
    """Distribution names of requirement strings; `sabench[a,b]` expands to those extras."""
    opt = _pyproject()["project"]["optional-dependencies"]
    out: set[str] = set()
    for r in reqs:
        own = re.fullmatch(r"sabench\[([\w,\s-]+)\]", r.strip())
        if own:
            out |= _names([q for e in own.group(1).split(",") for q in opt[e.strip()]])
        else:
            out.add(re.split(r"[\s\[<>=!~;]", r, maxsplit=1)[0].lower().replace("_", "-"))
    return out


def _sources():
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            yield path.relative_to(ROOT).as_posix(), ast.parse(path.read_text())


def test_missing_package_is_one_line_naming_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "diffusers", None)  # import raises ModuleNotFoundError
    with pytest.raises(MissingExtraError) as err:
        require("diffusers", extra="tangoflux", item="system tangoflux")
    line = err.value.one_line()
    assert line == ("system tangoflux: needs the diffusers package, which is not installed "
                    "(fix: pip install 'sabench[tangoflux]')")
    for name in ("dac", "dac.model", "dac.model.dac"):  # blocked even if imported before
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(MissingExtraError, match=r"descript-audio-codec package.*sabench\[dac\]"):
        require("dac.model.dac", extra="dac")


def test_installed_but_broken_package_says_so(monkeypatch, tmp_path):
    (tmp_path / "pyloudnorm").mkdir()
    (tmp_path / "pyloudnorm" / "__init__.py").write_text("raise ImportError('libfoo.so: cannot open')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "pyloudnorm", raising=False)
    with pytest.raises(MissingExtraError) as err:
        require("pyloudnorm", extra="listen")
    assert "pyloudnorm is installed but does not import (libfoo.so: cannot open)" in err.value.one_line()
    assert "pip install 'sabench[listen]'" in err.value.one_line()


def test_ensure_installed_does_not_import(monkeypatch, tmp_path):
    (tmp_path / "laion_clap").mkdir()
    (tmp_path / "laion_clap" / "__init__.py").write_text("raise RuntimeError('imported')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "laion_clap", raising=False)
    ensure_installed("laion_clap", extra="clap")  # found, not executed
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    with pytest.raises(MissingExtraError, match=r"laion-clap package.*sabench\[clap\]"):
        ensure_installed("laion_clap", extra="clap")


def test_require_refuses_an_extra_that_does_not_provide_the_module():
    with pytest.raises(ValueError, match="does not provide"):
        require("diffusers", extra="listen")
    with pytest.raises(ValueError, match="no extra provides"):
        require("json", extra="all")


def test_listen_server_without_starlette_names_the_listen_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "starlette", None)
    monkeypatch.delitem(sys.modules, "harness.listen.server", raising=False)
    monkeypatch.delitem(sys.modules, "harness.listen.exchange", raising=False)
    with pytest.raises(MissingExtraError, match=r"sabench listen: needs the starlette.*sabench\[listen\]"):
        import harness.listen.exchange  # noqa: F401  (imports the server module)


def _require_calls():
    for rel, tree in _sources():
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and rel != "harness/extras.py"
                    and node.func.id in ("require", "require_extra", "ensure_installed")):
                module = node.args[0].value if node.args and isinstance(node.args[0], ast.Constant) else None
                extra = next((k.value.value for k in node.keywords if k.arg == "extra"
                              and isinstance(k.value, ast.Constant)), None)
                yield rel, module, extra


def test_every_require_names_a_declared_extra_listing_the_package():
    opt = _pyproject()["project"]["optional-dependencies"]
    calls = list(_require_calls())
    assert len(calls) >= 20  # the backends' import sites (found, not silently zero)
    for rel, module, extra in calls:
        if extra is None:  # a pass-through parameter (adapterkit's `extra`)
            continue
        assert extra in opt, f"{rel}: extra {extra!r} not in pyproject.toml"
        dist = DISTRIBUTIONS[module.split(".")[0]]
        assert dist in _names(opt[extra]), f"{rel}: [{extra}] does not install {dist}"


def test_extras_table_matches_pyproject():
    opt = _pyproject()["project"]["optional-dependencies"]
    for extra, modules in EXTRAS.items():
        assert extra in opt, extra
        assert {DISTRIBUTIONS[m] for m in modules} <= _names(opt[extra]), extra
    all_names = _names(opt["all"])
    # [all] is every backend that resolves together: msclap's declared transformers<5 cannot
    # (docs/install.md: msclap on top, --no-deps)
    for extra, modules in EXTRAS.items():
        want = {DISTRIBUTIONS[m] for m in modules} - {"msclap"}
        assert want <= all_names, f"[all] lacks {want - all_names} of [{extra}]"
    assert "msclap" not in all_names


def test_core_dependencies_have_no_heavy_backend():
    core = _names(_pyproject()["project"]["dependencies"])
    assert not core & {DISTRIBUTIONS[m] for m in HEAVY}, core & {DISTRIBUTIONS[m] for m in HEAVY}
    assert "torch" in core and "torchaudio" not in core


def test_no_heavy_import_outside_require():
    """Heavy packages are imported only through harness.extras (module level or in functions);
    the listen server's module-level starlette imports follow its own `require` line."""
    bad = []
    for rel, tree in _sources():
        if rel in MAINTAINER_SCRIPTS or rel in OWN_GUARD:
            continue
        typing_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
                       and ast.unparse(block.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")
                       for stmt in block.body for n in ast.walk(stmt)}  # never run
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level
                     else [])
            heavy = [n for n in names if n.split(".")[0] in HEAVY]
            if heavy and not (rel == "harness/listen/server.py" and heavy[0].startswith("starlette")):
                bad.append(f"{rel}:{node.lineno} {heavy}")
    assert not bad, bad
