"""The `Backbone` interface (fadtk-style: small, batch-in / batch-out).

`embed(batch)` receives waveforms already shaped by `harness.audio` with the backbone's
`recipe` (mono, resampled to `recipe.sample_rate`, length policy applied), and returns a dict
of named outputs, each an array with one row per input, e.g.
`{"embedding": (B, 2048), "logits": (B, 527)}`.
Text-audio backbones also implement `embed_text(texts) -> (B, D)`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np

from harness.records import AudioRecipe, BackboneInfo


class Backbone(ABC):
    name: str = "backbone"
    outputs: tuple[str, ...] = ("embedding",)
    batch_size: int = 16

    _recipe: AudioRecipe

    @property
    def recipe(self) -> AudioRecipe:
        """How audio is shaped before `embed` (recorded in every result); set `_recipe`."""
        return self._recipe

    @property
    @abstractmethod
    def info(self) -> BackboneInfo:
        """Name, checkpoint sha256, sample rate and recipe."""

    @abstractmethod
    def load(self) -> None:
        """Load weights (idempotent). Raises WeightsError naming a missing/corrupt file."""

    defers_load: bool = False
    """True when `identify()` makes `info` final without building the model and `embed` /
    `embed_text` call `load()` themselves: a run whose clips are all cached never builds it
    (`harness.context.RunContext.backbone`)."""

    def identify(self) -> None:
        """Make `info` final (checkpoint located and hashed). Default: `load()`."""
        self.load()

    @abstractmethod
    def embed(self, batch: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
        """batch: list of (T_i,) float32 mono waveforms at recipe.sample_rate."""

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        raise NotImplementedError(f"{self.name} has no text tower")
