"""Derive TangoFlux's published checkpoint key list from the ORIGINAL code (not from sabench).

Usage (the original code lives in a temporary folder, never in this repository):

    git --git-dir <mirror of declare-lab/TangoFlux> archive HEAD | tar -x -C <tf_src>
    python systems/tangoflux/keys/derive.py <tf_src> <commit> systems/tangoflux/keys

It imports the original `tangoflux/model.py`, builds `TangoFlux(config)` from the original
`configs/tangoflux_config.yaml` on the `meta` device, and writes its state-dict names and
shapes minus the one key the original loads non-strictly
(`text_encoder.encoder.embed_tokens.weight`, tied to `text_encoder.shared.weight`).
`T5EncoderModel.from_pretrained("google/flan-t5-large")` is replaced by a model built from
flan-t5-large's published config values (written out below), because no hub is reachable;
the tokenizer is not needed for keys. The VAE list is diffusers' default
`AutoencoderOobleck()`, which is what the original inference builds before loading
`vae.safetensors`.
"""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import torch

FLAN_T5_LARGE = dict(vocab_size=32128, d_model=1024, d_kv=64, d_ff=2816, num_layers=24,
                     num_decoder_layers=24, num_heads=16, relative_attention_num_buckets=32,
                     relative_attention_max_distance=128, feed_forward_proj="gated-gelu",
                     tie_word_embeddings=False)
"""google/flan-t5-large config.json (the values that fix parameter shapes)."""


def _stub_datasets() -> None:
    """The original imports `datasets` (training only); it is not installed here."""
    mod = types.ModuleType("datasets")
    mod.load_dataset = lambda *a, **k: None
    mod.Audio = object
    sys.modules.setdefault("datasets", mod)


def derive(orig: Path, commit: str, out: Path) -> None:
    import diffusers
    import transformers
    import yaml
    from transformers import T5Config, T5EncoderModel

    _stub_datasets()
    sys.path.insert(0, str(orig))
    import tangoflux.model as M  # the original module

    M.T5EncoderModel.from_pretrained = staticmethod(lambda name: T5EncoderModel(T5Config(**FLAN_T5_LARGE)))
    M.T5TokenizerFast.from_pretrained = staticmethod(lambda name: None)
    config = yaml.safe_load((orig / "configs/tangoflux_config.yaml").read_text())["model"]
    with torch.device("meta"):
        model = M.TangoFlux(config)
        vae = diffusers.AutoencoderOobleck()
    keys = {k: list(v.shape) for k, v in model.state_dict().items()
            if k != "text_encoder.encoder.embed_tokens.weight"}
    src = (f"declare-lab/TangoFlux@{commit} tangoflux/model.py TangoFlux(configs/tangoflux_config.yaml) "
           f"on meta; diffusers {diffusers.__version__}, transformers {transformers.__version__}")
    _write(out / "tangoflux.json", src, keys)
    _write(out / "vae.json", f"diffusers {diffusers.__version__} AutoencoderOobleck() defaults",
           {k: list(v.shape) for k, v in vae.state_dict().items()})


def _write(path: Path, source: str, keys: dict) -> None:
    path.write_text(json.dumps({"source": source, "count": len(keys), "keys": keys}, indent=0) + "\n")
    print(f"{path}: {len(keys)} keys")


if __name__ == "__main__":
    derive(Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]))
