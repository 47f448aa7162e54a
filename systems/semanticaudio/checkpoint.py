"""Checkpoints: `model.safetensors` + `config.json` (+ `optimizer.pt`) in one directory.

config.json holds the model config (stage, DiT, head), latent normalisation statistics
(also stored as buffers in the safetensors file, which are authoritative), the flow
config, the encoders spec, the training step and the training config. Loading into a model
whose config differs is refused with a message naming every mismatched field. The
optimizer state is written with `torch.save` and read with `torch.load(weights_only=True)`.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from harness.errors import WeightsError
from harness.hashing import sha256_file
from harness.paths import default_file_mode
from systems.semanticaudio.model import FlowModel, ModelConfig

FORMAT = "sabench-semanticaudio/1"


def _atomic_write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
    os.fchmod(fd, default_file_mode())                          # not mkstemp's 0600: honour the umask
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _write_weights(path: Path, model: FlowModel) -> None:
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    _atomic_write(path, lambda p: save_file(state, p))


def save(ckpt_dir: str | Path, model: FlowModel, extra: dict[str, Any] | None = None,
         optimizer: torch.optim.Optimizer | None = None) -> Path:
    """Write model.safetensors, config.json (and optimizer.pt). Returns the directory."""
    d = Path(ckpt_dir)
    _write_weights(d / "model.safetensors", model)
    if optimizer is not None:
        _atomic_write(d / "optimizer.pt", lambda p: torch.save(optimizer.state_dict(), p))
    config = {"format": FORMAT, "model": model.cfg.to_dict(),
              "latent_stats": {"mean": model.latent_mean.tolist(), "std": model.latent_std.tolist()},
              **(extra or {})}
    _atomic_write(d / "config.json", lambda p: Path(p).write_text(json.dumps(config, indent=1, sort_keys=True)))
    return d


RAW = "raw.safetensors"
"""Training state beside optimizer.pt: the raw weights when model.safetensors holds their EMA."""


def save_raw(ckpt_dir: str | Path, model: FlowModel) -> None:
    _write_weights(Path(ckpt_dir) / RAW, model)


def load_raw(ckpt_dir: str | Path, model: FlowModel) -> None:
    path = Path(ckpt_dir) / RAW
    if not path.is_file():
        raise WeightsError(str(path), "raw weights missing: this checkpoint was trained with ema but kept "
                           "no training state", "resume from a checkpoint saved during training, not a release")
    model.load_state_dict(load_file(str(path)), strict=True)


def read_config(ckpt_dir: str | Path) -> dict:
    p = Path(ckpt_dir) / "config.json"
    if not p.is_file():
        raise WeightsError(str(p), "checkpoint config.json is missing",
                           "point at a directory written by systems.semanticaudio.train")
    try:
        cfg = json.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WeightsError(str(p), f"checkpoint config.json is not valid JSON ({exc})",
                           "re-copy the checkpoint folder") from None
    if not isinstance(cfg, dict) or cfg.get("format") != FORMAT:
        cfg = cfg if isinstance(cfg, dict) else {}
        raise WeightsError(str(p), f"unknown checkpoint format {cfg.get('format')!r}", f"expected {FORMAT}")
    return cfg


def _flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(d, dict):
        return {prefix: d}
    out: dict[str, Any] = {}
    for k, v in d.items():
        out.update(_flatten(v, f"{prefix}.{k}" if prefix else k))
    return out


def mismatches(saved: dict, wanted: dict) -> list[str]:
    """Field-by-field differences between two model configs, as 'field: saved X, model Y'."""
    a, b = _flatten(saved), _flatten(wanted)
    return [f"{k}: checkpoint {a.get(k, '<absent>')!r}, model {b.get(k, '<absent>')!r}"
            for k in sorted(set(a) | set(b)) if a.get(k, "<absent>") != b.get(k, "<absent>")]


def _with_defaults(saved: dict) -> dict:
    """The saved model config with fields added since it was written at their defaults (so an
    older checkpoint still matches); left as saved if it does not parse (mismatches names it)."""
    try:
        return ModelConfig.from_dict(saved).to_dict()
    except (KeyError, TypeError, ValueError):
        return saved


def load_into(ckpt_dir: str | Path, model: FlowModel) -> dict:
    """Load weights into `model` after checking its config matches. Returns config.json."""
    cfg = read_config(ckpt_dir)
    bad = mismatches(_with_defaults(cfg["model"]), model.cfg.to_dict())
    if bad:
        raise WeightsError(str(ckpt_dir), "checkpoint config differs from the model's: " + "; ".join(bad),
                           "build the model from the checkpoint's config.json (load_model) "
                           "or pick the matching checkpoint")
    path = Path(ckpt_dir) / "model.safetensors"
    if not path.is_file():
        raise WeightsError(str(path), "model.safetensors is missing", "re-run training or copy the file")
    model.load_state_dict(load_file(str(path)), strict=True)
    return cfg


def load_model(ckpt_dir: str | Path, device: str = "cpu") -> tuple[FlowModel, dict]:
    """Build a `FlowModel` from the checkpoint's own config and load it."""
    cfg = read_config(ckpt_dir)
    try:
        model_cfg = ModelConfig.from_dict(cfg["model"])
    except (KeyError, TypeError, ValueError) as exc:
        raise WeightsError(str(Path(ckpt_dir) / "config.json"), f"bad model config ({type(exc).__name__}: {exc})",
                           "use a config.json written by systems.semanticaudio.train") from None
    model = FlowModel(model_cfg)
    load_into(ckpt_dir, model)
    return model.to(device).eval(), cfg


def load_optimizer(ckpt_dir: str | Path, optimizer: torch.optim.Optimizer) -> None:
    p = Path(ckpt_dir) / "optimizer.pt"
    if not p.is_file():
        raise WeightsError(str(p), "optimizer state is missing; cannot resume exactly",
                           "resume from a checkpoint saved by the trainer")
    optimizer.load_state_dict(torch.load(p, map_location="cpu", weights_only=True))


def checkpoint_sha256(ckpt_dir: str | Path) -> str:
    return sha256_file(Path(ckpt_dir) / "model.safetensors")
