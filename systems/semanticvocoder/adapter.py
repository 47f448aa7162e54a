"""SemanticVocoder (Xie et al., arXiv 2602.23333; zeyuxie29/SemanticVocoder) as a sabench system.

Capabilities (each loads only the files it needs; nothing is downloaded):
- `generate`: the text-to-audio model (`tta.py`): flan-t5 text -> UDiT flow matching over
  Dasheng semantic latents (768 x 25 Hz), 100 Euler steps on the original's cosine ("sway")
  sigma grid, CFG 3.5 -> the model's own vocoder (200 steps) -> mono 24 kHz. Needs
  `semanticvocoder/tta/` + `flan-t5-large/` (`tta_loading.py`).
- `reconstruct`: audio -> Dasheng-base latents -> the snapshot vocoder (the original README's
  encode/decode path). Needs the three snapshot files below.
- `edit`: FlowEdit (the shared implementation) over the text-to-audio model's velocity,
  starting from the source's Dasheng latents; decoded by the model's vocoder. Needs the
  text-to-audio files and `dasheng_base.pt`. (The original ships no editor: sabench's.)

Weights layout (`--weights` / `$SABENCH_WEIGHTS`):

    <weights>/semanticvocoder/config.json                   # ZeyuXie/SemanticVocoderSnapshot
    <weights>/semanticvocoder/semanticVocoder_epoch-270.pt  # ZeyuXie/SemanticVocoderSnapshot
    <weights>/semanticvocoder/dasheng_base.pt               # zenodo.org/records/11511780
        (or <weights>/dasheng/dasheng_base.pt; the semanticvocoder/ copy wins)
    <weights>/semanticvocoder/tta/{config.json, model.safetensors}   # ZeyuXie/SemanticVocoder
    <weights>/flan-t5-large/{config.json, tokenizer files}           # google/flan-t5-large

Reconstruct per request: input -> 24 kHz (torchaudio sinc, as the README) -> 16 kHz
(torchaudio, as the wrapper) -> channel mean -> Dasheng frames (1, 768, T'),
T' = floor((floor(N16 / 160) + 1) / 4) -> noise (1, T' * 960) = 0.1 N(0, I) -> Euler, 200
steps, t 0 -> 1 -> clamp [-1, 1] -> divide by max(peak, 1). Output length T' * 960 samples.

Deliberate differences (recorded in `SystemInfo.parameters`): noise from an explicit
per-request generator (the original uses the global RNG; same CPU stream for the same seed);
generated clips are ceil(25 d) frames (rounded up to whole patches) trimmed to d seconds (the
original always renders its `latent_shape`, 250 frames = 10 s).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import AudioError, SabenchError, WeightsError
from harness.paths import weights_root
from harness.records import Audio, EditRequest, GenerationRequest, ReconstructRequest, SystemInfo, freeze
from harness.seeding import torch_generator
from harness.system import System
from harness.validate import Field
from systems.adapterkit import checked_params, files_sha256, require_file

SAMPLE_RATE = 24000
LATENT_DIM = 768
FRAMES_PER_SECOND = 25
HOP = 960
MIN_16K = 480
"""Fewest 16 kHz samples giving one frame: (480 // 160 + 1) // 4 = 1 (and > 256 for the
mel front end's reflect padding of n_fft / 2)."""
SNAPSHOT = "https://huggingface.co/ZeyuXie/SemanticVocoderSnapshot"
TTA_HUB = "https://huggingface.co/ZeyuXie/SemanticVocoder"
T5_HUB = "https://huggingface.co/google/flan-t5-large"
DASHENG = "https://zenodo.org/records/11511780 (dasheng_base.pt)"
CONFIG, VOCODER, ENCODER = "config.json", "semanticVocoder_epoch-270.pt", "dasheng_base.pt"
VOCODER_FILES = tuple(f"semanticvocoder/{n}" for n in (VOCODER, CONFIG, ENCODER))
TTA_FILES = ("semanticvocoder/tta/config.json", "semanticvocoder/tta/model.safetensors",
             "flan-t5-large/config.json")
DEFAULTS: dict[str, Any] = dict(
    # the original's inference defaults (inference.py / model.py forward / infer.sh)
    steps=100, cfg=3.5, sway=-1.0, vocoder_steps=200, variant="published", device="cpu",
    noise="per-request-generator", length="ceil-25Hz-then-trim",
    # FlowEdit: the SemanticAudio paper's Table 4 settings (source CFG 1, target CFG 7, the last
    # 10 of 50 steps plain target sampling), as for TangoFlux; n_max 33 of 50.
    edit_steps=50, edit_n_max=33, edit_n_min=10, edit_n_avg=1, edit_src_cfg=1.0, edit_tar_cfg=7.0)

FIXED = {k: Field("str", choices=(DEFAULTS[k],)) for k in ("noise", "length")}
"""Recorded descriptions of fixed behaviour, not knobs: another value would be recorded but ignored."""


class SemanticVocoderSystem(System):
    """Text -> Dasheng semantic latents -> generative vocoder; mono 24 kHz."""

    name = "semanticvocoder"
    capabilities = frozenset({"generate", "edit", "reconstruct"})
    batch_size = 8

    def __init__(self, **params: Any):
        super().__init__(**checked_params(self.name, params, DEFAULTS, fields=FIXED))
        for k in ("steps", "vocoder_steps"):
            if int(self.params[k]) < 1:
                raise SabenchError(self.name, f"{k} must be >= 1", f"pass {k}={DEFAULTS[k]}")
        self._parts: dict[str, Any] = {}
        self._tiny_dir = None

    # ---- files and identity ----------------------------------------------------------------
    def _root(self) -> Path | None:
        if self.params["variant"] == "tiny":
            return self._tiny_root()
        return weights_root(self.params.get("weights"))

    def _tiny_root(self) -> Path:
        if self._tiny_dir is None:
            import tempfile

            from systems.semanticvocoder.tiny import write_tiny, write_tiny_tta

            seed = int(self.params.get("tiny_seed", 0))
            self._tiny_dir = tempfile.TemporaryDirectory(prefix="sabench-sv-tiny-")
            root = Path(self._tiny_dir.name)
            write_tiny(root / "semanticvocoder", seed)
            write_tiny_tta(root, seed)
        return Path(self._tiny_dir.name)

    def _file(self, rel: str, published: str) -> Path:
        return require_file(rel, self.name, published, str(self._root()))

    @property
    def info(self) -> SystemInfo:
        if self.params["variant"] == "tiny":
            sha = f"random-init-seed-{int(self.params.get('tiny_seed', 0))}"
        else:
            sha = self._parts.get("sha") or self._published_sha()
        knobs = {k: v for k, v in self.params.items() if k != "weights"}
        return SystemInfo(self.name, "2", sha, SAMPLE_RATE, 1, freeze(knobs))

    def _published_sha(self) -> str:
        """sha256 over every published file present (which capability runs depends on them)."""
        root = self._root()
        if root is None:
            raise WeightsError(self.name, "no weights directory", "pass --weights or set SABENCH_WEIGHTS")
        files = [root / r for r in VOCODER_FILES + TTA_FILES if (root / r).exists()]
        if not files:
            raise WeightsError(str(root / "semanticvocoder"), "no SemanticVocoder files",
                               f"download {SNAPSHOT} and/or {TTA_HUB} (docs/weights.md)")
        self._parts["sha"] = files_sha256(files)
        return self._parts["sha"]

    # ---- the three loadable parts ------------------------------------------------------------
    def load(self) -> None:
        """Nothing eager: each capability loads its own files on first use."""

    def _dasheng_path(self) -> Path:
        root = self._root()
        rel = f"semanticvocoder/{ENCODER}" if root and (root / "semanticvocoder" / ENCODER).exists() \
            else f"dasheng/{ENCODER}"
        return self._file(rel, DASHENG)

    @property
    def encoder(self):
        """Dasheng-base semantic encoder (input at 24 kHz)."""
        if "encoder" not in self._parts:
            from systems.semanticvocoder import encoder

            dims = None
            if self.params["variant"] == "tiny":
                from systems.semanticvocoder.tiny import TINY_DASHENG as dims
            net = encoder.load_dasheng(self._dasheng_path(), dims or encoder.BASE_DIMS)
            self._parts["encoder"] = encoder.SemanticEncoder(net.to(self.params["device"]), SAMPLE_RATE)
        return self._parts["encoder"]

    @property
    def vocoder(self):
        """The snapshot's vocoder (reconstruction path) with its config."""
        if "vocoder" not in self._parts:
            voc = build_vocoder(self._file(f"semanticvocoder/{CONFIG}", SNAPSHOT),
                                self._file(f"semanticvocoder/{VOCODER}", SNAPSHOT))
            voc["net"].to(self.params["device"])
            self._parts["vocoder"] = voc
        return self._parts["vocoder"]

    @property
    def tta(self):
        """The text-to-audio model (`tta.TextToAudio`)."""
        if "tta" not in self._parts:
            from systems.semanticvocoder import tta_loading

            cfg = self._file("semanticvocoder/tta/config.json", TTA_HUB)
            t5 = self._file("flan-t5-large/config.json", T5_HUB).parent
            model = tta_loading.build(cfg, cfg.parent, t5)
            model.fm.to(self.params["device"])
            self._parts["tta"] = model
        return self._parts["tta"]

    # ---- reconstruct ---------------------------------------------------------------------------
    def reconstruct(self, requests: Sequence[ReconstructRequest], inputs: Sequence[Audio]) -> list[Audio]:
        if len(requests) != len(inputs):
            raise SabenchError(self.name, f"{len(requests)} requests but {len(inputs)} inputs",
                               "pass one input per request")
        _ = self.vocoder, self.encoder                                  # missing files fail first
        import torch

        from systems.semanticvocoder.tta import decode

        zs = [self.latents(a, r.prompt.id) for r, a in zip(requests, inputs, strict=True)]  # (1, D, T'_i) each
        out: list[Audio | None] = [None] * len(requests)
        voc = self.vocoder
        for frames in sorted({z.shape[-1] for z in zs}):             # one vocoder pass per length
            idx = [i for i, z in enumerate(zs) if z.shape[-1] == frames]
            gens = [torch_generator(requests[i].seed) for i in idx]
            y = decode(voc["net"], torch.cat([zs[i] for i in idx]), gens,
                       int(self.params["vocoder_steps"]), voc["clamp"])          # (B, T' * 960) @ 24 kHz
            for row, i in enumerate(idx):
                out[i] = Audio(y[row:row + 1].cpu().numpy().astype(np.float32), SAMPLE_RATE)
        return out

    def latents(self, audio: Audio, item: str):
        """(1, D, T') semantic latents of one clip (D = 768 for the published encoder)."""
        import torch

        from harness.extras import require

        torchaudio = require("torchaudio", extra="semanticvocoder", item="system semanticvocoder")
        x = np.asarray(audio.samples, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] == 0 or not np.isfinite(x).all():
            raise AudioError(item, f"expected finite non-empty (C, T) audio, got shape {x.shape}",
                             "pass a decoded clip")
        wave = torch.from_numpy(x)[None]                                # (1, C, T) @ input rate
        if audio.sample_rate != SAMPLE_RATE:
            wave = torchaudio.functional.resample(wave, audio.sample_rate, SAMPLE_RATE)  # @ 24 kHz
        n16 = -(-wave.shape[-1] * 16000 // SAMPLE_RATE)                # torchaudio's output length
        if n16 < MIN_16K:
            raise AudioError(item, f"clip too short ({x.shape[1] / audio.sample_rate:.3f} s) for one "
                             "40 ms semantic frame", "pass at least 0.03 s of audio")
        return self.encoder.encode(wave)                                # (1, D, T') @ 25 Hz

    # ---- generate --------------------------------------------------------------------------------
    def _check_seconds(self, seconds: float, item: str) -> None:
        from systems.semanticvocoder.tta import max_seconds

        top = max_seconds(self.tta.cfg.backbone)
        if not seconds > 0 or (top is not None and seconds > top):
            raise SabenchError(item, f"duration {seconds} s outside (0, {top}] s",
                               "the model's position table bounds the clip length; request a shorter clip")

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Audio]:
        """Requests are rendered in groups of one duration (one latent length), order kept."""
        for r in requests:
            self._check_seconds(r.prompt.duration, r.prompt.id)
        out: list[Audio | None] = [None] * len(requests)
        for dur in sorted({r.prompt.duration for r in requests}):
            idx = [i for i, r in enumerate(requests) if r.prompt.duration == dur]
            y = self.tta.render([requests[i].prompt.text for i in idx], dur,
                                [torch_generator(requests[i].seed) for i in idx],
                                int(self.params["steps"]), float(self.params["cfg"]),
                                self.params["sway"], int(self.params["vocoder_steps"]))
            n = int(round(dur * SAMPLE_RATE))
            for row, i in enumerate(idx):                                       # (1, n) @ 24 kHz
                out[i] = Audio(y[row:row + 1, :n].cpu().numpy().astype(np.float32), SAMPLE_RATE)
        return out

    # ---- edit --------------------------------------------------------------------------------------
    def edit_config(self):
        from systems.flowedit import FlowEditConfig

        return FlowEditConfig.from_params(self.params)

    def edit(self, requests: Sequence[EditRequest], sources: Sequence[Audio]) -> list[Audio]:
        """FlowEdit over the text-to-audio velocity from the source's semantic latents (cropped to
        whole patches); an unknown source caption means the zero (unconditional) content."""
        import torch

        from systems.flowedit import flowedit
        from systems.semanticvocoder.tta import decode, sigma_grid

        model, fe = self.tta, self.edit_config()
        grid = sigma_grid(fe.steps, self.params["sway"]).tolist()
        out = []
        for r, a in zip(requests, sources, strict=True):
            z = self.latents(a, r.prompt.id)                               # (1, 768, T') @ 25 Hz
            p = model.cfg.backbone.patch_size
            z = z[..., : z.shape[-1] // p * p]
            self._check_seconds(z.shape[-1] / FRAMES_PER_SECOND, r.prompt.id)
            tar = model.condition(r.target_text)
            src = model.condition(r.source_text) if r.source_text is not None else \
                (torch.zeros_like(tar[0]), tar[1])
            gen = torch_generator(r.seed)
            z_edit = flowedit(model.velocity, z, src, tar, fe, [gen], timesteps=grid)
            y = decode(model.vocoder, z_edit, gen, int(self.params["vocoder_steps"]),
                       model.cfg.autoencoder.clamp_pred)
            out.append(Audio(y.cpu().numpy().astype(np.float32), SAMPLE_RATE))
        return out


def build_vocoder(cfg_path: Path, voc_path: Path) -> dict:
    """The snapshot vocoder from its config + checkpoint, strictly key-checked on `meta`."""
    import torch

    from systems.semanticvocoder import loading, network

    cfg = loading.read_config(cfg_path)
    with torch.device("meta"):
        net = network.SemanticVocoderGenerator(cfg.vocoder)
    state = loading.generator_state(voc_path, {k: list(v.shape) for k, v in net.state_dict().items()})
    net.load_state_dict(state, strict=True, assign=True)
    return {"net": net.eval(), "clamp": bool(cfg.clamp_pred), "config": cfg}
