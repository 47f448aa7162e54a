"""Build and load TangoFlux from a local weights directory (or at the tiny test size).

Weights layout (`<weights>/`):
    tangoflux/config.json, tangoflux/tangoflux.safetensors, tangoflux/vae.safetensors
        (huggingface.co/declare-lab/TangoFlux)
    flan-t5-large/{config.json, tokenizer files}  (huggingface.co/google/flan-t5-large;
        only the config and tokenizer are read: the T5 weights ship in tangoflux.safetensors)

Networks are built on the `meta` device and filled with `load_state_dict(assign=True)` after
a strict key/shape check, so loading never allocates a random initialisation first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch

from harness.errors import WeightsError
from systems.adapterkit import (
    TextEncoder,
    check_state_dict,
    files_sha256,
    key_shapes,
    require_file,
    safetensors_shapes,
    seeded_construction,
    tiny_t5,
)
from systems.tangoflux.network import TIED_KEYS, TINY, TangoFluxConfig, TangoFluxNet, build_vae

HUB = "https://huggingface.co/declare-lab/TangoFlux"
T5_HUB = "https://huggingface.co/google/flan-t5-large"


@dataclass
class Loaded:
    net: TangoFluxNet
    vae: torch.nn.Module
    tokenizer: object
    checkpoint_sha256: str


def expected_keys(net: torch.nn.Module, tied: tuple[str, ...] = TIED_KEYS) -> dict[str, list[int]]:
    """The keys/shapes the published file must hold: the state dict minus the tied keys."""
    return {k: v for k, v in key_shapes(net.state_dict()).items() if k not in tied}


def load_checked(module: torch.nn.Module, path: Path, expected: dict[str, list[int]],
                 allow_missing: tuple[str, ...] = ()) -> None:
    """Strict key + shape check of a safetensors file, then assign its tensors into `module`."""
    from safetensors.torch import load_file

    check_state_dict(expected, safetensors_shapes([path]), str(path), allow_missing)
    state = {k: v.float() for k, v in load_file(str(path)).items()}
    module.load_state_dict(state, strict=not allow_missing, assign=True)


def _no_meta(module: torch.nn.Module, item: str) -> None:
    left = [n for n, t in list(module.named_parameters()) + list(module.named_buffers()) if t.is_meta]
    if left:
        raise WeightsError(item, f"{len(left)} tensors were not loaded: {', '.join(left[:5])}",
                           "use the complete published checkpoint")


def load_published(weights: str | None) -> Loaded:
    """The released TangoFlux from `<weights>/tangoflux/` and `<weights>/flan-t5-large/`."""
    from harness.extras import require

    tf = require("transformers", extra="tangoflux", item="system tangoflux")
    AutoTokenizer, T5Config = tf.AutoTokenizer, tf.T5Config

    cfg_path = require_file("tangoflux/config.json", "tangoflux", HUB, weights)
    ckpt = require_file("tangoflux/tangoflux.safetensors", "tangoflux", HUB, weights)
    vae_path = require_file("tangoflux/vae.safetensors", "tangoflux", HUB, weights)
    t5_dir = require_file("flan-t5-large/config.json", "tangoflux (text encoder)", T5_HUB, weights).parent
    cfg = TangoFluxConfig.from_json(json.loads(cfg_path.read_text()))
    t5_cfg = T5Config.from_pretrained(str(t5_dir), local_files_only=True)
    with torch.device("meta"):
        net, vae = TangoFluxNet(cfg, t5_cfg), build_vae(cfg)
    load_checked(net, ckpt, expected_keys(net), allow_missing=TIED_KEYS)
    net.tie()
    load_checked(vae, vae_path, key_shapes(vae.state_dict()))
    _no_meta(net, str(ckpt))
    _no_meta(vae, str(vae_path))
    tok = AutoTokenizer.from_pretrained(str(t5_dir), local_files_only=True)
    return Loaded(net.eval(), vae.eval(), tok, files_sha256([cfg_path, ckpt, vae_path]))


def build_tiny(seed: int = 0) -> Loaded:
    """Random weights at the TINY size: the same classes and calls as the published model."""
    t5: TextEncoder = tiny_t5(TINY.joint_attention_dim, seed)
    with seeded_construction(seed + 1):
        net, vae = TangoFluxNet(TINY, t5.model.config), build_vae(TINY)
    net.text_encoder.load_state_dict(t5.model.state_dict())
    net.tie()
    return Loaded(net.eval(), vae.eval(), t5.tokenizer, f"random-init-seed-{seed}")


def build_real_meta(t5_config=None) -> tuple[TangoFluxNet, torch.nn.Module]:
    """The published-size network and VAE on the meta device (key-compatibility tests)."""
    from systems.adapterkit import flan_t5_large_config

    with torch.device("meta"):
        return TangoFluxNet(TangoFluxConfig(), t5_config or flan_t5_large_config()), build_vae(TangoFluxConfig())
