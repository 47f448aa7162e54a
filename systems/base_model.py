"""`base-model`: SemanticAudio's controlled baseline, the same DiT generating DAC-VAE latents
directly from text (no semantic stage).

- generate: Euler, `steps` (default 50), CFG `cfg` (default 4.5; the paper does not state
  the Base Model's sampler settings, so the planner's are used).
- edit: FlowEdit in the acoustic latent space ("DAC FlowEdit" in the paper), same FlowEdit
  defaults as SemanticAudio's editor (null source, target CFG 5.0, 50 steps, n_max 42).
- reconstruct: VAE encode (posterior mean) -> decode.

Checkpoint: `<checkpoint>/base/` or `<checkpoint>` itself (see systems/semanticaudio/adapter.py).
"""

from __future__ import annotations

from harness.hashing import sha256_json
from systems.semanticaudio import checkpoint
from systems.semanticaudio.adapter import _FlowSystem
from systems.semanticaudio.pipeline import BaseModelPipeline


class BaseModelSystem(_FlowSystem):
    name = "base-model"
    _defaults = {"base_steps": 50, "base_cfg": 4.5}

    def load(self) -> None:
        if self._pipe is not None:
            return
        root = self._root("base")
        if (root / "base" / "config.json").is_file():
            root = root / "base"
        model, conf = checkpoint.load_model(root, self.params["device"])
        if model.cfg.stage != "base":
            from harness.errors import WeightsError

            raise WeightsError(str(root), f"checkpoint is a {model.cfg.stage!r} stage, not 'base'",
                               "point base-model at a checkpoint trained with --stage base")
        self._enc = self._encoders(conf, root)
        self._sha = sha256_json([checkpoint.checkpoint_sha256(root), self._enc.sha256])
        self._pipe = BaseModelPipeline(model, self._enc, self._icfg(), self.params["device"])
