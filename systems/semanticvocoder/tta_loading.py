"""Loading SemanticVocoder's text-to-audio model from a local snapshot (never the hub).

Layout (`<weights>/`):

    semanticvocoder/tta/config.json        # huggingface.co/ZeyuXie/SemanticVocoder
    semanticvocoder/tta/model.safetensors  # same snapshot; or model.safetensors.index.json +
                                           # shards; or pytorch_model.bin (weights_only=True)
    flan-t5-large/config.json + tokenizer  # huggingface.co/google/flan-t5-large (the original
                                           # builds T5 from this config and this tokenizer; the T5
                                           # weights ship inside the model file)

The network is built on `meta`, the file's keys/shapes are checked strictly against it (T5's
tied input embedding may be stored under either of its two names: transformers' safetensors
writer keeps one), then the tensors are assigned (float32).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from harness.errors import WeightsError
from systems.adapterkit import check_state_dict, files_sha256, key_shapes, safetensors_shapes
from systems.semanticvocoder.tta import HUB, TIED, Published, TextToAudio, parse_tta_config

MODEL_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin")


def checkpoint_files(folder: Path) -> list[Path]:
    """The weight files of the snapshot in `folder` (first layout found in MODEL_FILES order)."""
    for name in MODEL_FILES:
        path = folder / name
        if not path.exists():
            continue
        if name.endswith(".index.json"):
            index = json.loads(path.read_text())
            shards = sorted(set(index.get("weight_map", {}).values()))
            missing = [s for s in shards if not (folder / s).exists()]
            if not shards or missing:
                raise WeightsError(str(path), f"shards missing: {missing or 'none listed'}",
                                   f"download every model-*.safetensors shard from {HUB}")
            return [folder / s for s in shards]
        return [path]
    raise WeightsError(str(folder), f"no weights ({' / '.join(MODEL_FILES)})",
                       f"download the snapshot of {HUB} into this folder")


def read_state(files: list[Path]) -> dict[str, torch.Tensor]:
    """All tensors of the snapshot, float32; .bin files only through weights_only=True."""
    state: dict[str, torch.Tensor] = {}
    for f in files:
        if f.suffix == ".safetensors":
            from safetensors.torch import load_file

            part = load_file(str(f))
        else:
            try:
                part = torch.load(f, map_location="cpu", weights_only=True)
            except Exception as exc:
                raise WeightsError(str(f), f"cannot be read with torch.load(weights_only=True) "
                                   f"({type(exc).__name__})", "convert it to model.safetensors") from exc
        state.update({k: v.float() if v.is_floating_point() else v for k, v in part.items()})
    return state


def header_shapes(files: list[Path]) -> dict[str, list[int]] | None:
    """Key -> shape from the safetensors headers alone (no tensor read); None for .bin files."""
    if any(f.suffix != ".safetensors" for f in files):
        return None
    return safetensors_shapes(files)


def untie(state: dict) -> dict:
    """Store T5's shared embedding under `shared.weight` only (whichever name the file used);
    works on tensors or on shapes."""
    shared, embed = TIED
    if shared not in state and embed in state:
        state[shared] = state.pop(embed)
    state.pop(embed, None)
    return state


def build(cfg_path: Path, folder: Path, t5_dir: Path, sha: str | None = None) -> TextToAudio:
    """The model described by `cfg_path`, weights from `folder`, T5 config/tokenizer from `t5_dir`."""
    from harness.extras import require

    tf = require("transformers", extra="semanticvocoder", item="system semanticvocoder")
    AutoTokenizer, T5Config = tf.AutoTokenizer, tf.T5Config

    try:
        doc = json.loads(Path(cfg_path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise WeightsError(str(cfg_path), f"unreadable config ({exc})", f"re-download it from {HUB}") from exc
    cfg = parse_tta_config(doc, str(cfg_path))
    t5_cfg = T5Config.from_pretrained(str(t5_dir), local_files_only=True)
    with torch.device("meta"):
        net = Published(cfg, t5_cfg)
    expected = {k: v for k, v in key_shapes(net.state_dict()).items() if k != TIED[1]}
    files = checkpoint_files(Path(folder))
    shapes = header_shapes(files)                       # a wrong file is refused before reading it
    if shapes is not None:
        check_state_dict(expected, untie(shapes), str(files[0]))
    state = untie(read_state(files))
    if shapes is None:
        check_state_dict(expected, key_shapes(state), str(files[0]))
    net.load_state_dict(state, strict=False, assign=True)
    net.model.content_encoder.text_encoder.tie()
    left = [n for n, t in list(net.named_parameters()) + list(net.named_buffers()) if t.is_meta]
    if left:
        raise WeightsError(str(files[0]), f"{len(left)} tensors not loaded: {left[:5]}",
                           f"use the complete snapshot of {HUB}")
    tok = AutoTokenizer.from_pretrained(str(t5_dir), local_files_only=True)
    return TextToAudio(net.eval(), tok, sha or files_sha256([Path(cfg_path), *files]))
