"""`Backbone` wrappers of the mini models (the mini world's PANNs, CLAP, PE-A-Frame,
DAC-VAE and Audiobox Aesthetics stand-ins).

All take 16 kHz mono audio of any length >= 0.2 s (recipe: mean down-mix, length "full").
Inputs of equal length are batched; different lengths run one by one, so a clip's output
never depends on what it was batched with. Weights load from the committed checkpoint
folder (`checkpoint_dir()`), sha256-verified against manifest.json (`WeightsError`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from harness.backbones.base import Backbone
from harness.backbones.common import check_batch, make_info
from harness.errors import WeightsError
from harness.records import AudioRecipe, BackboneInfo
from suites.synthcaps import weights

SR = 16000
MIN_SAMPLES = 3200
"""0.2 s: the shortest input the conv fronts accept (5 feature frames at 25 fps)."""


MODEL_CLASSES = ("Classifier", "Clap", "SemanticEncoder", "AcousticVAE", "QualityNet")
"""The classes of suites.synthcaps.backbones.models a mini checkpoint config may name."""


class MiniBackbone(Backbone):
    """Shared loading and batching; subclasses set `name`, `outputs` and `_forward`."""

    version = "1"
    timed: tuple[str, ...] = ()
    """Outputs with a time axis (padded + "n_frames" when a batch mixes lengths)."""

    def __init__(self, checkpoint_dir: str | Path | None = None):
        self._dir = weights.checkpoint_dir(checkpoint_dir)
        self._model = None
        self._sha: str | None = None
        self.config: dict = {}

    @property
    def recipe(self) -> AudioRecipe:
        return AudioRecipe(sample_rate=SR, mono="mean", length="full")

    @property
    def info(self) -> BackboneInfo:
        return make_info(self.name, self._sha, self.recipe, self.version)

    def load(self) -> None:
        if self._model is not None:
            return
        import torch

        from suites.synthcaps.backbones import models

        config, state, sha = weights.load_backbone(self.name, self._dir)
        if config.get("class") not in MODEL_CLASSES or not isinstance(config.get("kwargs"), dict):
            raise WeightsError(str(self._dir / f"{self.name}.json"), f"class {config.get('class')!r} is not a "
                               "mini model (a checkpoint config is data: it may only name "
                               f"{', '.join(MODEL_CLASSES)}, with a kwargs mapping)", f"run `{weights.RETRAIN}`")
        cls = getattr(models, config["class"])
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            model = cls(**config["kwargs"])
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise WeightsError(str(self._dir / f"{self.name}.safetensors"),
                               f"weights do not fit {config['class']}: {str(exc)[:160]}",
                               f"run `{weights.RETRAIN}`") from exc
        self._model, self._sha, self.config = model.eval(), sha, config

    @property
    def model(self):
        self.load()
        return self._model

    def _forward(self, wave) -> dict[str, object]:
        raise NotImplementedError

    def embed(self, batch: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
        import torch

        xs = check_batch(batch, self.name, MIN_SAMPLES)
        self.load()
        rows: list[dict[str, np.ndarray]] = [{} for _ in xs]
        groups: dict[int, list[int]] = {}
        for i, x in enumerate(xs):
            groups.setdefault(x.shape[0], []).append(i)
        with torch.no_grad():
            for idx in groups.values():
                wave = torch.from_numpy(np.stack([xs[i] for i in idx]))   # (b, T) @ 16 kHz
                out = self._forward(wave)
                for j, i in enumerate(idx):
                    rows[i] = {k: v[j].numpy() for k, v in out.items()}
        return _stack(rows, self.timed)


def _stack(rows: list[dict[str, np.ndarray]], timed: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Stack per-item outputs. Time-varying outputs (`timed`, (T_i, D) each) are zero-padded
    to the longest item and "n_frames" (B,) int64 marks the valid frames (VGGish layout)."""
    out = {}
    for k in rows[0]:
        vals = [r[k] for r in rows]
        if k in timed:
            n = max(v.shape[0] for v in vals)
            vals = [np.pad(v, ((0, n - v.shape[0]),) + ((0, 0),) * (v.ndim - 1)) for v in vals]
        out[k] = np.stack(vals)
    if timed:
        out["n_frames"] = np.asarray([r[timed[0]].shape[0] for r in rows], np.int64)
    return out


class MiniClassifier(MiniBackbone):
    """PANNs stand-in: {"embedding": (B, 128), "logits": (B, 14)} multi-label over sources."""

    name = "mini_classifier"
    outputs = ("embedding", "logits")

    def _forward(self, wave):
        e, logits = self._model(wave)
        return {"embedding": e, "logits": logits}


class MiniClap(MiniBackbone):
    """CLAP stand-in: {"embedding": (B, 128)} unit-norm audio; `embed_text` -> (B, 128)."""

    name = "mini_clap"
    outputs = ("embedding",)
    version = "2"
    """2: the text GRU runs packed (a caption's embedding no longer depends on the longest
    caption of its batch); version-1 cache entries are not reused."""

    def _forward(self, wave):
        return {"embedding": self._model.embed_audio(wave)}

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        from suites.synthcaps.backbones.models import encode_texts

        self.load()
        with torch.no_grad():
            return self._model.embed_text(encode_texts(list(texts))).numpy()


class MiniSemantic(MiniBackbone):
    """PE-A-Frame stand-in: {"frames": (B, T25, 64) @ 25 fps, "frame_logits": (B, T25, 14),
    "embedding": (B, 64) time-mean of frames, "n_frames": (B,) valid frames}."""

    name = "mini_semantic"
    outputs = ("frames", "frame_logits", "embedding", "n_frames")
    timed = ("frames", "frame_logits")
    frame_rate = 25

    def _forward(self, wave):
        f, logits, _ = self._model(wave)                                   # (b, 64, T25)
        return {"frames": f.transpose(1, 2), "frame_logits": logits.transpose(1, 2),
                "embedding": f.mean(-1)}


class MiniVAE(MiniBackbone):
    """DAC-VAE stand-in: {"latents": (B, T25, 32)} posterior mean @ 25 Hz; `decode` inverts."""

    name = "mini_vae"
    outputs = ("latents", "n_frames")
    timed = ("latents",)
    latent_rate = 25
    hop = 640

    def _forward(self, wave):
        mu, _ = self._model.encode(wave)
        return {"latents": mu.transpose(1, 2)}

    def decode(self, latents: np.ndarray) -> np.ndarray:
        """(B, T25, 32) -> (B, T25 * 640) float32 waveform @ 16 kHz."""
        import torch

        self.load()
        with torch.no_grad():
            z = torch.from_numpy(np.asarray(latents, np.float32)).transpose(1, 2)
            return self._model.decode(z).numpy()


class MiniQuality(MiniBackbone):
    """Aesthetics stand-in: {"quality": (B,)} in [0, 1], 1 = clean; trained on controlled
    noise / clipping / band-limiting / dropout degradations (no CE/CU/PC/PQ axes)."""

    name = "mini_quality"
    outputs = ("quality",)

    def _forward(self, wave):
        return {"quality": self._model(wave)}
