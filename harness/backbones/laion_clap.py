"""LAION-CLAP (laion_clap 1.1.7): 512-d L2-normalised audio and text embeddings at 48 kHz.

Offline construction (all patches in `harness.backbones.offline`):
- `import laion_clap` reads its three module-level tokenizers from
  `laion_clap/tokenizers/{bert-base-uncased,roberta-base,facebook-bart-base}/`;
- `CLAP_Module(enable_fusion, amodel)` is built with `RobertaModel` constructed from
  `laion_clap/tokenizers/roberta-base/config.json` (no `from_pretrained('roberta-base')`),
  and its `RobertaTokenizer` read from the same folder; the checkpoint then overwrites all
  text-tower weights, so only the architecture comes from config.json.

Checkpoints (name -> audio encoder, fusion):

| name | amodel | fusion |
|---|---|---|
| 630k-audioset-best | HTSAT-tiny | no |
| 630k-audioset-fusion-best | HTSAT-tiny | yes |
| music_speech_audioset_epoch_15_esc_89.98 | HTSAT-base | no |

Loading: `torch.load(weights_only=True)`. The published 630k files pickle a few numpy
scalars next to the state dict (that is why the package uses `weights_only=False`); we allow
exactly `numpy.core.multiarray.scalar` and `numpy.dtype` (+ the float64/float32/int64 dtype
classes) through `torch.serialization.safe_globals`, nothing else. `module.` prefixes are
stripped and `text_branch.embeddings.position_ids` dropped (transformers ≥ 4.31), then the
state dict is loaded `strict=True`.

Audio (recorded as `crop_policy` in `info.version`): the recipe does mean down-mix, 48 kHz
and the int16 round trip that the package's numpy path applies. Clips longer than 10 s
(480,000 samples): non-fusion uses the **first 10 s** (the package takes a random crop);
fusion keeps the package's chunk choice but draws it from a numpy RNG seeded by the clip's
content hash (`derive_seed(0, "laion-fusion", sha256(clip))`), with the global numpy state
saved and restored around the call. Shorter clips: the package's `repeatpad`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.backbones.base import Backbone
from harness.backbones.common import check_batch, combined_sha256, make_info
from harness.errors import WeightsError
from harness.records import AudioRecipe, BackboneInfo
from harness.weights import load_into, load_torch_checkpoint, require, weights_root

MAX_LEN = 480_000  # 10 s @ 48 kHz
TOKENIZER_DIR = "laion_clap/tokenizers"


@dataclass(frozen=True)
class ClapCheckpoint:
    name: str
    amodel: str
    fusion: bool

    @property
    def relpath(self) -> str:
        return f"laion_clap/{self.name}.pt"


CHECKPOINTS = {c.name: c for c in (
    ClapCheckpoint("630k-audioset-best", "HTSAT-tiny", False),
    ClapCheckpoint("630k-audioset-fusion-best", "HTSAT-tiny", True),
    ClapCheckpoint("music_speech_audioset_epoch_15_esc_89.98", "HTSAT-base", False),
)}


def numpy_safe_globals() -> list:
    """The numpy objects the 630k checkpoints pickle (allowed for weights-only loading)."""
    import numpy.core.multiarray as multiarray

    scalar = multiarray.scalar  # type: ignore[attr-defined]  # numpy's stubs omit the pickle reconstructor
    return [scalar, np.dtype, type(np.dtype(np.float64)), type(np.dtype(np.float32)),
            type(np.dtype(np.int64))]


@contextlib.contextmanager
def seeded_numpy_global(seed: int) -> Iterator[None]:
    """Seed numpy's global RNG for one package call, restoring the previous state after."""
    state = np.random.get_state()
    np.random.seed(seed % (2**32))
    try:
        yield
    finally:
        np.random.set_state(state)


class LaionClap(Backbone):
    name = "laion_clap"
    outputs = ("embedding",)
    batch_size = 8

    def __init__(self, checkpoint: str = "630k-audioset-best", weights: str | Path | None = None,
                 recipe: AudioRecipe | None = None, device: str = "cpu"):
        if checkpoint not in CHECKPOINTS:
            raise WeightsError(checkpoint, "unknown LAION-CLAP checkpoint", f"use one of {sorted(CHECKPOINTS)}")
        self.checkpoint = CHECKPOINTS[checkpoint]
        self.name = f"laion_clap:{checkpoint}"
        self._weights = weights
        self._recipe = recipe or AudioRecipe(sample_rate=48000, mono="mean", length="full",
                                             int16_roundtrip=True)
        self.device = device
        self._clap: Any = None  # laion_clap CLAP_Module (untyped), built by load()
        self._sha: str | None = None

    @property
    def info(self) -> BackboneInfo:
        crop = "fusion_seeded_by_content" if self.checkpoint.fusion else "first_10s"
        return make_info(self.name, self._sha, self._recipe,
                         version=f"laion_clap-1.1.7;{self.checkpoint.amodel};crop_policy={crop}", device=self.device)

    def load(self) -> None:
        if self._clap is not None:
            return
        root = weights_root(self._weights)
        ckpt_path = require("laion_clap", self.checkpoint.relpath, root)
        files = [require("laion_clap", f"{TOKENIZER_DIR}/roberta-base/{f}", root)
                 for f in ("config.json", "vocab.json", "merges.txt")]
        state = self._read_state(ckpt_path)
        tok_dir = files[0].parent.parent  # <weights>/TOKENIZER_DIR, checked by require()
        clap = _build_module(self.checkpoint, tok_dir, self.device)
        load_into(clap.model, state, ckpt_path, self.name)
        clap.eval()
        self._sha = combined_sha256([ckpt_path, *files])
        self._clap = clap

    def _read_state(self, path: Path) -> dict:
        ckpt = load_torch_checkpoint(path, self.name, extra_safe_globals=numpy_safe_globals())
        state = ckpt.get("state_dict", ckpt) if isinstance(ckpt, dict) else None
        if not isinstance(state, dict) or not state:
            raise WeightsError(str(path), f"{self.name}: no state dict in checkpoint", "use the published .pt file")
        state = {(k[7:] if k.startswith("module.") else k): v for k, v in state.items()}
        state.pop("text_branch.embeddings.position_ids", None)
        return state

    def _features(self, clip: np.ndarray) -> dict:
        import torch

        from harness.hashing import sha256_array
        from harness.seeding import derive_seed

        data = _imported("laion_clap.training.data")
        if len(clip) > MAX_LEN and not self.checkpoint.fusion:
            clip = clip[:MAX_LEN]  # deterministic: first 10 s
        mode = "fusion" if self.checkpoint.fusion else "rand_trunc"
        seed = derive_seed(0, "laion-fusion", sha256_array(clip)) if len(clip) > MAX_LEN else 0
        with seeded_numpy_global(seed):
            return data.get_audio_features({}, torch.from_numpy(clip), MAX_LEN, data_truncating=mode,
                                           data_filling="repeatpad",
                                           audio_cfg=self._clap.model_cfg["audio_cfg"], require_grad=False)

    def embed(self, batch: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
        import torch

        self.load()
        clips = check_batch(batch, self.name)
        feats = [self._features(c) for c in clips]  # one dict per clip (waveform / mel_fusion, longer)
        with torch.inference_mode():
            emb = self._clap.model.get_audio_embedding(feats)  # (B, 512), L2-normalised
        return {"embedding": emb.float().cpu().numpy()}

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        self.load()
        tokens = self._clap.tokenizer(list(texts))  # roberta, padded to 77, truncation on
        with torch.inference_mode():
            emb = self._clap.model.get_text_embedding(dict(tokens))  # (B, 512), L2-normalised
        return emb.float().cpu().numpy()


def _imported(name: str):
    """A module that `import laion_clap` already imported (e.g. its top-level `clap_module`)."""
    import sys

    return sys.modules[name]


def _build_module(ckpt: ClapCheckpoint, tok_root: Path, device: str):
    """`CLAP_Module` with its Roberta text tower built from the local config (no hub)."""
    import types

    from harness.extras import ensure_installed
    from harness.extras import require as require_extra

    ensure_installed("laion_clap", extra="clap", item="backbone laion_clap")
    transformers = require_extra("transformers", extra="clap", item="backbone laion_clap")
    RobertaConfig, RobertaModel, RobertaTokenizer = (transformers.RobertaConfig, transformers.RobertaModel,
                                                     transformers.RobertaTokenizer)
    from harness.backbones.offline import import_laion_clap, patched_attr, redirect_from_pretrained

    laion_clap = import_laion_clap(tok_root)
    model_mod = _imported("clap_module.model")
    config = RobertaConfig.from_json_file(str(tok_root / "roberta-base" / "config.json"))
    shim = types.SimpleNamespace(from_pretrained=lambda name, *a, **k: _roberta_from_config(name, config))
    redirect = {RobertaTokenizer: {"roberta-base": tok_root / "roberta-base"}}
    with patched_attr(model_mod, "RobertaModel", shim), redirect_from_pretrained(redirect):
        clap = laion_clap.CLAP_Module(enable_fusion=ckpt.fusion, device=device, amodel=ckpt.amodel)
    assert isinstance(clap.model.text_branch, RobertaModel)
    return clap


def _roberta_from_config(name: str, config):
    from harness.extras import require as require_extra

    RobertaModel = require_extra("transformers", extra="clap", item="backbone laion_clap").RobertaModel

    if name != "roberta-base":
        raise WeightsError(name, "laion_clap asked for an unexpected text model", "only roberta-base is supported")
    return RobertaModel(config)


def laion_clap_backbone(checkpoint: str = "630k-audioset-best", **kwargs) -> LaionClap:
    return LaionClap(checkpoint, **kwargs)
