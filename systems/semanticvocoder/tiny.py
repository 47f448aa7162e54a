"""A tiny SemanticVocoder in the PUBLISHED file format (random weights; tests and `variant="tiny"`).

`write_tiny(folder, seed)` writes `config.json` (the Hydra layout the original instantiates),
`semanticVocoder_epoch-270.pt` (`{"model": generator state, "epoch": 270}`) and
`dasheng_base.pt` (`{"model": ..., "config": ...}`), so the adapter's real loading path runs.
The tiny Dasheng keeps the real front end (64 mels, 16 kHz, 25 frames/s) with a 32-d, 1-layer
transformer, so latents are (B, 32, T'); the tiny vocoder's `latent_dim` is 32 accordingly.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import torch

from systems.adapterkit import seeded_construction
from systems.semanticvocoder.encoder import build_dasheng
from systems.semanticvocoder.network import GeneratorConfig, SemanticVocoderGenerator

TINY_DASHENG = {"embed_dim": 32, "depth": 1, "num_heads": 2}
TINY_VOCODER = GeneratorConfig(
    latent_dim=32, hop_length=960, n_ffts=(64, 32), hop_lengths=(32, 16), channels=(16, 12),
    time_embed_channels=8, hidden_factor=2, conv_kernel_sizes=(3, 3), num_layers=(1, 1),
    cond_enc_channels=16, cond_enc_hidden_factor=2, cond_enc_conv_kernel_size=3,
    cond_enc_num_layers=1, loss_n_filters=8, loss_n_fft=64)


def hydra_config(voc: GeneratorConfig, n_timesteps: int = 200) -> dict:
    """The published config.json layout for a vocoder config."""
    kwargs = {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(voc).items()}
    target = "models.autoencoder.waveform.semanticVocoder.flow2gan.models.generator.MaeAudioGenerator"
    return {"model": {"autoencoder": {
        "_target_": "models.autoencoder.waveform.semanticVocoder.semanticVocoder.SemanticVocoder",
        "vocoder": {"_target_": target, **kwargs}, "encoder_name": "dasheng_base",
        "n_timesteps": n_timesteps, "sample_rate": 24000, "downsampling_ratio": 960,
        "encoder_sampling_rate": 16000, "clamp_pred": True}}}


def random_generator(cfg: GeneratorConfig, seed: int) -> SemanticVocoderGenerator:
    """Random weights with non-trivial norms/scales (so every parameter matters)."""
    with seeded_construction(seed):
        net = SemanticVocoderGenerator(cfg)
        for name, p in net.named_parameters():
            with torch.no_grad():
                if name.endswith(("log_scale", "scale")) or ".norm." in name or "in_norm" in name:
                    p.add_(0.1 * torch.randn_like(p))
    return net.eval()


def write_tiny(folder: Path, seed: int = 0) -> Path:
    """Write the three published files for a tiny random model into `folder`; returns it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(hydra_config(TINY_VOCODER), indent=1))
    gen = random_generator(TINY_VOCODER, seed)
    torch.save({"model": gen.state_dict(), "epoch": 270}, folder / "semanticVocoder_epoch-270.pt")
    enc = build_dasheng(TINY_DASHENG, seed + 1)
    torch.save({"model": enc.state_dict(), "config": dict(TINY_DASHENG)}, folder / "dasheng_base.pt")
    return folder
