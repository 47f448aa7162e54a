"""Encoder interfaces, so each world (real weights, mini world, tests) plugs in its own.

- `TextEncoder.encode(texts) -> TextFeatures`: T5-style tokens (B, L, Dt) + mask (B, L) and
  a CLAP-style global vector (B, Dg).
- `SemanticEncoder.encode(audio (B, N) @ sample_rate) -> (B, T, E)` frame-level features.
- `AcousticVAE.encode(audio (B, N)) -> (B, T, C)` posterior mean; `decode((B, T, C)) -> (B, N)`.

Semantic frames and acoustic latents must share one frame rate (25 fps in the paper) so the
synthesizer's condition is frame-aligned. `Encoders` bundles the three; `load_encoders(spec,
root)` builds a bundle from a registered spec (`harness.registry.ENCODER_BUNDLES`; recorded in
every checkpoint).
A checkpoint's config.json is data: the spec it records must be a registered name or the
"module:function" a registered name stands for; nothing else is imported (docs/trust.md).

`HashTextEncoder` and `LinearAudioCodec` are small deterministic encoders with no weights,
used by the tests and the speed benchmark (they are not models of anything).
"""

from __future__ import annotations

import hashlib
import importlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from harness.errors import SabenchError


@dataclass
class TextFeatures:
    tokens: torch.Tensor
    """(B, L, Dt) float32 token embeddings (padding rows are whatever the encoder returns)."""
    mask: torch.Tensor
    """(B, L) bool, True = real token."""
    glob: torch.Tensor
    """(B, Dg) float32 global sentence embedding."""


class TextEncoder(ABC):
    token_dim: int
    global_dim: int

    @abstractmethod
    def encode(self, texts: Sequence[str]) -> TextFeatures: ...


class SemanticEncoder(ABC):
    dim: int
    sample_rate: int
    frame_rate: float

    @abstractmethod
    def encode(self, audio: torch.Tensor) -> torch.Tensor:
        """audio (B, N) mono @ sample_rate -> (B, ceil(N / hop), dim)."""


class AcousticVAE(ABC):
    dim: int
    sample_rate: int
    hop: int

    @abstractmethod
    def encode(self, audio: torch.Tensor) -> torch.Tensor:
        """audio (B, N) mono @ sample_rate -> posterior mean (B, ceil(N / hop), dim)."""

    @abstractmethod
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z (B, T, dim) -> audio (B, T * hop) @ sample_rate."""


@dataclass
class Encoders:
    """The three encoders one SemanticAudio / Base Model instance is trained and run with."""

    text: TextEncoder
    semantic: SemanticEncoder | None
    vae: AcousticVAE
    spec: str = ""
    """"module:function" that rebuilds this bundle (recorded in checkpoints)."""
    sha256: str = "none"
    """Combined hash of the encoders' weights (part of the system fingerprint)."""

    def frames_for(self, seconds: float) -> int:
        return int(round(seconds * self.vae.sample_rate / self.vae.hop))


def _bundles() -> dict[str, str]:
    """Registered encoder bundles: name -> "module:function" (`harness.registry.ENCODER_BUNDLES`;
    "real" and "weightless" from systems/catalog.py, others from their own package's catalog)."""
    from harness.registry import ENCODER_BUNDLES, load_catalog

    load_catalog()
    targets = {name: ENCODER_BUNDLES.target(name) for name in ENCODER_BUNDLES.names()}
    return {name: t for name, t in targets.items() if t}       # lazy "module:function" entries only


def encoders_target(spec: str, item: str = "encoders", allow_code: bool = False) -> str:
    """The "module:function" of a registered encoder bundle (by name or by that target);
    anything else is refused unless `allow_code` (the user's own `encoders=` parameter under
    --allow-code, never a checkpoint)."""
    bundles = _bundles()
    if not isinstance(spec, str) or not spec.strip():
        raise SabenchError(item, f"encoders spec {spec!r} is empty or not a string",
                           f"use one of: {', '.join(sorted(bundles))}")
    spec = spec.strip()
    if spec in bundles:
        return bundles[spec]
    if spec in bundles.values():
        return spec
    if allow_code and ":" in spec:
        return spec
    raise SabenchError(item, f"encoders {spec!r} is not a registered encoder bundle (weights and "
                       "checkpoint configs may not name code to import)",
                       f"use one of: {', '.join(sorted(bundles))} (or register yours with "
                       "harness.registry.ENCODER_BUNDLES.register_lazy)")


def load_encoders(spec: str, root: str | None = None, *, item: str = "encoders", allow_code: bool = False) -> Encoders:
    """Build an `Encoders` bundle from a registered spec; function(root) -> Encoders."""
    target = encoders_target(spec, item, allow_code)
    module, fn = target.split(":", 1)
    enc = getattr(importlib.import_module(module), fn)(root)
    if not isinstance(enc, Encoders):
        raise SabenchError(item, f"{target} returned a {type(enc).__name__}, not an Encoders bundle",
                           "name a function(root) -> systems.semanticaudio.encoders.Encoders")
    enc.spec = target
    return enc


def pad_frames(audio: torch.Tensor, hop: int) -> torch.Tensor:
    """Zero-pad (B, N) to a multiple of hop. Returns (B, ceil(N / hop) * hop)."""
    n = audio.shape[-1]
    return torch.nn.functional.pad(audio, (0, (-n) % hop))


# ----------------------------------------------------------------------------- test encoders

def _seeded_normal(label: str, shape: tuple[int, ...]) -> torch.Tensor:
    seed = int.from_bytes(hashlib.sha256(label.encode()).digest()[:8], "little") & ((1 << 63) - 1)
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


class HashTextEncoder(TextEncoder):
    """Each lower-cased word -> a fixed Gaussian vector (from its sha256); global = mean."""

    def __init__(self, token_dim: int = 16, global_dim: int = 8, max_len: int = 16):
        self.token_dim, self.global_dim, self.max_len = token_dim, global_dim, max_len
        self._g = _seeded_normal("hash-text-global", (token_dim, global_dim)) / token_dim ** 0.5

    def encode(self, texts: Sequence[str]) -> TextFeatures:
        words = [(t.lower().split() or [""])[: self.max_len] for t in texts]
        L = max(len(w) for w in words)
        tokens = torch.zeros(len(texts), L, self.token_dim)             # (B, L, Dt)
        mask = torch.zeros(len(texts), L, dtype=torch.bool)             # (B, L)
        for i, ws in enumerate(words):
            for j, w in enumerate(ws):
                tokens[i, j] = _seeded_normal("word:" + w, (self.token_dim,))
                mask[i, j] = True
        mean = (tokens * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)  # (B, Dt)
        return TextFeatures(tokens, mask, mean @ self._g)               # glob (B, Dg)


class LinearAudioCodec(AcousticVAE, SemanticEncoder):
    """Frames of `hop` samples times a fixed orthogonal matrix (exactly invertible when
    dim == hop); as a semantic encoder, a fixed random projection of the frames + tanh."""

    def __init__(self, hop: int = 8, dim: int = 8, frame_rate: float = 25.0, semantic: bool = False):
        self.hop, self.dim, self.frame_rate = hop, dim, frame_rate
        self.sample_rate = int(round(hop * frame_rate))
        self.semantic = semantic
        q, _ = torch.linalg.qr(_seeded_normal(f"codec-{hop}-{dim}-{semantic}", (hop, max(hop, dim))).T)
        self.w = q[:dim].T.contiguous() if dim <= hop else _seeded_normal(f"sem-{hop}-{dim}", (hop, dim))  # (hop, dim)

    def encode(self, audio: torch.Tensor) -> torch.Tensor:
        x = pad_frames(audio.float(), self.hop)                         # (B, T * hop)
        z = x.view(x.shape[0], -1, self.hop) @ self.w                   # (B, T, dim)
        return torch.tanh(z) if self.semantic else z

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return (z.float() @ self.w.T).reshape(z.shape[0], -1)           # (B, T * hop)


def weightless_encoders(_root: str | None = None) -> Encoders:
    """A weight-free bundle for tests/benchmarks: 1 kHz audio, 25 fps, 40-d latents, 12-d semantics."""
    return Encoders(HashTextEncoder(16, 8), LinearAudioCodec(40, 12, semantic=True), LinearAudioCodec(40, 40),
                    spec="systems.semanticaudio.encoders:weightless_encoders", sha256="weightless-encoders-v2")
