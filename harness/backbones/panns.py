"""PANNs Cnn14 (16 kHz and 32 kHz): the FD / IS / KL backbone.

Built directly as `panns_inference.models.Cnn14` (never `AudioTagging`, which wgets the
checkpoint; and without running `panns_inference/__init__`, which wgets a label CSV — see
`harness.backbones.offline.import_panns_models`). The checkpoint is the Zenodo
`{"model": state_dict}` file, loaded with `torch.load(weights_only=True)` and `strict=True`.

Outputs per clip:
- `"embedding"` (B, 2048): the post-ReLU fc1 vector (dropout inactive in eval mode);
- `"logits"` (B, 527): the **pre-sigmoid** AudioSet scores. Cnn14's forward only returns
  `clipwise_output = sigmoid(fc_audioset(x))`; inverting the sigmoid loses precision where it
  saturates (float32 sigmoid is exactly 1.0 above ≈ 17), so a forward hook on `fc_audioset`
  captures its output. IS/KL softmax conventions need these logits.

Clips in one batch are grouped by length and never padded together (padding would change
the time pooling); with equal-length clips (the usual case) a batch is one forward pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.backbones.base import Backbone
from harness.backbones.common import check_batch, file_sha256, groups_by_length, make_info
from harness.errors import WeightsError
from harness.records import AudioRecipe, BackboneInfo
from harness.weights import load_into, load_torch_checkpoint, require, weights_root


@dataclass(frozen=True)
class Cnn14Variant:
    """Front-end constants of one published Cnn14 checkpoint (reference/metrics.md §2)."""

    name: str
    relpath: str
    sample_rate: int
    window_size: int
    hop_size: int
    fmax: int
    mel_bins: int = 64
    fmin: int = 50
    classes: int = 527


VARIANTS = {
    "panns16k": Cnn14Variant("panns16k", "panns/Cnn14_16k_mAP=0.438.pth", 16000, 512, 160, 8000),
    "panns32k": Cnn14Variant("panns32k", "panns/Cnn14_mAP=0.431.pth", 32000, 1024, 320, 14000),
}


def default_recipe(sample_rate: int) -> AudioRecipe:
    """Channel mean, whole clip, zero-padded to ≥ 1 s (Cnn14 pools time 32×; 1 s = 100 frames)."""
    return AudioRecipe(sample_rate=sample_rate, mono="mean", length="pad_min", min_seconds=1.0)


class PannsCnn14(Backbone):
    """Cnn14 from a local checkpoint. Construction is cheap; `load()` builds and loads."""

    outputs = ("embedding", "logits")
    batch_size = 16
    defers_load = True

    def __init__(self, variant: str = "panns16k", weights: str | Path | None = None,
                 recipe: AudioRecipe | None = None, device: str = "cpu"):
        if variant not in VARIANTS:
            raise WeightsError(variant, "unknown Cnn14 variant", f"use one of {sorted(VARIANTS)}")
        self.variant = VARIANTS[variant]
        self.name = variant
        self._weights = weights
        self._recipe = recipe or default_recipe(self.variant.sample_rate)
        if self._recipe.sample_rate != self.variant.sample_rate:
            raise WeightsError(variant, f"recipe sample rate {self._recipe.sample_rate} Hz, model needs "
                               f"{self.variant.sample_rate} Hz", "use a recipe at the model's rate")
        self.device = device
        self._model: Any = None  # panns_inference Cnn14 (untyped), built by load()
        self._logits: list = []
        self._sha: str | None = None

    @property
    def info(self) -> BackboneInfo:
        return make_info(self.name, self._sha, self._recipe, version="panns_inference-0.1.1-cnn14", device=self.device)

    def checkpoint_path(self) -> Path:
        return require(self.name, self.variant.relpath, weights_root(self._weights))

    def identify(self) -> None:
        """`info` without building the model: the checkpoint's sha256 (missing file: WeightsError)."""
        if self._sha is None:
            self._sha = file_sha256(self.checkpoint_path())

    def load(self) -> None:
        if self._model is not None:
            return
        path = self.checkpoint_path()
        ckpt = load_torch_checkpoint(path, f"{self.name} Cnn14")
        if not isinstance(ckpt, dict) or "model" not in ckpt:
            raise WeightsError(str(path), f"{self.name}: expected a dict with key 'model' (the Zenodo format)",
                               "use the published Cnn14 checkpoint")
        models = _panns_models()
        v = self.variant
        model = models.Cnn14(sample_rate=v.sample_rate, window_size=v.window_size, hop_size=v.hop_size,
                             mel_bins=v.mel_bins, fmin=v.fmin, fmax=v.fmax, classes_num=v.classes)
        load_into(model, ckpt["model"], path, f"{self.name} Cnn14")
        model.eval().to(self.device)
        model.fc_audioset.register_forward_hook(lambda _m, _i, out: self._logits.append(out.detach()))
        self._sha = file_sha256(path)
        self._model = model

    def embed(self, batch: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
        import torch

        self.load()
        clips = check_batch(batch, self.name, min_samples=self.variant.hop_size * 32)
        emb = np.zeros((len(clips), 2048), np.float32)
        logits = np.zeros((len(clips), self.variant.classes), np.float32)
        for idx in groups_by_length(clips):
            x = torch.from_numpy(np.stack([clips[i] for i in idx])).to(self.device)  # (b, T) @ sr
            self._logits.clear()
            with torch.inference_mode():
                out = self._model(x)
            emb[idx] = out["embedding"].float().cpu().numpy()  # (b, 2048) post-ReLU fc1
            logits[idx] = self._logits[-1].float().cpu().numpy()  # (b, 527) pre-sigmoid
        return {"embedding": emb, "logits": logits}


def _panns_models():
    from harness.backbones.offline import import_panns_models

    return import_panns_models()


def panns16k(**kwargs) -> PannsCnn14:
    return PannsCnn14("panns16k", **kwargs)


def panns32k(**kwargs) -> PannsCnn14:
    return PannsCnn14("panns32k", **kwargs)
