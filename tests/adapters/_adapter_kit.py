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
