"""Device names for models (systems and metric backbones): one parser, one error message."""

from __future__ import annotations

from harness.errors import SabenchError


def resolve_device(system: str, value: object) -> str:
    """A system's `device` parameter: "cpu", "cuda", "cuda:N", "mps", or "auto" (= "cuda" when
    available, else "cpu"). The resolved name is what gets recorded (numerics differ by device)."""
    import torch

    name = str(value)
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(name)
    except RuntimeError as exc:
        raise SabenchError(system, f"unknown device {name!r}", "use cpu, cuda, cuda:N, mps or auto") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise SabenchError(system, f"device {name!r} requested but CUDA is not available",
                           "pass device=cpu (or device=auto)")
    return name
