"""`semanticaudio` and `base-model` systems: harness adapters over the pipelines.

Checkpoint layout (a folder written by `systems.semanticaudio.train`):

    <checkpoint>/synthesizer/{model.safetensors, config.json}    SemanticAudio
    <checkpoint>/planner/{model.safetensors, config.json}
    <checkpoint>/base/{model.safetensors, config.json}            Base Model (or the folder itself)

Default `checkpoint`: profile "real" -> `<weights>/semanticaudio/<variant>-d<d>` (base:
`<weights>/semanticaudio/base`); any other profile (e.g. "mini") -> the folder its package
registered in `harness.registry.PROFILE_CHECKPOINTS` returns for the same names (verified by
that package), then loaded exactly like a `checkpoint=DIR`. Encoders: the `encoders`
parameter, else the registered bundle recorded in the checkpoint's config.json,
else the real encoders (`systems.semanticaudio.real_encoders:real_encoders`) under the
weights directory. Outputs are mono `Audio` at the VAE's rate (48 kHz for DAC-VAE).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from harness.errors import SabenchError, WeightsError
from harness.hashing import sha256_json
from harness.paths import weights_root
from harness.records import Audio, EditRequest, GenerationRequest, ReconstructRequest, SystemInfo, freeze
from harness.system import System
from harness.validate import Field
from systems.flowedit import FlowEditConfig
from systems.semanticaudio import checkpoint
from systems.semanticaudio.encoders import Encoders, load_encoders
from systems.semanticaudio.heads import VARIANTS
from systems.semanticaudio.pipeline import InferenceConfig, SemanticAudioPipeline

REAL_ENCODERS = "systems.semanticaudio.real_encoders:real_encoders"
PARAM_FIELDS = {"profile": Field("str", choices=("real", "mini")), "variant": Field("str", choices=VARIANTS),
                "d": Field("int", minimum=1), "checkpoint": Field("str", optional=True, nonempty=True),
                "encoders": Field("str", optional=True, nonempty=True), "planner": Field("str", nonempty=True)}
EDIT_KEYS = {"edit_steps": "steps", "edit_n_max": "n_max", "edit_n_min": "n_min", "edit_n_avg": "n_avg",
             "edit_src_cfg": "src_cfg", "edit_tar_cfg": "tar_cfg"}


class _FlowSystem(System):
    """Shared plumbing: parameters, checkpoint/encoder resolution, batching by length."""

    capabilities = frozenset({"generate", "edit", "reconstruct"})
    batch_size = 8
    _defaults: dict[str, Any] = {}
    _common = {"checkpoint": None, "weights": None, "profile": "real", "encoders": None, "device": "cpu",
               **{k: getattr(FlowEditConfig(), v) for k, v in EDIT_KEYS.items()}}

    def __init__(self, **params: Any):
        allowed = {**self._common, **self._defaults}
        unknown = sorted(set(params) - set(allowed))
        if unknown:
            raise SabenchError(f"system {self.name}", f"unknown parameter {unknown[0]!r}",
                               f"use: {', '.join(sorted(allowed))}")
        from systems.adapterkit import typed_params

        params = typed_params(self.name, params, allowed, PARAM_FIELDS)
        super().__init__(**{**allowed, **params})
        from harness.devices import resolve_device

        self.params["device"] = resolve_device(f"system {self.name}", self.params["device"])
        self._pipe = None
        self._sha = "none"
        self._enc: Encoders | None = None

    # ------------------------------------------------------------------ resolution
    def _root(self, leaf: str) -> Path:
        if self.params["checkpoint"]:
            return Path(self.params["checkpoint"]).expanduser()
        if self.params["profile"] != "real":
            from harness.registry import PROFILE_CHECKPOINTS, load_catalog

            load_catalog()
            return Path(PROFILE_CHECKPOINTS.get(self.params["profile"])(self.name, leaf))
        root = weights_root(self.params["weights"])
        if root is None:
            raise WeightsError(self.name, "no checkpoint given and no weights directory set",
                               "pass checkpoint=DIR, --weights DIR or SABENCH_WEIGHTS")
        return root / "semanticaudio" / leaf

    def _encoders(self, conf: dict, ckpt: Path) -> Encoders:
        """The `encoders` parameter (any "module:function" only under --allow-code), else the
        checkpoint's recorded spec (registered bundles only: config.json is data), else real."""
        from harness.suite import code_allowed

        root = weights_root(self.params["weights"])
        root = None if root is None else str(root)
        if self.params["encoders"]:
            return load_encoders(self.params["encoders"], root, item=f"system {self.name} parameter encoders",
                                 allow_code=code_allowed())
        return load_encoders(conf.get("encoders") or REAL_ENCODERS, root, item=str(ckpt / "config.json"))

    def _icfg(self) -> InferenceConfig:
        edit = FlowEditConfig(**{v: self.params[k] for k, v in EDIT_KEYS.items()})
        keys = [k for k in InferenceConfig.__dataclass_fields__ if k != "edit" and k in self.params]
        return InferenceConfig(edit=edit, **{k: self.params[k] for k in keys})

    @property
    def info(self) -> SystemInfo:
        self.load()
        shown = {k: v for k, v in self.params.items() if k not in ("checkpoint", "weights")}
        shown["encoders"] = self._enc.spec                          # resolved (param, checkpoint or default)
        if shown.get("planner") == "planner":                       # the default planner: info (and run
            del shown["planner"]                                    # ids) as before the parameter existed
        return SystemInfo(self.name, "1", self._sha, int(self._enc.vae.sample_rate), 1, freeze(shown))

    # ------------------------------------------------------------------ batching helpers
    def _native(self, audio: Audio, item: str) -> np.ndarray:
        from systems.adapterkit import to_native

        return to_native(audio, int(self._enc.vae.sample_rate), 1, item)[0]  # (N,) mono @ native rate

    @staticmethod
    def _groups(keys: Sequence[Any]) -> list[list[int]]:
        out: dict[Any, list[int]] = {}
        for i, k in enumerate(keys):
            out.setdefault(k, []).append(i)
        return list(out.values())

    def _wrap(self, wav: torch.Tensor) -> list[Audio]:
        sr = int(self._enc.vae.sample_rate)
        return [Audio(w[None].cpu().numpy().astype(np.float32), sr) for w in wav]  # (1, N) @ sr

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Audio]:
        self.load()
        vae, out = self._enc.vae, [None] * len(requests)
        for rows in self._groups([r.prompt.duration for r in requests]):
            samples = int(round(requests[rows[0]].prompt.duration * vae.sample_rate))
            T = -(-samples // vae.hop)
            wav = self._pipe.generate([requests[i].prompt.text for i in rows], T, samples,
                                      [requests[i].seed for i in rows])
            for i, a in zip(rows, self._wrap(wav), strict=True):
                out[i] = a
        return out

    def _by_length(self, arrays: list[np.ndarray], run) -> list[Audio]:
        out = [None] * len(arrays)
        for rows in self._groups([len(a) for a in arrays]):
            batch = torch.from_numpy(np.stack([arrays[i] for i in rows]))  # (B, N) @ native rate
            for i, a in zip(rows, self._wrap(run(rows, batch)), strict=True):
                out[i] = a
        return out

    def edit(self, requests: Sequence[EditRequest], sources: Sequence[Audio]) -> list[Audio]:
        self.load()
        arrays = [self._native(a, r.prompt.id) for r, a in zip(requests, sources, strict=True)]
        return self._by_length(arrays, lambda rows, x: self._pipe.edit(
            x, [requests[i].source_text for i in rows], [requests[i].target_text for i in rows],
            [requests[i].seed for i in rows]))

    def reconstruct(self, requests: Sequence[ReconstructRequest], inputs: Sequence[Audio]) -> list[Audio]:
        self.load()
        arrays = [self._native(a, r.prompt.id) for r, a in zip(requests, inputs, strict=True)]
        return self._by_length(arrays, lambda rows, x: self._pipe.reconstruct(x, [requests[i].seed for i in rows]))


class SemanticAudioSystem(_FlowSystem):
    """SemanticAudio (planner + synthesizer + projection head), paper inference defaults."""

    name = "semanticaudio"
    _defaults = {"d": 128, "variant": "mlp", "planner": "planner", "planner_steps": 50, "planner_cfg": 4.5,
                 "synth_steps": 25, "synth_cfg": 1.0}
    """`planner`: the planner's subfolder of the checkpoint (e.g. "planner-seed1", a second
    training seed beside the default one; both trained on the same synthesizer's head)."""

    def load(self) -> None:
        if self._pipe is not None:
            return
        root = self._root(f"{self.params['variant']}-d{self.params['d']}")
        synth, conf = checkpoint.load_model(root / "synthesizer", self.params["device"])
        head = synth.cfg.head
        want = {"variant": self.params["variant"], "d": int(self.params["d"])}
        bad = [f"{k}: checkpoint {getattr(head, k)!r}, requested {v!r}" for k, v in want.items()
               if getattr(head, k) != v]
        if bad:
            raise WeightsError(str(root / "synthesizer"), "head differs from the request: " + "; ".join(bad),
                               "pass the matching d/variant or another checkpoint")
        planner, pdir = None, root / _subfolder(self.params["planner"])
        if pdir.name != "planner" and not (pdir / "config.json").is_file():
            raise WeightsError(str(pdir), "no such planner checkpoint",
                               f"use one of: {', '.join(_planners(root)) or 'planner'}")
        if (pdir / "config.json").is_file():
            planner, _ = checkpoint.load_model(pdir, self.params["device"])
            if planner.cfg.head != head:
                raise WeightsError(str(pdir),
                                   "planner was trained on a different head than the synthesizer",
                                   "train the planner with --synthesizer pointing at this synthesizer")
        self._enc = self._encoders(conf, root / "synthesizer")
        self._sha = sha256_json([checkpoint.checkpoint_sha256(root / "synthesizer"),
                                 checkpoint.checkpoint_sha256(pdir) if planner else "no-planner",
                                 self._enc.sha256])
        self._pipe = SemanticAudioPipeline(synth, planner, self._enc, self._icfg(), self.params["device"])


def _subfolder(name: str) -> str:
    """A planner subfolder name: one plain path component (no separators, no leading dot)."""
    if not name or name.startswith(".") or "/" in name or "\\" in name:
        raise SabenchError("system semanticaudio parameter planner", f"{name!r} is not a folder name",
                           "name a subfolder of the checkpoint, e.g. planner or planner-seed1")
    return name


def _planners(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.startswith("planner") and (p / "config.json").is_file()) \
        if root.is_dir() else []
