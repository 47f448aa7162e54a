"""Resonate's latent <-> waveform path: 44.1 kHz mel-VAE (`v1-44.pth`) + BigVGAN-v2 vocoder.

Original path (resonate/ext/autoencoder, resonate/ext/bigvgan_v2, resonate/ext/mel_converter):
    encode: mono 44.1 kHz -> log-mel (n_fft 2048, hop 512, win 2048, 128 mels, fmax 22050,
            natural log) -> mel-VAE encoder (data_dim 128, embed_dim 40, hidden 512, x2 down)
            -> latent (B, 40, N)
    decode: latent -> mel-VAE decoder -> log-mel (B, 128, 2N) -> BigVGAN-v2
            (bigvgan_v2_44khz_128band_512x) -> (B, 1, 2N * 512)

NOT YET IMPLEMENTED in sabench: the mel-VAE (EDM2 magnitude-preserving 1-D conv U-Net) and
BigVGAN-v2 (anti-aliased Snake AMP blocks) networks. Until they are, `require()` raises a
`CapabilityError` naming exactly what is missing, before any sampling work is done; the
FluxAudio network, its sampling, FlowEdit in latent space and checkpoint compatibility are
implemented and tested (`ResonateSystem.sample_latents`, `ResonateSystem.edit_latents`).
"""

from __future__ import annotations

from pathlib import Path

import torch

from harness.errors import CapabilityError
from harness.paths import weights_root
from harness.records import Audio

VAE_FILE = "resonate/v1-44.pth"
VOCODER_DIR = "resonate/bigvgan_v2_44khz_128band_512x"
MISSING = ("the 44.1 kHz mel-VAE decoder/encoder (v1-44.pth, MMAudio 'VAE_44k') and the "
           "BigVGAN-v2 vocoder (bigvgan_v2_44khz_128band_512x) are not implemented in sabench yet")


class UnavailableDecoder:
    """The latent <-> audio path, pending its networks: every use raises one clear error."""

    sha256 = ""

    def __init__(self, files: list[Path] | None = None):
        self.files = files or []

    def require(self, what: str) -> None:
        have = ", ".join(str(p) for p in self.files if p.exists()) or "none of its files"
        raise CapabilityError(
            "resonate", f"cannot {what}: {MISSING} (weights present: {have})",
            "use ResonateSystem.sample_latents / edit_latents for latents, or evaluate audio "
            "rendered by Resonate's own scripts as a folder system")

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        self.require("decode latents")
        raise AssertionError  # unreachable

    def encode(self, audio: Audio, item: str) -> torch.Tensor:
        self.require("encode audio")
        raise AssertionError  # unreachable


def published(weights: str | None) -> UnavailableDecoder:
    root = weights_root(weights)
    return UnavailableDecoder([root / VAE_FILE, root / VOCODER_DIR] if root else [])


def tiny(seed: int) -> UnavailableDecoder:
    return UnavailableDecoder()
