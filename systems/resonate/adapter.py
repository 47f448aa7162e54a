"""Resonate as a sabench system: FluxAudio flow sampling, FlowEdit, mel-VAE + BigVGAN decoding.

Defaults: 25 Euler steps over t = linspace(1, 0, 26); CFG 3.0 (the SemanticAudio paper's
setting; the repository's scripts use 4.5 - set `cfg=4.5` to match them); negative text = the
stored empty-string features; float32 (the repository's scripts also pass --full_precision);
latents = ceil(seconds * 44100 / 512 / 2) (431 for 10 s); mono 44.1 kHz output of
latents * 1024 samples (10.008 s for 10 s, not trimmed, as the original).

CFG follows the original `ode_wrapper`: cfg < 1 -> conditional only, else
w v_c + (1 - w) v_u (= v_u + w (v_c - v_u)).
Seeds: each request draws its (N, 40) start noise from its own CPU generator (the original
draws one (B, N, 40) block from one generator), so outputs do not depend on batch composition.

Decoding (normalised latents -> unnormalise -> mel-VAE decoder -> log-mel -> BigVGAN-v2) and
encoding (log-mel -> mel-VAE posterior mean) are `systems.resonate.decoder`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from harness.errors import SabenchError
from harness.hashing import sha256_json
from harness.records import Audio, EditRequest, GenerationRequest, ReconstructRequest, SystemInfo, freeze
from harness.seeding import torch_generator
from harness.system import System
from systems.adapterkit import checked_params

SAMPLE_RATE = 44100
SAMPLES_PER_LATENT = 1024
"""mel hop 512 x VAE downsampling 2."""

DEFAULTS: dict[str, Any] = dict(
    steps=25, cfg=3.0, checkpoint="grpo", variant="published", device="cpu",
    # FlowEdit (SemanticAudio section 4.2 / Table 4 scaled to Resonate's 25-step grid): source
    # caption at CFG 1, target CFG 7.0, the last 5 of 25 steps plain target sampling, start at
    # n_max = 17 of 25 (FlowEdit's SD3 ratio 33/50; the paper does not give n_max); n_avg 1.
    edit_steps=25, edit_n_max=17, edit_n_min=5, edit_n_avg=1, edit_src_cfg=1.0, edit_tar_cfg=7.0,
)


def latent_len(seconds: float) -> int:
    """ceil(seconds * 44100 / 512 / 2): 431 latents for 10 s."""
    return int(math.ceil(seconds * SAMPLE_RATE / 512 / 2))


@dataclass
class TextCond:
    """Projected conditioning (cached over steps): tokens (B, 77, D), global (B, D)."""

    tokens: torch.Tensor
    pooled: torch.Tensor


class ResonateSystem(System):
    """xiquan-li/Resonate (FluxAudio 'fluxaudio_m_44k', GRPO checkpoint by default)."""

    name = "resonate"
    capabilities = frozenset({"generate", "edit", "reconstruct"})
    batch_size = 8

    def __init__(self, **params: Any):
        super().__init__(**checked_params("resonate", params, DEFAULTS))
        self._m = None
        self._decoder = None

    @property
    def info(self) -> SystemInfo:
        self.load()
        knobs = {k: v for k, v in self.params.items() if k != "weights"}
        sha = sha256_json([self._m.checkpoint_sha256, self.decoder.sha256]) if self.decoder.sha256 \
            else self._m.checkpoint_sha256
        return SystemInfo(self.name, "1", sha, SAMPLE_RATE, 1, freeze(knobs))

    def load(self) -> None:
        if self._m is not None:
            return
        from systems.resonate import decoder, loading

        if self.params["variant"] == "tiny":
            seed = int(self.params.get("tiny_seed", 0))
            self._m = loading.build_tiny(seed)
            self._decoder = decoder.tiny(seed)
        else:
            self._m = loading.load_published(self.params.get("weights"), self.params["checkpoint"])
            self._decoder = decoder.published(self.params.get("weights"))
        self._m.net.to(self.device)
        self._m.text.model.to(self.device)
        self._decoder.to(self.device)

    @property
    def device(self) -> torch.device:
        return torch.device(self.params["device"])

    @property
    def net(self):
        self.load()
        return self._m.net

    @property
    def decoder(self):
        self.load()
        return self._decoder

    # ---- conditioning and velocity ---------------------------------------------------------
    def text_cond(self, texts: Sequence[str]) -> TextCond:
        """T5 (77 tokens, padded to max_length) + plain mean over all 77 positions, projected."""
        states, _ = self._m.text.encode(list(texts), max_length=self.net.cfg.text_seq_len,
                                        padding="max_length")          # (B, 77, 1024)
        return TextCond(*self.net.project_text(states, states.mean(dim=1)))

    def empty_cond(self, b: int) -> TextCond:
        """The stored empty-string features (the original's negative conditioning)."""
        tok, pooled = self.net.project_text(self.net.empty_string_feat[None], self.net.empty_string_feat_c[None])
        return TextCond(tok.expand(b, -1, -1), pooled.expand(b, -1))

    def guided_velocity(self, x: torch.Tensor, t: float, cond: TextCond | None, cfg: float) -> torch.Tensor:
        """v on normalised latents x (B, N, 40); cond None = null (empty-string) conditioning."""
        b = x.shape[0]
        tt = torch.full((b,), float(t), device=x.device)
        empty = self.empty_cond(b)
        if cond is None:
            return self.net.velocity(x, tt, empty.tokens, empty.pooled)
        v_c = self.net.velocity(x, tt, cond.tokens, cond.pooled)
        if cfg < 1.0:
            return v_c
        v_u = self.net.velocity(x, tt, empty.tokens, empty.pooled)
        return cfg * v_c + (1.0 - cfg) * v_u

    @staticmethod
    def times(steps: int) -> list[float]:
        return torch.linspace(1.0, 0.0, steps + 1).tolist()

    # ---- generate -------------------------------------------------------------------------
    @torch.no_grad()
    def sample_latents(self, requests: Sequence[GenerationRequest]) -> torch.Tensor:
        """Normalised latents (B, N, 40); all requests in one call must share a duration."""
        self.load()
        lens = {latent_len(r.prompt.duration) for r in requests}
        if len(lens) != 1:
            raise SabenchError("resonate batch", f"mixed durations give latent lengths {sorted(lens)}",
                               "batch requests of one duration (the runner groups them)")
        n = lens.pop()
        if not 0 < n <= self.net.cfg.max_latent_len:
            raise SabenchError(requests[0].prompt.id, f"{n} latents outside (0, {self.net.cfg.max_latent_len}]",
                               "Resonate renders at most 47.5 s; request a shorter clip")
        x = torch.stack([torch.randn(n, self.net.cfg.latent_dim, generator=torch_generator(r.seed))
                         for r in requests]).to(self.device)                   # (B, N, 40) noise
        cond = self.text_cond([r.prompt.text for r in requests])
        ts = self.times(int(self.params["steps"]))
        for i in range(len(ts) - 1):
            x = x + (ts[i + 1] - ts[i]) * self.guided_velocity(x, ts[i], cond, float(self.params["cfg"]))
        return x

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Audio]:
        """Requests are grouped by duration (one latent length per batch); order is kept."""
        out: list[Audio | None] = [None] * len(requests)
        for dur in sorted({r.prompt.duration for r in requests}):
            idx = [i for i, r in enumerate(requests) if r.prompt.duration == dur]
            for i, a in zip(idx, self._decode(self.sample_latents([requests[i] for i in idx])), strict=True):
                out[i] = a
        return out

    def _decode(self, z_norm: torch.Tensor, frames: int | None = None) -> list[Audio]:
        """Normalised latents (B, N, 40) -> mono audio, optionally trimmed to `frames`."""
        with torch.no_grad():
            wave = self.decoder.decode(self.net.unnormalize(z_norm))            # (B, 1, N*1024) @ 44.1 kHz
        wave = wave if frames is None else wave[..., :frames]
        return [Audio(w.float().cpu().numpy().astype(np.float32), SAMPLE_RATE) for w in wave]

    # ---- reconstruct / edit ----------------------------------------------------------------
    def reconstruct(self, requests: Sequence[ReconstructRequest], inputs: Sequence[Audio]) -> list[Audio]:
        """mel-VAE posterior mean -> decoder -> BigVGAN, trimmed to the input length."""
        out = []
        for r, a in zip(requests, inputs, strict=True):
            z, n = self.decoder.encode(a, r.prompt.id)                          # (1, N, 40), samples
            out.extend(self._decode(self.net.normalize(z), n))
        return out

    def edit_config(self):
        from systems.flowedit import FlowEditConfig

        return FlowEditConfig.from_params(self.params)

    @torch.no_grad()
    def edit_latents(self, requests: Sequence[EditRequest], x_src: torch.Tensor) -> torch.Tensor:
        """FlowEdit on normalised source latents (B, N, 40) over Resonate's own velocity;
        an unknown source caption uses the stored empty-string (null) conditioning."""
        from systems.flowedit import flowedit

        self.load()
        out = []
        for i, r in enumerate(requests):
            src = None if r.source_text is None else self.text_cond([r.source_text])
            tar = self.text_cond([r.target_text])
            fe = self.edit_config()
            out.append(flowedit(self.guided_velocity, x_src[i:i + 1], src, tar, fe,
                                [torch_generator(r.seed)], timesteps=self.times(fe.steps)))
        return torch.cat(out)

    def edit(self, requests: Sequence[EditRequest], sources: Sequence[Audio]) -> list[Audio]:
        """Encode (posterior mean, normalised) -> FlowEdit -> decode, trimmed to the source."""
        out = []
        for r, a in zip(requests, sources, strict=True):
            z, n = self.decoder.encode(a, r.prompt.id)                          # (1, N, 40)
            out.extend(self._decode(self.edit_latents([r], self.net.normalize(z)), n))
        return out
