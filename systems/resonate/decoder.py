"""Resonate's latent <-> waveform path: 44.1 kHz mel-VAE (`v1-44.pth`) + BigVGAN-v2 vocoder.

    encode: mono 44.1 kHz, zero-padded to a multiple of 1024 samples -> log-mel (128, T/512)
            -> mel-VAE encoder posterior mean -> latent (B, N, 40), not normalised
    decode: latent (B, N, 40) -> mel-VAE decoder -> log-mel (B, 128, 2N) -> BigVGAN-v2
            -> (B, 1, 1024 N) in [-1, 1]

Files (`<weights>/resonate/`): `v1-44.pth` (plain state dict of MMAudio's VAE_44k, loaded
strictly with `torch.load(weights_only=True)`; its EDM2 weights are normalised once after
loading, as the original's `remove_weight_norm()`), and the folder
`bigvgan_v2_44khz_128band_512x/` with `config.json` and `bigvgan_generator.pt`
({"generator": state dict}; weight-norm pairs folded, then strict).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from harness.errors import WeightsError
from harness.records import Audio
from systems.adapterkit import check_state_dict, files_sha256, key_shapes, require_file, seeded_construction, to_native
from systems.resonate.bigvgan import BigVGAN, fold_weight_norm
from systems.resonate.melvae import TINY, LogMel, MelVAE, MelVAEConfig

VAE_FILE = "resonate/v1-44.pth"
VOCODER_DIR = "resonate/bigvgan_v2_44khz_128band_512x"
HUB = "https://huggingface.co/AndreasXi/Resonate"
VOCODER_HUB = "https://huggingface.co/nvidia/bigvgan_v2_44khz_128band_512x"
SAMPLES_PER_LATENT = 1024

TINY_VOCODER = dict(resblock="1", upsample_rates=[8, 4, 2, 2, 2, 2], upsample_kernel_sizes=[16, 8, 4, 4, 4, 4],
                    upsample_initial_channel=64, resblock_kernel_sizes=[3], resblock_dilation_sizes=[[1, 3]],
                    use_tanh_at_final=False, use_bias_at_final=False, activation="snakebeta",
                    snake_logscale=True, num_mels=TINY.data_dim)


class MelDecoder:
    """mel-VAE + BigVGAN-v2 (+ the log-mel front end for encoding)."""

    def __init__(self, vae: MelVAE, vocoder: BigVGAN, sha256: str = ""):
        self.vae, self.vocoder, self.sha256 = vae.eval(), vocoder.eval(), sha256
        self.mel = LogMel(n_mels=vae.cfg.data_dim)

    def to(self, device) -> MelDecoder:
        self.vae.to(device), self.vocoder.to(device), self.mel.to(device)
        return self

    @property
    def vae_device(self) -> torch.device:
        return next(self.vae.parameters()).device

    @torch.no_grad()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(B, N, 40) unnormalised latents -> (B, 1, 1024 N) @ 44.1 kHz."""
        return self.vocoder(self.vae.decode(z.transpose(1, 2)))

    @torch.no_grad()
    def encode(self, audio: Audio, item: str) -> tuple[torch.Tensor, int]:
        """Posterior-mean latent (1, N, 40) of the clip and its length in samples."""
        x = to_native(audio, 44100, 1, item)[0]                              # (T,) @ 44.1 kHz mono
        n = -(-x.shape[0] // SAMPLES_PER_LATENT) * SAMPLES_PER_LATENT
        padded = np.zeros(n, np.float32)
        padded[:x.shape[0]] = x
        wave = torch.from_numpy(padded)[None].to(self.vae_device)            # (1, n) @ 44.1 kHz
        mel = self.mel(wave)                                                 # (1, 128, n / 512)
        return self.vae.encode_mean(mel).transpose(1, 2), int(x.shape[0])


def _torch_state(path: Path, key: str | None = None) -> dict:
    state = torch.load(str(path), map_location="cpu", weights_only=True)
    if key is not None:
        if not isinstance(state, dict) or key not in state:
            raise WeightsError(str(path), f"expected a dict with key {key!r}", "use the published file")
        state = state[key]
    if not isinstance(state, dict):
        raise WeightsError(str(path), "not a state dict", "use the published file")
    return state


def load_vae(path: Path, cfg: MelVAEConfig = MelVAEConfig()) -> MelVAE:
    state = _torch_state(path)
    with torch.device("meta"):
        vae = MelVAE(cfg)
    check_state_dict(key_shapes(vae.state_dict()), key_shapes(state), str(path))
    vae.load_state_dict({k: v.float() for k, v in state.items()}, strict=True, assign=True)
    return vae.fold()


def load_vocoder(folder: Path) -> BigVGAN:
    cfg_path, pt = folder / "config.json", folder / "bigvgan_generator.pt"
    for p in (cfg_path, pt):
        if not p.exists():
            raise WeightsError(str(p), "missing BigVGAN-v2 file", f"download it from {VOCODER_HUB} into {folder}")
    h = json.loads(cfg_path.read_text())
    state = fold_weight_norm(_torch_state(pt, "generator"))
    with torch.device("meta"):
        voc = BigVGAN(h)
    check_state_dict(key_shapes(voc.state_dict()), key_shapes(state), str(pt))
    voc.load_state_dict({k: v.float() for k, v in state.items()}, strict=True, assign=True)
    return voc


def published(weights: str | None, vae_cfg: MelVAEConfig = MelVAEConfig()) -> MelDecoder:
    """The released mel-VAE and vocoder (`vae_cfg` differs only in tests of this path)."""
    vae_path = require_file(VAE_FILE, "resonate (mel-VAE)", HUB, weights)
    folder = require_file(VOCODER_DIR, "resonate (vocoder)", VOCODER_HUB, weights)
    vae, voc = load_vae(vae_path, vae_cfg), load_vocoder(folder)
    return MelDecoder(vae, voc, files_sha256([vae_path, folder / "config.json", folder / "bigvgan_generator.pt"]))


def tiny(seed: int) -> MelDecoder:
    """Random mel-VAE and vocoder at the tiny size (same classes and calls)."""
    with seeded_construction(seed + 2):
        vae, voc = MelVAE(TINY), BigVGAN(TINY_VOCODER)
        for p in list(vae.parameters()) + list(voc.parameters()):
            if p.ndim == 1:                                  # snake alpha/beta: small random
                p.data.normal_(0.0, 0.1)
    return MelDecoder(vae.fold(), voc)
