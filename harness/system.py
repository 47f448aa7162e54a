"""The `System` interface: every generator is an adapter with batch methods.

A system is constructed cheaply (no weights), `load()`ed once, then called with batches.
`generate` is required; `edit` and `reconstruct` are optional capabilities.
Outputs are `Audio` at the system's native sample rate and channel count; the harness
resamples and down-mixes (in `harness.audio`) for each metric's recipe.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from harness.errors import CapabilityError
from harness.records import Audio, EditRequest, GenerationRequest, ReconstructRequest, SystemInfo


class System(ABC):
    """Base class for generators.

    Subclasses set `name` and implement `info`, `load` and `generate`; they override
    `edit` / `reconstruct` where they can and list them in `capabilities`.
    """

    name: str = "system"
    capabilities: frozenset[str] = frozenset({"generate"})
    batch_size: int = 8
    """Largest batch the runner passes in one call."""

    def __init__(self, **params: Any):
        self.params = dict(params)

    @property
    @abstractmethod
    def info(self) -> SystemInfo:
        """Identity: name, version, checkpoint sha256, native rate, parameters."""

    def load(self) -> None:  # noqa: B027 - optional hook: systems without weights keep this no-op
        """Load weights (idempotent). Construction must stay cheap."""

    @abstractmethod
    def generate(self, requests: Sequence[GenerationRequest]) -> list[Audio]:
        """Render each request; output i answers request i. Must honour request.seed."""

    def edit(self, requests: Sequence[EditRequest], sources: Sequence[Audio]) -> list[Audio]:
        """Edit sources[i] according to requests[i] (source text -> target text)."""
        raise CapabilityError(self.name, "this system cannot edit audio",
                              "choose a system whose capabilities include 'edit'")

    def reconstruct(self, requests: Sequence[ReconstructRequest], inputs: Sequence[Audio]) -> list[Audio]:
        """Encode and decode inputs[i] (the reconstruction suite's path)."""
        raise CapabilityError(self.name, "this system cannot reconstruct audio",
                              "choose a system whose capabilities include 'reconstruct'")
