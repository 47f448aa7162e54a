"""DAC-VAE (facebook/dacvae-watermarked) built from descript-audio-codec's Encoder/Decoder.

    audio (B, 1, N) @ 48 kHz -> dac Encoder(64, [2, 8, 10, 12], 1024) -> (B, 1024, T)
    -> in_proj (weight-normed 1x1 conv 1024 -> 256) -> chunk -> mean (B, 128, T)  [scale unused]
    latent (B, 128, T) -> out_proj (1x1 conv 128 -> 1024) -> dac Decoder(1536, [12, 10, 8, 2]) -> tanh audio

Encoding returns the posterior mean (deterministic). Hop 1920 -> 25 frames/s.

Watermark decision: the published decoder adds `0.25 x` a watermark residual computed from a
random 16-bit message on every call (non-deterministic). We load only its audio branch:
the layers on the audio path map one-to-one onto `dac.model.dac.Decoder` (Snake,
ConvTranspose, three residual units per block; final Snake, conv, tanh), and the watermark
sub-network (`decoder.wm_model.*` except the final audio conv, and the parallel ELU layers
of each decoder block) is dropped. Decoding is then deterministic and un-watermarked; it
differs from the published `decode()` by the watermark residual only. `convert_published`
documents the key mapping; it is tested on a synthetic state dict in the published layout
(the real file is not available offline, so the mapping is checked against the published
code's module structure, not against the real checkpoint).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from harness.errors import WeightsError
from systems.semanticaudio.encoders import AcousticVAE


@dataclass(frozen=True)
class DacVaeConfig:
    encoder_dim: int = 64
    encoder_rates: tuple[int, ...] = (2, 8, 10, 12)
    latent_dim: int = 1024
    decoder_dim: int = 1536
    decoder_rates: tuple[int, ...] = (12, 10, 8, 2)
    codebook_dim: int = 128
    """VAE channels."""
    sample_rate: int = 48000

    @property
    def hop(self) -> int:
        h = 1
        for r in self.encoder_rates:
            h *= r
        return h


class DacVae(nn.Module, AcousticVAE):
    def __init__(self, cfg: DacVaeConfig = DacVaeConfig()):
        nn.Module.__init__(self)
        from harness.extras import require

        dac_model = require("dac.model.dac", extra="dac", item="semanticaudio DACVAE")
        Decoder, Encoder = dac_model.Decoder, dac_model.Encoder
        WNConv1d = require("dac.nn.layers", extra="dac", item="semanticaudio DACVAE").WNConv1d

        self.cfg = cfg
        self.dim, self.sample_rate, self.hop = cfg.codebook_dim, cfg.sample_rate, cfg.hop
        self.encoder = Encoder(cfg.encoder_dim, list(cfg.encoder_rates), cfg.latent_dim)
        self.in_proj = WNConv1d(cfg.latent_dim, 2 * cfg.codebook_dim, kernel_size=1)
        self.out_proj = WNConv1d(cfg.codebook_dim, cfg.latent_dim, kernel_size=1)
        self.decoder = Decoder(cfg.latent_dim, cfg.decoder_dim, list(cfg.decoder_rates), 1)

    @torch.no_grad()
    def encode(self, audio: torch.Tensor) -> torch.Tensor:
        """audio (B, N) mono @ 48 kHz -> posterior mean (B, ceil(N / hop), 128)."""
        n = audio.shape[-1]
        pad = (-n) % self.hop
        x = audio.float()[:, None]                                      # (B, 1, N)
        if pad:
            mode = "reflect" if n > pad else "constant"
            x = torch.nn.functional.pad(x, (0, pad), mode=mode)          # (B, 1, T * hop)
        h = self.encoder(x)                                              # (B, 1024, T)
        mean, _scale = self.in_proj(h).chunk(2, dim=1)                   # 2 x (B, 128, T)
        return mean.transpose(1, 2)                                      # (B, T, 128)

    @torch.no_grad()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z (B, T, 128) -> audio (B, T * hop) @ 48 kHz in [-1, 1] (tanh output)."""
        h = self.out_proj(z.float().transpose(1, 2))                     # (B, 1024, T)
        return self.decoder(h)[:, 0]                                     # (B, T * hop)


# Published decoder block layout: 0 Snake, 1 ConvT, 2 ELU, 3 ConvT(wm), 4 RU(d1), 5 RU(d3),
# 6-7 ELU residual units (wm), 8 RU(d9), 9 Identity, 10 ELU, 11 conv(wm). Audio path: 0 1 4 5 8.
_BLOCK_MAP = {"0": "0", "1": "1", "4": "2", "5": "3", "8": "4"}


def convert_published(state: dict[str, torch.Tensor], n_blocks: int) -> dict[str, torch.Tensor]:
    """Published dacvae key names -> this module's names (watermark branch dropped)."""
    out: dict[str, torch.Tensor] = {}
    final = str(n_blocks + 1)
    for k, v in state.items():
        if k.startswith("encoder."):
            out[k] = v
        elif k.startswith("quantizer.in_proj.") or k.startswith("quantizer.out_proj."):
            out[k[len("quantizer."):]] = v
        elif k.startswith("decoder.wm_model.encoder_block.pre.0."):
            out["decoder.model." + final + "." + k.rsplit(".", 1)[1]] = v
        elif k.startswith("decoder.wm_model.encoder_block.pre.1."):
            out["decoder.model." + str(n_blocks + 2) + "." + k.rsplit(".", 1)[1]] = v
        elif k.startswith("decoder.model.0."):
            out[k] = v
        else:
            m = re.match(r"decoder\.model\.(\d+)\.block\.(\d+)\.(.*)", k)
            if m and m.group(2) in _BLOCK_MAP:
                out[f"decoder.model.{m.group(1)}.block.{_BLOCK_MAP[m.group(2)]}.{m.group(3)}"] = v
    return out


def load_dacvae(path: str | Path, cfg: DacVaeConfig = DacVaeConfig()) -> DacVae:
    """Load the published `weights.pth` (audiotools format: {"state_dict", "metadata"}) or a
    safetensors file in this module's own key names."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(str(path), "DAC-VAE weights are missing",
                           "download weights.pth from huggingface.co/facebook/dacvae-watermarked")
    with torch.random.fork_rng(devices=[]):                            # init is overwritten; no global side effect
        model = DacVae(cfg)
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        state = load_file(str(path))
    else:
        raw = torch.load(path, map_location="cpu", weights_only=True)
        state = convert_published(raw.get("state_dict", raw), len(cfg.decoder_rates))
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise WeightsError(str(path), f"DAC-VAE keys do not match ({len(missing)} missing, e.g. "
                           f"{missing[:3]}; {len(unexpected)} unexpected, e.g. {unexpected[:3]})",
                           "use facebook/dacvae-watermarked weights.pth with the 48 kHz config")
    return model.eval()


def config_dict(cfg: DacVaeConfig) -> dict:
    return asdict(cfg)
