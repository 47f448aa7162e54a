"""Audiobox Aesthetics (audiobox_aesthetics 0.0.4): CE / CU / PC / PQ per clip at 16 kHz.

`initialize_predictor(path)` silently downloads from the hub when `path` is missing, and its
`torch.load` is not weights-only; so the model class `AesMultiOutput` is built here directly
from a local `checkpoint.pt` (dict with `state_dict` [keys `model.*`], `model_cfg`,
`target_transform`), the way the package's `AesPredictor.setup_model` does, with
`torch.load(weights_only=True)` and `strict=True`.

Scoring follows `AesPredictor.forward`: mono 16 kHz (the recipe's channel mean and
resampling), the package's `make_inference_batch` (10 s windows, hop 10 s, last window
zero-padded and masked), per-axis de-normalisation with the checkpoint's
`target_transform` mean/std, then the length-weighted mean over each clip's windows.
Precision comes from `model_cfg["precision"]` and is recorded in `info.version`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from harness.backbones.base import Backbone
from harness.backbones.common import check_batch, file_sha256, make_info
from harness.errors import WeightsError
from harness.records import AudioRecipe, BackboneInfo
from harness.weights import load_into, load_torch_checkpoint, require, weights_root

AXES = ("CE", "CU", "PC", "PQ")
SAMPLE_RATE = 16000
RELPATH = "audiobox_aesthetics/checkpoint.pt"
CFG_KEYS = ("proj_num_layer", "proj_ln", "proj_act_fn", "proj_dropout", "nth_layer",
            "use_weighted_layer_sum", "precision", "normalize_embed", "output_dim")


class AudioboxAesthetics(Backbone):
    name = "aesthetics"
    outputs = AXES
    batch_size = 8

    def __init__(self, weights: str | Path | None = None, recipe: AudioRecipe | None = None,
                 device: str = "cpu"):
        self._weights = weights
        self._recipe = recipe or AudioRecipe(sample_rate=SAMPLE_RATE, mono="mean", length="full")
        self.device = device
        self._model: Any = None  # audiobox_aesthetics model (untyped), built by load()
        self._precision = "?"
        self._sha: str | None = None

    @property
    def info(self) -> BackboneInfo:
        return make_info(self.name, self._sha, self._recipe,
                         version=f"audiobox_aesthetics-0.0.4;precision={self._precision};win=10s,hop=10s",
                         device=self.device)

    def load(self) -> None:
        if self._model is not None:
            return
        path = require(self.name, RELPATH, weights_root(self._weights))
        ckpt = load_torch_checkpoint(path, "audiobox aesthetics")
        missing = [k for k in ("state_dict", "model_cfg", "target_transform")
                   if not isinstance(ckpt, dict) or k not in ckpt]
        if missing:
            raise WeightsError(str(path), f"aesthetics: checkpoint lacks {missing}", "use the published checkpoint.pt")
        cfg = ckpt["model_cfg"]
        absent = [k for k in CFG_KEYS if k not in cfg]
        if absent or any(a not in ckpt["target_transform"] for a in AXES):
            raise WeightsError(str(path), f"aesthetics: model_cfg/target_transform incomplete ({absent})",
                               "use the published checkpoint.pt")
        from harness.extras import require as require_extra

        AesMultiOutput = require_extra("audiobox_aesthetics.model.aes", extra="aesthetics",
                                 item="backbone aesthetics").AesMultiOutput

        model = AesMultiOutput(**{k: cfg[k] for k in CFG_KEYS}, target_transform=ckpt["target_transform"])
        state = {re.sub(r"^model\.", "", k): v for k, v in ckpt["state_dict"].items()}
        load_into(model, state, path, "audiobox aesthetics")
        self._model = model.eval().to(self.device)
        self._precision = str(cfg["precision"])
        self._sha = file_sha256(path)

    def embed(self, batch: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
        import torch

        from harness.extras import require as require_extra

        make_inference_batch = require_extra("audiobox_aesthetics.infer", extra="aesthetics",
                                       item="backbone aesthetics").make_inference_batch

        self.load()
        clips = check_batch(batch, self.name)
        waves = [torch.from_numpy(c)[None] for c in clips]  # each (1, T) @ 16 kHz
        wins, masks, weights, bids = make_inference_batch(waves, 10, 10, sample_rate=SAMPLE_RATE)
        wav = torch.stack(wins).to(self.device)  # (W, 1, 160000) windows
        mask = torch.stack(masks).to(self.device)  # (W, 1, 160000) True on real samples
        w = torch.tensor(weights, dtype=torch.float64)  # (W,) window length / 10 s
        bid = torch.tensor(bids)
        with torch.inference_mode():
            preds = self._model({"wav": wav, "mask": mask})  # axis -> (W,) normalised scores
        out: dict[str, np.ndarray] = {}
        for axis in AXES:
            tt = self._model.target_transform[axis]
            p = preds[axis].double().cpu() * tt["std"] + tt["mean"]  # (W,) de-normalised
            out[axis] = np.array([float((p[bid == i] * w[bid == i]).sum() / w[bid == i].sum())
                                  for i in range(len(clips))], np.float32)  # (B,)
        return out
