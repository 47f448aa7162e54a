"""`pip install <wheel>` where users' models live: the wheel built from the tracked files holds
every runtime file, and installed into a clean venv (outside the repository, no torchaudio,
no backends, the machine's CPU torch 2.13.0 and numpy 2) it runs `sabench doctor`, the default
job at --limit size, the report, and reproduces the committed mini baseline.

Installs only from a local wheelhouse (`pip install --no-index`); the wheelhouse is filled
once by `pip download` (local files first: pip's find-links/cache) and kept in
$SABENCH_WHEELHOUSE (default ~/.cache/sabench-ci/wheelhouse), so later runs download nothing.
"""

from __future__ import annotations

import email.parser
import os
import shutil
import subprocess
import sys
import time
import venv
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("harness", "systems", "suites", "reports")
TORCH = os.environ.get("SABENCH_WHEEL_TORCH", "torch==2.13.0")
"""The torch of the clean venv: the CPU build this machine keeps on disk (docs/install.md)."""
EXTRAS = "listen"
"""Installed with the wheel: the one light extra (the others pull torchaudio, which has no
release for torch 2.13; they are covered by the pinned route)."""


def _tracked() -> list[str]:
    out = subprocess.run(["git", "ls-files", *PACKAGES], cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip("not a git checkout")
    return [line for line in out.stdout.splitlines() if line]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel built (pip, isolated build) from a copy of the tracked files."""
    src = tmp_path_factory.mktemp("src")
    files = _tracked() + ["pyproject.toml", "README.md"]
    for rel in files:
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, src / rel)
    dist = tmp_path_factory.mktemp("dist")
    _pip(sys.executable, "wheel", "--no-deps", "-w", str(dist), str(src), timeout=300)
    (whl,) = dist.glob("sabench-*.whl")
    return whl


def _pip(python: str, *args: str, timeout: int = 600, check: bool = True) -> subprocess.CompletedProcess:
    out = subprocess.run([python, "-m", "pip", "-q", "--disable-pip-version-check", *args],
                         capture_output=True, text=True, timeout=timeout)
    if check:
        assert out.returncode == 0, f"pip {' '.join(args)}:\n{out.stderr[-3000:]}"
    return out


def test_wheel_holds_every_tracked_runtime_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    tracked = _tracked()
    by_ext = {}
    for rel in tracked:
        by_ext.setdefault(rel.rsplit(".", 1)[-1], []).append(rel)
    assert {"py", "yaml", "json", "safetensors", "md"} <= set(by_ext)  # the kinds there are
    missing = [rel for rel in tracked if rel not in names]
    assert not missing, f"tracked files absent from the wheel: {missing}"
    assert not [n for n in names if n.startswith(("tests/", "docs/", "scripts/"))]


def test_wheel_metadata_core_and_extras(wheel):
    meta_name = next(n for n in zipfile.ZipFile(wheel).namelist() if n.endswith(".dist-info/METADATA"))
    meta = email.parser.Parser().parsestr(zipfile.ZipFile(wheel).read(meta_name).decode())
    core = [r for r in meta.get_all("Requires-Dist") if "extra ==" not in r]
    assert any(r.startswith("torch>=") for r in core)
    assert not [r for r in core if r.split(">")[0].split("=")[0].split("<")[0].strip() in
                ("torchaudio", "transformers", "diffusers", "msclap", "laion-clap", "starlette")]
    extras = set(meta.get_all("Provides-Extra"))
    assert {"clap", "msclap", "aesthetics", "panns", "dac", "tangoflux", "ray", "listen", "all"} <= extras


def _wheelhouse() -> Path:
    env = os.environ.get("SABENCH_WHEELHOUSE", "").strip()
    path = Path(env) if env else Path.home() / ".cache" / "sabench-ci" / "wheelhouse"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _install(py: str, wheel: Path) -> float:
    """Install torch + the wheel with its extra from the wheelhouse only; returns seconds."""
    start, house = time.monotonic(), _wheelhouse()
    want = [TORCH, f"{wheel}[{EXTRAS}]"]
    offline = ["install", "--no-index", "--find-links", str(house), *want]
    if _pip(py, *offline, check=False).returncode != 0:  # first run: fill the wheelhouse
        _pip(py, "download", "-d", str(house), *want, timeout=1200)
        _pip(py, *offline)
    return time.monotonic() - start


def _sabench(venv_dir: Path, cwd: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(venv_dir / "bin" / "sabench"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=900)


def test_wheel_runs_in_a_clean_venv(wheel, tmp_path):
    vdir = tmp_path / "venv"
    venv.create(vdir, with_pip=True, system_site_packages=False)
    py = str(vdir / "bin" / "python")
    seconds = _install(py, wheel)
    print(f"clean venv install: {seconds:.0f} s")
    work = tmp_path / "elsewhere"  # not the repository: only the installed package is importable
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "SABENCH_", "VIRTUAL_ENV"))}
    env.update(SABENCH_CACHE=str(tmp_path / "cache"), SABENCH_SHARED=str(tmp_path / "no-shared"))
    probe = subprocess.run(
        [py, "-c", "import harness, importlib.util as u, torch, numpy; print(harness.__file__); "
                   "print(torch.__version__, numpy.__version__); "
                   "print([m for m in ('torchaudio', 'transformers', 'diffusers', 'laion_clap', 'msclap', 'dac') "
                   "if u.find_spec(m)])"],
        cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert probe.returncode == 0, probe.stderr
    where, versions, heavy = probe.stdout.splitlines()
    assert Path(where).resolve().is_relative_to(vdir.resolve()), where
    if "==" in TORCH:
        assert versions.split()[0].startswith(TORCH.split("==")[-1]), versions
    assert heavy == "[]", f"backends installed with the core: {heavy}"

    doctor = _sabench(vdir, work, env, "doctor", "--out", "out")
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "torchaudio             not installed (pip install 'sabench[semanticvocoder]')" in doctor.stdout

    run = _sabench(vdir, work, env, "run", "--limit", "10", "--quiet", "--out", "out")
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    report = _sabench(vdir, work, env, "report", "--out", "out")
    assert report.returncode == 0, report.stderr[-2000:]
    assert (work / "out" / "report.md").read_text().count("reference-echo") >= 1

    gate = subprocess.run([py, "-m", "suites.synthcaps.gate"], cwd=work, env=env, capture_output=True,
                          text=True, timeout=900)
    assert gate.returncode == 0, gate.stdout[-3000:] + gate.stderr[-2000:]
