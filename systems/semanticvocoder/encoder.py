"""SemanticVocoder's semantic encoder: Dasheng-base frame embeddings (768-d, 25 frames/s).

Facts (zeyuxie29/SemanticVocoder@1299396 `semanticVocoder.py: DashengEncoderWrapper`, and
RicherMans/Dasheng `dasheng/pretrained/pretrained.py`, read for facts only):
- the original builds `dasheng.dasheng_base()` = `Dasheng(**file["config"], embed_dim=768,
  depth=12, num_heads=12)` loaded strictly from `dasheng_base.pt` (zenodo record 11511780;
  `{"model": state_dict, "config": dict}`), in eval mode;
- input: 24 kHz audio -> `torchaudio.functional.resample(24000 -> 16000)` (defaults) -> mean
  over channels -> Dasheng: 64-bin mel (hop 160 = 100 frames/s) in dB -> BatchNorm ->
  (64 x 4) patches = 25 frames/s, processed in chunks of 252 patches (10.08 s) -> (B, T', 768);
  transposed to (B, 768, T'). 10 s at 24 kHz -> (B, 768, 250).

The network class is the `dasheng` package's own `Dasheng` (PyPI `dasheng`, no download at
construction: `dasheng_base()` would fetch from zenodo, so it is never called); it is built
from the local file's config with a seeded (global-RNG-neutral) random init, then filled with
the file's tensors after sabench's strict key/shape check.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from harness.errors import WeightsError
from systems.adapterkit import check_state_dict, key_shapes, seeded_construction

ENCODER_RATE = 16000
"""Dasheng's input rate (Hz)."""
BASE_DIMS = {"embed_dim": 768, "depth": 12, "num_heads": 12}
"""What `dasheng.dasheng_base()` forces on top of the file's config."""
DASHENG_PUBLISHED = "https://zenodo.org/records/11511780 (dasheng_base.pt)"


def dasheng_class():
    from harness.extras import require

    return require("dasheng.pretrained.pretrained", extra="semanticvocoder", item="semanticvocoder encoder").Dasheng


def build_dasheng(config: Mapping[str, Any], seed: int = 0):
    """`Dasheng(**config)` with a seeded init (the global RNG is left untouched)."""
    with seeded_construction(seed):
        return dasheng_class()(**dict(config)).eval()


def load_dasheng(path: Path, overrides: Mapping[str, Any] = BASE_DIMS):
    """The encoder from a local `{"model", "config"}` file, strictly key-checked."""
    from systems.semanticvocoder.loading import load_checkpoint

    dump = load_checkpoint(path)                                        # weights_only=True
    if not isinstance(dump, dict) or "model" not in dump or "config" not in dump:
        raise WeightsError(str(path), "not a Dasheng checkpoint (needs keys 'model' and 'config')",
                           f"use dasheng_base.pt from {DASHENG_PUBLISHED}")
    net = build_dasheng({**dump["config"], **overrides})
    check_state_dict(key_shapes(net.state_dict()), key_shapes(dump["model"]), str(path))
    net.load_state_dict(dump["model"], strict=True)
    return net


class SemanticEncoder:
    """Waveform (B, C, T) @ 24 kHz -> semantic latents (B, 768, T') @ 25 Hz."""

    def __init__(self, dasheng, input_rate: int = 24000):
        self.net = dasheng.eval()
        self.input_rate = int(input_rate)

    @property
    def dim(self) -> int:
        return int(self.net.embed_dim)

    @torch.no_grad()
    def encode(self, wave: Tensor) -> Tensor:
        from harness.extras import require

        torchaudio = require("torchaudio", extra="semanticvocoder", item="semanticvocoder encoder")
        x = wave.float().to(next(self.net.parameters()).device)         # (B, C, T) @ 24 kHz
        if self.input_rate != ENCODER_RATE:
            x = torchaudio.functional.resample(x, self.input_rate, ENCODER_RATE)  # @ 16 kHz
        x = x.mean(dim=1)                                               # (B, T16) mono
        frames = self.net(x)                                            # (B, T', D) @ 25 Hz
        return frames.transpose(1, 2).contiguous()                      # (B, D, T')
