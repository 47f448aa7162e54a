"""SemanticVocoder (Xie et al., arXiv 2602.23333; zeyuxie29/SemanticVocoder): reconstruction only.

Capabilities: `reconstruct` (audio -> Dasheng-base semantic latents (768, 25 Hz) -> generative
vocoder -> mono 24 kHz). `generate` / `edit` raise a `CapabilityError`: the text-to-audio DiT
ships only as hub remote code (`AutoModel.from_pretrained(..., trust_remote_code=True)`),
which sabench does not run.

Weights layout (`--weights` / `$SABENCH_WEIGHTS`; nothing is downloaded):

    <weights>/semanticvocoder/config.json                   # ZeyuXie/SemanticVocoderSnapshot
    <weights>/semanticvocoder/semanticVocoder_epoch-270.pt  # ZeyuXie/SemanticVocoderSnapshot
    <weights>/semanticvocoder/dasheng_base.pt               # zenodo.org/records/11511780
        (or <weights>/dasheng/dasheng_base.pt; the semanticvocoder/ copy wins)

Pipeline per request (the original's README encode/decode path; `encoder.py`, `network.py`):
input -> 24 kHz (torchaudio sinc resample, as the README) -> 16 kHz (torchaudio, as the
wrapper) -> channel mean -> Dasheng frames (1, 768, T'), T' = floor((floor(N16 / 160) + 1) / 4)
-> noise (1, T' * 960) = 0.1 * N(0, I) from `torch.Generator(request.seed)` -> Euler, 200
steps, t 0 -> 1 -> clamp [-1, 1] -> divide by max(peak, 1). Output length is T' * 960 samples
(the original does not trim or pad to the input length).

Deliberate difference (recorded in `SystemInfo.parameters`): the noise comes from an explicit
per-request generator (the original draws it from the global RNG).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from harness.errors import AudioError, CapabilityError, SabenchError, WeightsError
from harness.paths import weights_root
from harness.records import Audio, GenerationRequest, ReconstructRequest, SystemInfo, freeze
from harness.seeding import torch_generator
from harness.system import System
from systems.adapterkit import files_sha256, require_file

SAMPLE_RATE = 24000
LATENT_DIM = 768
FRAMES_PER_SECOND = 25
HOP = 960
MIN_16K = 480
"""Fewest 16 kHz samples giving one frame: (480 // 160 + 1) // 4 = 1 (and > 256 for the
mel front end's reflect padding of n_fft / 2)."""
SNAPSHOT = "https://huggingface.co/ZeyuXie/SemanticVocoderSnapshot"
DASHENG = "https://zenodo.org/records/11511780 (dasheng_base.pt)"
CONFIG, VOCODER, ENCODER = "config.json", "semanticVocoder_epoch-270.pt", "dasheng_base.pt"
VOCODER_FILES = tuple(f"semanticvocoder/{n}" for n in (VOCODER, CONFIG, ENCODER))
DEFAULTS: dict[str, Any] = dict(vocoder_steps=200, variant="published", noise="per-request-generator")
BLOCKED = ("the text-to-audio model ships only as hub remote code (trust_remote_code), which "
           "sabench does not run; only reconstruction (encode -> vocoder) is implemented")


class SemanticVocoderSystem(System):
    """Dasheng-base encoder + Flow2GAN-style generative vocoder; mono 24 kHz."""

    name = "semanticvocoder"
    capabilities = frozenset({"reconstruct"})
    batch_size = 1

    def __init__(self, **params: Any):
        unknown = set(params) - set(DEFAULTS) - {"weights", "tiny_seed"}
        if unknown:
            raise SabenchError(self.name, f"unknown parameters {sorted(unknown)}",
                               f"use {sorted(DEFAULTS)} (and weights)")
        super().__init__(**{**DEFAULTS, **params})
        if self.params["variant"] not in ("published", "tiny"):
            raise SabenchError(self.name, f"unknown variant {self.params['variant']!r}",
                               "use 'published' (real weights) or 'tiny' (random, tests)")
        if int(self.params["vocoder_steps"]) < 1:
            raise SabenchError(self.name, "vocoder_steps must be >= 1", "pass vocoder_steps=200")
        self._loaded = None

    @property
    def info(self) -> SystemInfo:
        self.load()
        knobs = {k: v for k, v in self.params.items() if k != "weights"}
        return SystemInfo(self.name, "1", self._loaded["sha"], SAMPLE_RATE, 1, freeze(knobs))

    def files_present(self) -> dict[str, bool]:
        """Which published files exist under the weights directory."""
        root = weights_root(self.params.get("weights"))
        return {rel: bool(root and (root / rel).exists()) for rel in VOCODER_FILES}

    def _paths(self) -> tuple[Path, Path, Path]:
        w = self.params.get("weights")
        cfg = require_file(f"semanticvocoder/{CONFIG}", self.name, SNAPSHOT, w)
        voc = require_file(f"semanticvocoder/{VOCODER}", self.name, SNAPSHOT, w)
        root = weights_root(w)
        enc_rel = f"semanticvocoder/{ENCODER}" if (root / "semanticvocoder" / ENCODER).exists() \
            else f"dasheng/{ENCODER}"
        enc = require_file(enc_rel, self.name, DASHENG, w)
        return cfg, voc, enc

    def load(self) -> None:
        if self._loaded is not None:
            return
        if self.params["variant"] == "tiny":
            import tempfile

            from systems.semanticvocoder.tiny import TINY_DASHENG, write_tiny

            seed = int(self.params.get("tiny_seed", 0))
            with tempfile.TemporaryDirectory() as tmp:
                folder = write_tiny(Path(tmp) / "semanticvocoder", seed)
                self._loaded = build(folder / CONFIG, folder / VOCODER, folder / ENCODER,
                                     sha=f"random-init-seed-{seed}", dims=TINY_DASHENG)
            return
        self._loaded = build(*self._paths())

    @property
    def encoder(self):
        self.load()
        return self._loaded["encoder"]

    @property
    def vocoder(self):
        self.load()
        return self._loaded["vocoder"]

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Audio]:
        raise CapabilityError(self.name, f"cannot generate: {BLOCKED}",
                              "evaluate SemanticVocoder outputs rendered with its own scripts as a "
                              "folder system ('precomputed'); 'reconstruct' works here")

    def edit(self, requests, sources) -> list[Audio]:
        raise CapabilityError(self.name, f"cannot edit: {BLOCKED} (and it has no editing method)",
                              "choose a system whose capabilities include 'edit'")

    def reconstruct(self, requests: Sequence[ReconstructRequest], inputs: Sequence[Audio]) -> list[Audio]:
        if len(requests) != len(inputs):
            raise SabenchError(self.name, f"{len(requests)} requests but {len(inputs)} inputs",
                               "pass one input per request")
        return [self.reconstruct_one(r, a) for r, a in zip(requests, inputs)]

    def latents(self, audio: Audio, item: str):
        """(1, D, T') semantic latents of one clip (D = 768 for the published encoder)."""
        import torch
        import torchaudio

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

    def decode(self, z, seed: int):
        """(1, D, T') latents -> (1, T' * 960) waveform @ 24 kHz, noise from `seed`."""
        import torch

        gen = self.vocoder
        noise = torch.randn((z.shape[0], z.shape[-1] * gen.cfg.hop_length), generator=torch_generator(seed))
        noise = noise * gen.cfg.init_noise_scale                        # (B, T' * 960) @ 24 kHz
        y = gen.sample(z, noise, int(self.params["vocoder_steps"]), clamp=self._loaded["clamp"])
        return y / y.abs().amax(dim=-1, keepdim=True).clamp(min=1.0)    # peak <= 1

    def reconstruct_one(self, request: ReconstructRequest, audio: Audio) -> Audio:
        z = self.latents(audio, request.prompt.id)
        y = self.decode(z, request.seed)                                # (1, L) @ 24 kHz
        return Audio(y.numpy().astype(np.float32), SAMPLE_RATE)


def build(cfg_path: Path, voc_path: Path, enc_path: Path, sha: str | None = None,
          dims: dict | None = None) -> dict:
    """Encoder + vocoder from the three files, both strictly key-checked. `dims` overrides the
    Dasheng width/depth/heads (default: dasheng_base's 768/12/12, forced as the original does)."""
    from systems.semanticvocoder import encoder, loading, network

    cfg = loading.read_config(cfg_path)
    dasheng = encoder.load_dasheng(enc_path, encoder.BASE_DIMS if dims is None else dims)
    if int(dasheng.embed_dim) != cfg.vocoder.latent_dim:
        raise WeightsError(str(enc_path), f"encoder width {dasheng.embed_dim} != vocoder latent_dim "
                           f"{cfg.vocoder.latent_dim}", "use the matching dasheng_base.pt")
    import torch

    with torch.device("meta"):
        net = network.SemanticVocoderGenerator(cfg.vocoder)
    state = loading.generator_state(voc_path, {k: list(v.shape) for k, v in net.state_dict().items()})
    net.load_state_dict(state, strict=True, assign=True)
    return {"encoder": encoder.SemanticEncoder(dasheng, cfg.sample_rate), "vocoder": net.eval(),
            "clamp": bool(cfg.clamp_pred), "config": cfg,
            "sha": sha or files_sha256([cfg_path, voc_path, enc_path])}
