"""SynthCaps splits: deterministic lists of clips from one corpus seed.

Clip i of split s has scene seed `derive_seed(config.seed, s, i)`, so a split's content does
not depend on the other splits' sizes, and the same config gives identical bytes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from harness.hashing import sha256_json
from harness.seeding import derive_seed
from suites.synthcaps.captions import captions
from suites.synthcaps.render import Rendered, render
from suites.synthcaps.scene import Scene, sample_scene

SPLITS = ("train", "test", "reconstruction")
SCHEMA = "synthcaps-2"
"""Bump when the generator changes so cached audio is not reused across versions."""


@dataclass(frozen=True)
class CorpusConfig:
    """Every knob that changes the corpus (its hash names the cache folder)."""

    seed: int = 0
    duration: float = 4.0
    """Clip length in seconds (4 s keeps training of all mini backbones within minutes)."""
    n_train: int = 2000
    n_test: int = 300
    n_reconstruction: int = 100
    edit_pairs_per_category: int = 10

    def size(self, split: str) -> int:
        if split not in SPLITS:
            raise ValueError(f"unknown SynthCaps split {split!r}; use one of {SPLITS}")
        return {"train": self.n_train, "test": self.n_test,
                "reconstruction": self.n_reconstruction}[split]

    def id(self) -> str:
        return sha256_json({"schema": SCHEMA, **asdict(self)})[:12]


@dataclass(frozen=True)
class Clip:
    """One corpus row (audio is rendered on demand with `Clip.render()`)."""

    id: str
    split: str
    scene: Scene
    caption: str
    paraphrases: tuple[str, ...]

    def render(self) -> Rendered:
        return render(self.scene)


def make_clip(clip_id: str, split: str, scene: Scene) -> Clip:
    canon, *alts = captions(scene)
    return Clip(clip_id, split, scene, canon, tuple(alts))


def clips(config: CorpusConfig, split: str, limit: int | None = None) -> list[Clip]:
    """The first `limit` (default: all) clips of a split."""
    n = config.size(split) if limit is None else min(limit, config.size(split))
    out = []
    for i in range(n):
        scene = sample_scene(derive_seed(config.seed, split, i), config.duration)
        out.append(make_clip(f"synthcaps-{split}-{i:05d}", split, scene))
    return out


def render_split(config: CorpusConfig, split: str, limit: int | None = None
                 ) -> tuple[list[Clip], np.ndarray, np.ndarray]:
    """(clips, audio (N, T) float32 @ 16 kHz, labels (N, F, S) uint8 @ 25 fps)."""
    cs = clips(config, split, limit)
    total = int(round(config.duration * 16000))
    audio = np.zeros((len(cs), total), np.float32)
    labels = None
    for i, c in enumerate(cs):          # one clip at a time: per-event buffers are freed
        r = c.render()
        audio[i] = r.audio
        if labels is None:
            labels = np.zeros((len(cs),) + r.labels.shape, np.uint8)
        labels[i] = r.labels
    return cs, audio, labels if labels is not None else np.zeros((0, 0, 0), np.uint8)
