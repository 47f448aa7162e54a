"""Build and load Resonate from a local weights directory (or at the tiny test size).

Weights layout (`<weights>/`), all from huggingface.co/AndreasXi/Resonate unless noted:
    resonate/Resonate_GRPO.pth   (final model; `checkpoint="pt"` selects Resonate_PT.pth)
    resonate/v1-44.pth           (MMAudio 44.1 kHz mel-VAE)
    resonate/bigvgan_v2_44khz_128band_512x/  (NVIDIA BigVGAN-v2 folder)
    flan-t5-large/               (huggingface.co/google/flan-t5-large: config, weights, tokenizer)

The FluxAudio checkpoint is a plain state dict read with `torch.load(weights_only=True)`;
like the original `load_weights`, the non-persistent names `t_embed.freqs`, `latent_rot`,
`text_rot` are dropped if present, then every other key must match exactly (strict).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from harness.errors import WeightsError
from systems.adapterkit import (
    TextEncoder,
    check_state_dict,
    files_sha256,
    key_shapes,
    local_t5,
    require_file,
    seeded_construction,
    tiny_t5,
)
from systems.resonate.network import TINY, FluxAudio, FluxAudioConfig

HUB = "https://huggingface.co/AndreasXi/Resonate"
T5_HUB = "https://huggingface.co/google/flan-t5-large"
CHECKPOINTS = {"grpo": "resonate/Resonate_GRPO.pth", "pt": "resonate/Resonate_PT.pth"}
DROPPED = ("t_embed.freqs", "latent_rot", "text_rot")
"""Names the original `FluxAudio.load_weights` deletes before its strict load."""


@dataclass
class Loaded:
    net: FluxAudio
    text: TextEncoder
    checkpoint_sha256: str


def load_state(net: FluxAudio, state: dict, item: str) -> None:
    """Strict key/shape check, then assign the tensors (float32) into the meta-built network."""
    state = {k: v for k, v in state.items() if k not in DROPPED}
    check_state_dict(key_shapes(net.state_dict()), key_shapes(state), item)
    net.load_state_dict({k: v.float() for k, v in state.items()}, strict=True, assign=True)
    for p in net.parameters():
        p.requires_grad_(False)


def load_published(weights: str | None, checkpoint: str = "grpo",
                   cfg: FluxAudioConfig = FluxAudioConfig()) -> Loaded:
    """The released network (`cfg` other than the default only in tests of this path)."""
    if checkpoint not in CHECKPOINTS:
        raise WeightsError("resonate", f"unknown checkpoint {checkpoint!r}",
                           f"use one of {sorted(CHECKPOINTS)}")
    path = require_file(CHECKPOINTS[checkpoint], "resonate", HUB, weights)
    t5_dir = require_file("flan-t5-large/config.json", "resonate (text encoder)", T5_HUB, weights).parent
    state = torch.load(str(path), map_location="cpu", weights_only=True)
    if not isinstance(state, dict):
        raise WeightsError(str(path), f"expected a state dict, found {type(state).__name__}",
                           "use the published Resonate_*.pth file")
    with torch.device("meta"):
        net = FluxAudio(cfg)
    load_state(net, state, str(path))
    return Loaded(net.eval(), local_t5(t5_dir, extra="resonate"), files_sha256([path]))


def build_tiny(seed: int = 0) -> Loaded:
    """Random FluxAudio at the TINY size + a tiny T5; latent stats and empty-text features
    are filled the way the original fills them (stored T5("") states, their plain mean)."""
    text = tiny_t5(TINY.text_dim, seed)
    with seeded_construction(seed + 1):
        net = FluxAudio(TINY)
        stats = torch.randn(2, TINY.latent_dim)
    states, _ = text.encode([""], max_length=TINY.text_seq_len, padding="max_length")
    with torch.no_grad():
        net.latent_mean.copy_(0.1 * stats[0].view(1, 1, -1))
        net.latent_std.copy_((1.0 + 0.1 * stats[1].abs()).view(1, 1, -1))
        net.empty_string_feat.copy_(states[0])
        net.empty_string_feat_c.copy_(states[0].mean(0))
    return Loaded(net.eval(), text, f"random-init-seed-{seed}")
