"""Request builders for adapter tests (imported as `_adapter_kit`)."""

from __future__ import annotations

from harness.records import EditRequest, GenerationRequest, Prompt, ReconstructRequest


def gen(text: str, seed: int, duration: float = 0.3, pid: str = "p") -> GenerationRequest:
    return GenerationRequest(Prompt(pid, text, duration=duration), seed=seed)


def edit_req(src_text: str | None, tar_text: str, seed: int = 3, duration: float = 0.3) -> EditRequest:
    p = Prompt("e", tar_text, duration=duration, source="src.wav", source_text=src_text)
    return EditRequest(p, source_sha256="0" * 64, seed=seed)


def rec_req(pid: str = "r") -> ReconstructRequest:
    return ReconstructRequest(Prompt(pid, "", reference="ref.wav"), source_sha256="0" * 64)


def export_original(env_var: str, system: str, paths: tuple[str, ...], tmp_path_factory):
    """`git archive HEAD <paths>` of the original code whose git dir `$env_var` names, extracted
    into a fresh temporary folder (never into the repository); skips the test when unset."""
    import os
    import subprocess
    from pathlib import Path

    import pytest

    git_dir = Path(os.environ.get(env_var, "/nonexistent"))
    if not (git_dir / "HEAD").exists() and not (git_dir / ".git").exists():
        pytest.skip(f"original {system} checkout not available (set {env_var})")
    dest = tmp_path_factory.mktemp(f"orig_{system.lower()}")
    archive = subprocess.run(["git", "--git-dir", str(git_dir), "archive", "HEAD", *paths],
                             capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return dest
