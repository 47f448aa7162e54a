"""Reading SemanticVocoder's published files: the Hydra `config.json` and the vocoder `.pt`.

`config.json` (ZeyuXie/SemanticVocoderSnapshot) is what the original passes to
`hydra.utils.instantiate(cfg["model"]["autoencoder"])`: a `SemanticVocoder` node (n_timesteps,
sample_rate, downsampling_ratio, encoder_name, clamp_pred) whose `vocoder` node is a
`MaeAudioGenerator` (latent_dim, hop_length, branch lists ...). sabench reads the same values
(no Hydra, no code execution) and refuses any it does not implement.

`semanticVocoder_epoch-270.pt` is a Flow2GAN-style training checkpoint; the generator weights
are under "model". It is read with `torch.load(weights_only=True)`. Training checkpoints can
pickle `pathlib` paths among their saved hyper-parameters; only `PosixPath` /
`PurePosixPath` / `WindowsPath` / `PureWindowsPath` are allow-listed (`ALLOWED_GLOBALS`, via
`torch.serialization.safe_globals`); any other global is refused by name.
"""

from __future__ import annotations

import json
import pathlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from harness.errors import WeightsError
from systems.adapterkit import check_state_dict, key_shapes
from systems.semanticvocoder.network import GeneratorConfig

SNAPSHOT = "https://huggingface.co/ZeyuXie/SemanticVocoderSnapshot"
ALLOWED_GLOBALS = (pathlib.PosixPath, pathlib.PurePosixPath, pathlib.WindowsPath, pathlib.PureWindowsPath)


@dataclass(frozen=True)
class AutoencoderConfig:
    """The `SemanticVocoder` node's values (defaults = the original's signature)."""

    vocoder: GeneratorConfig
    n_timesteps: int = 200
    sample_rate: int = 24000
    downsampling_ratio: int = 960
    encoder_sampling_rate: int = 16000
    encoder_name: str = "dasheng_base"
    clamp_pred: bool = True


AE_KEYS = {"n_timesteps", "sample_rate", "downsampling_ratio", "encoder_sampling_rate",
           "encoder_name", "clamp_pred"}


def parse_config(cfg: Mapping[str, Any], item: str) -> AutoencoderConfig:
    """`config["model"]["autoencoder"]` (the vocoder snapshot) -> AutoencoderConfig."""
    try:
        ae = cfg["model"]["autoencoder"]
    except (KeyError, TypeError) as exc:
        raise WeightsError(item, f"no model.autoencoder.vocoder node ({exc!r})",
                           f"use config.json from {SNAPSHOT}") from exc
    return parse_autoencoder(ae, item)


def parse_autoencoder(ae: Mapping[str, Any], item: str, allow_no_encoder: bool = False) -> AutoencoderConfig:
    """A `SemanticVocoder` autoencoder node -> AutoencoderConfig; precise errors on anything else.
    `allow_no_encoder`: the text-to-audio model's copy may say encoder_name "none" (the original
    then builds no encoder: "during inference, encoder is not used")."""
    fix = f"use config.json from {SNAPSHOT}"
    try:
        voc = dict(ae["vocoder"])
    except (KeyError, TypeError) as exc:
        raise WeightsError(item, f"no autoencoder.vocoder node ({exc!r})", fix) from exc
    target = str(voc.get("_target_", ""))
    if not target.endswith("MaeAudioGenerator"):
        raise WeightsError(item, f"vocoder _target_ is {target!r}, expected ...MaeAudioGenerator", fix)
    extra = sorted(k for k in ae if k not in AE_KEYS | {"_target_", "vocoder", "checkpoint"})
    if extra:
        raise WeightsError(item, f"autoencoder keys sabench does not implement: {extra}", fix)
    out = AutoencoderConfig(GeneratorConfig.from_kwargs(voc, item),
                            **{k: ae[k] for k in AE_KEYS if k in ae})
    encoders = ("dasheng_base", "none") if allow_no_encoder else ("dasheng_base",)
    if out.encoder_name not in encoders or out.sample_rate != out.vocoder.sampling_rate \
            or out.downsampling_ratio != out.vocoder.hop_length:
        raise WeightsError(item, f"unsupported autoencoder (encoder {out.encoder_name!r}, rate "
                           f"{out.sample_rate}, ratio {out.downsampling_ratio} vs vocoder hop "
                           f"{out.vocoder.hop_length})", fix)
    return out


def read_config(path: Path) -> AutoencoderConfig:
    try:
        cfg = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise WeightsError(str(path), f"unreadable config ({exc})", f"re-download it from {SNAPSHOT}") from exc
    return parse_config(cfg, str(path))


def load_checkpoint(path: Path) -> dict:
    """`torch.load(weights_only=True)` with only the pathlib types allow-listed."""
    try:
        with torch.serialization.safe_globals(list(ALLOWED_GLOBALS)):
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # UnpicklingError and friends
        try:
            unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(path)
        except Exception:
            unsafe = []
        raise WeightsError(str(path), f"cannot be read with torch.load(weights_only=True) "
                           f"(globals needed: {unsafe or 'unknown'}; {type(exc).__name__})",
                           "re-save only its 'model' state dict (torch.save({'model': sd}))") from exc


def generator_state(path: Path, expected: Mapping[str, Any]) -> dict:
    """The "model" state dict of the vocoder checkpoint, strictly matched to `expected` shapes."""
    ckpt = load_checkpoint(path)
    if not isinstance(ckpt, dict) or not isinstance(ckpt.get("model"), Mapping):
        raise WeightsError(str(path), "no generator state dict under key 'model'",
                           f"use semanticVocoder_epoch-270.pt from {SNAPSHOT}")
    state = dict(ckpt["model"])
    check_state_dict(expected, key_shapes(state), str(path))
    return state
