"""Helpers shared by the real metric backbones (PANNs, LAION-CLAP, MS-CLAP, Aesthetics, VGGish).

Kept free of torch at import time: `harness.backbones.catalog` must stay torch-free, and the
backbone modules import torch only inside `load()` / `embed()`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from harness.errors import AudioError
from harness.hashing import sha256_file
from harness.records import AudioRecipe, BackboneInfo

_SHA_CACHE: dict[tuple[str, float, int], str] = {}


def file_sha256(path: Path) -> str:
    """sha256 of a checkpoint, memoised on (path, mtime, size): large files hash once."""
    st = path.stat()
    key = (str(path.resolve()), st.st_mtime, st.st_size)
    if key not in _SHA_CACHE:
        _SHA_CACHE[key] = sha256_file(path)
    return _SHA_CACHE[key]


def combined_sha256(paths: Sequence[Path]) -> str:
    """One fingerprint for a checkpoint plus its tokenizer/config files (order-sensitive)."""
    import hashlib

    h = hashlib.sha256()
    for p in paths:
        h.update(f"{p.name}={file_sha256(p)};".encode())
    return h.hexdigest()


def make_info(name: str, sha: str | None, recipe: AudioRecipe, version: str, device: str = "cpu") -> BackboneInfo:
    """BackboneInfo; `sha` is None before `load()` ("not-loaded")."""
    return BackboneInfo(name=name, checkpoint_sha256=sha or "not-loaded",
                        sample_rate=recipe.sample_rate, recipe=recipe, version=version, device=str(device))


def check_batch(batch: Sequence[np.ndarray], name: str, min_samples: int = 1) -> list[np.ndarray]:
    """Validate a batch of (T,) mono waveforms; returns float32 contiguous copies."""
    out = []
    for i, x in enumerate(batch):
        a = np.asarray(x)
        if a.ndim != 1:
            raise AudioError(f"{name} input #{i}", f"expected a mono (T,) waveform, got shape {a.shape}",
                             "shape audio with harness.audio.shape(audio, backbone.recipe)")
        if a.shape[0] < min_samples:
            raise AudioError(f"{name} input #{i}", f"{a.shape[0]} samples, need at least {min_samples}",
                             "pad short clips (the backbone recipe's min_seconds)")
        if not np.all(np.isfinite(a)):
            raise AudioError(f"{name} input #{i}", "contains NaN or Inf", "fix or drop the clip")
        out.append(np.ascontiguousarray(a, dtype=np.float32))
    return out


def groups_by_length(batch: Sequence[np.ndarray]) -> list[list[int]]:
    """Indices grouped by equal length (first-appearance order).

    Clips of different lengths are never zero-padded to a common length inside a backbone,
    because padding changes pooled embeddings; each group is one forward pass.
    """
    groups: dict[int, list[int]] = {}
    for i, x in enumerate(batch):
        groups.setdefault(int(x.shape[0]), []).append(i)
    return list(groups.values())
