"""The metric interface.

A metric receives the run's `EvalItem`s and a `MetricContext` that hands out cached,
batched backbone outputs. Two kinds:

- item metrics return one value per item (`MetricOutput.per_item`); the runner aggregates
  them as a mean with a bootstrap 95% CI;
- set metrics (FD, IS, ...) stream batches from the context, accumulate in float64 and
  return one `value` per run.

Numerics live in pure functions (`harness.metrics.numerics`) so they can be tested against
closed forms; metric classes only wire backbones to numerics.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from harness.records import AudioRecipe, MetricInfo, Prompt


@dataclass(frozen=True)
class EvalItem:
    """One scored row: the prompt and the audio files that belong to it."""

    item_id: str
    prompt: Prompt
    output: str | None = None
    """Path of the system's output (generated, edited or reconstructed audio)."""
    reference: str | None = None
    """Reference / ground-truth / reconstruction-input audio path."""
    source: str | None = None
    """Editing: the source audio path."""

    def path(self, role: str) -> str | None:
        return {"output": self.output, "reference": self.reference, "source": self.source}[role]


class MetricContext(Protocol):
    """What the runner offers metrics. Embeddings are cached by content + backbone + recipe."""

    profile: str

    def backbone(self, name: str) -> Any:
        """The loaded backbone object (registry name)."""

    def embed_audio(self, backbone: str, paths: Sequence[str]) -> Iterator[tuple[list[int], dict[str, np.ndarray]]]:
        """Yield (indices into `paths`, outputs) batch by batch, in order."""

    def embed_text(self, backbone: str, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), D) text embeddings."""

    def load_audio(self, path: str, recipe: AudioRecipe) -> np.ndarray:
        """A mono float32 waveform shaped by `recipe`."""


@dataclass
class MetricOutput:
    per_item: dict[str, float] = field(default_factory=dict)
    value: float | None = None
    extras: dict[str, Any] = field(default_factory=dict)


class Metric(ABC):
    """Base class. Subclasses set `info` (or build it in __init__) and `roles`."""

    roles: tuple[str, ...] = ("output",)
    """Which audio roles of an EvalItem must be present."""

    @property
    @abstractmethod
    def info(self) -> MetricInfo: ...

    @property
    def name(self) -> str:
        return self.info.name

    @abstractmethod
    def compute(self, ctx: MetricContext, items: Sequence[EvalItem]) -> MetricOutput: ...
