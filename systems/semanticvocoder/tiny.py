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


TINY_BACKBONE = dict(
    _target_="models.dit.mask_dit.UDiT", img_size=250, patch_size=1, in_chans=32, out_chans=None,
    input_type="1d", embed_dim=32, depth=3, num_heads=2, mlp_ratio=2, qkv_bias=True, qk_scale=None,
    qk_norm="layernorm", act_layer="geglu", norm_layer="layernorm", context_norm=True,
    use_checkpoint=False, time_fusion="ada_sola_bias", ada_sola_rank=4, ada_sola_alpha=4,
    cls_dim=None, context_dim=16, context_fusion="cross", context_max_length=64,
    context_pe_method="sinu", pe_method="abs", rope_mode="shared", use_conv=True, skip=True,
    skip_norm=True)
"""A 10-second (250 frames, the published latent_shape) UDiT over 32-d latents exercising most
options."""
TINY_CONTENT_DIM = 16


def tta_config(backbone: dict, voc: GeneratorConfig, content_dim: int) -> dict:
    """The published HF config.json layout (`model_config` = the original's Hydra node)."""
    ae = hydra_config(voc)["model"]["autoencoder"]
    ae["encoder_name"] = "none"
    text = {"_target_": "models.content_encoder.text_encoder.T5TextEncoder",
            "embed_dim": content_dim, "model_name": "google/flan-t5-large"}
    return {"architectures": ["SemanticVocoder"], "model_type": "semantic_vocoder", "model_config": {
        "_target_": "models.flow_matching.SingleTaskCrossAttentionAudioFlowMatching",
        "autoencoder": ae, "backbone": dict(backbone),
        "content_encoder": {"_target_": "models.content_encoder.content_encoder.ContentEncoder",
                            "embed_dim": content_dim, "text_encoder": text},
        "cfg_drop_ratio": 0.2, "sample_strategy": "normal", "num_train_steps": 1000}}


def random_tta(doc: dict, seed: int):
    """`Published` at the config in `doc` with a tiny T5 and random weights (adaLN and gates
    made non-zero so every parameter matters); the vocoder from `random_generator`."""
    from systems.adapterkit import tiny_t5_config
    from systems.semanticvocoder.tta import Published, parse_tta_config

    cfg = parse_tta_config(doc, "tiny")
    with seeded_construction(seed):
        net = Published(cfg, tiny_t5_config(32))
        for _name, p in net.model.backbone.named_parameters():
            with torch.no_grad():
                p.add_(0.05 * torch.randn_like(p))
    vocoder = random_generator(cfg.autoencoder.vocoder, seed + 2)
    net.model.autoencoder.generator.load_state_dict(vocoder.state_dict())
    net.model.content_encoder.text_encoder.tie()
    return net.eval()


def write_tiny_tta(root: Path, seed: int = 0) -> Path:
    """Write `semanticvocoder/tta/{config.json, model.safetensors}` and a tiny
    `flan-t5-large/` (tokenizer + T5 config) under `root`; returns root."""
    from safetensors.torch import save_file

    from systems.adapterkit import tiny_t5_config, tiny_tokenizer
    from systems.semanticvocoder.tta import TIED

    folder = Path(root) / "semanticvocoder" / "tta"
    folder.mkdir(parents=True, exist_ok=True)
    doc = tta_config(TINY_BACKBONE, TINY_VOCODER, TINY_CONTENT_DIM)
    (folder / "config.json").write_text(json.dumps(doc, indent=1))
    state = {k: v.contiguous() for k, v in random_tta(doc, seed).state_dict().items() if k != TIED[1]}
    save_file(state, str(folder / "model.safetensors"))
    t5_dir = Path(root) / "flan-t5-large"
    tiny_tokenizer().save_pretrained(str(t5_dir))
    tiny_t5_config(32).save_pretrained(str(t5_dir))
    return Path(root)
