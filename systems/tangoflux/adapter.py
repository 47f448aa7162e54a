"""TangoFlux as a sabench system: generate, FlowEdit edit, Oobleck-VAE reconstruct.

Defaults are the SemanticAudio paper's run of TangoFlux: 50 Euler steps, CFG 4.5,
sigma = linspace(1, 1/N, N) then 0; always 645 latent frames (29.95 s) decoded, then the
waveform is trimmed to the requested duration; stereo 44.1 kHz, not clipped.

Differences from the original entry point, all deliberate and recorded:
- `request.seed` is honoured through an explicit CPU `torch.Generator` (the original reseeds
  the global RNG with 0 on every call, so identical prompts give identical audio);
- requests are rendered one at a time exactly as the original (which only supports one
  prompt per call): the joint attention has no text mask, so batching prompts of different
  token lengths would change the padding and thus the audio;
- `cfg <= 1` runs the conditional branch alone (the original crashes there).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from harness.errors import SabenchError
from harness.records import Audio, EditRequest, GenerationRequest, ReconstructRequest, SystemInfo, freeze
from harness.seeding import torch_generator
from harness.system import System
from systems.adapterkit import checked_params, to_native
from systems.tangoflux.network import TangoCond, cat_cond

SAMPLE_RATE = 44100
CHANNELS = 2
HOP = 2048
"""Oobleck hop: 645 latents x 2048 = 1,320,960 samples = 29.95 s."""

DEFAULTS: dict[str, Any] = dict(
    steps=50, cfg=4.5, variant="published", device="cpu",
    # FlowEdit (SemanticAudio section 4.2 / Table 4): source caption at CFG 1, target CFG 7.0,
    # the last 10 of 50 steps plain target sampling; n_max = 33 of 50 (FlowEdit's SD3 yaml:
    # the paper does not give n_max); one noise draw per step.
    edit_steps=50, edit_n_max=33, edit_n_min=10, edit_n_avg=1, edit_src_cfg=1.0, edit_tar_cfg=7.0,
)


class TangoFluxSystem(System):
    """declare-lab/TangoFlux (515 M transformer + flan-t5-large + Oobleck VAE)."""

    name = "tangoflux"
    capabilities = frozenset({"generate", "edit", "reconstruct"})
    batch_size = 4

    def __init__(self, **params: Any):
        super().__init__(**checked_params("tangoflux", params, DEFAULTS))
        self._m = None

    # ---- identity and loading -------------------------------------------------------------
    @property
    def info(self) -> SystemInfo:
        self.load()
        knobs = {k: v for k, v in self.params.items() if k != "weights"}
        return SystemInfo(self.name, "1", self._m.checkpoint_sha256, SAMPLE_RATE, CHANNELS,
                          freeze(knobs))

    def load(self) -> None:
        if self._m is not None:
            return
        from systems.tangoflux import loading

        if self.params["variant"] == "tiny":
            m = loading.build_tiny(int(self.params.get("tiny_seed", 0)))
        else:
            m = loading.load_published(self.params.get("weights"))
        m.net.to(self.device)
        m.vae.to(self.device)
        self._m = m

    @property
    def device(self) -> torch.device:
        return torch.device(self.params["device"])

    @property
    def net(self):
        self.load()
        return self._m.net

    # ---- conditioning and velocity ---------------------------------------------------------
    def _encode(self, texts: list[str], **kw) -> tuple[torch.Tensor, torch.Tensor]:
        tok = self._m.tokenizer
        batch = tok(texts, return_tensors="pt", truncation=True,
                    max_length=kw.pop("max_length", tok.model_max_length), **kw)
        ids, mask = batch.input_ids.to(self.device), batch.attention_mask.to(self.device)
        with torch.no_grad():
            states = self.net.text_encoder(input_ids=ids, attention_mask=mask)[0]  # (1, L, D)
        return states.float(), mask.bool()

    def conditions(self, text: str, seconds: float) -> tuple[TangoCond, TangoCond]:
        """(conditional, unconditional) as the original: the prompt unpadded, "" padded to it."""
        states, mask = self._encode([text], padding=True)
        u_states, u_mask = self._encode([""], padding="max_length", max_length=states.shape[1])
        return self.net.condition(states, mask, seconds), self.net.condition(u_states, u_mask, seconds)

    def guided_velocity(self, x: torch.Tensor, sigma: float, pair, cfg: float) -> torch.Tensor:
        """v_u + cfg (v_c - v_u) on x (B, N, C); pair = (cond, uncond) from `conditions`
        (null text = (uncond, uncond)); cfg <= 1 evaluates the conditional branch alone."""
        cond, uncond = pair
        if cfg <= 1.0:
            return self.net.velocity(x, sigma, cond)
        both = cat_cond(uncond, cond)                                       # [uncond ; cond]
        v_u, v_c = self.net.velocity(torch.cat([x, x]), sigma, both).chunk(2)
        return v_u + cfg * (v_c - v_u)

    def sigmas(self, steps: int) -> list[float]:
        """linspace(1, 1/N, N) then the terminal 0 (float64 grid, as np.linspace)."""
        return np.linspace(1.0, 1.0 / steps, steps).tolist() + [0.0]

    # ---- generate -------------------------------------------------------------------------
    def _check_duration(self, seconds: float, item: str) -> None:
        longest = self.net.cfg.audio_seq_len * HOP / SAMPLE_RATE
        if not 0 < seconds <= longest:
            raise SabenchError(item, f"duration {seconds} s outside (0, {longest:.2f}] s",
                               "TangoFlux renders at most 645 latents; request a shorter clip")

    @torch.no_grad()
    def sample_latents(self, request: GenerationRequest) -> torch.Tensor:
        """Euler sampling of one request: (1, 645, 64) latents (before the VAE)."""
        self._check_duration(request.prompt.duration, request.prompt.id)
        cfg = self.net.cfg
        pair = self.conditions(request.prompt.text, request.prompt.duration)
        x = torch.randn(1, cfg.audio_seq_len, cfg.in_channels,
                        generator=torch_generator(request.seed)).to(self.device)  # (1, 645, 64) noise
        ts = self.sigmas(int(self.params["steps"]))
        for i in range(len(ts) - 1):
            v = self.guided_velocity(x, ts[i], pair, float(self.params["cfg"]))
            x = x + (ts[i + 1] - ts[i]) * v                                      # Euler, float32
        return x

    @torch.no_grad()
    def generate(self, requests: Sequence[GenerationRequest]) -> list[Audio]:
        self.load()
        return [self._decode(self.sample_latents(r), r.prompt.duration) for r in requests]

    def _decode(self, latents: torch.Tensor, seconds: float) -> Audio:
        wave = self._m.vae.decode(latents.transpose(1, 2)).sample[0]        # (2, N*2048) @ 44.1 kHz
        n = int(seconds * SAMPLE_RATE)
        return Audio(wave[:, :n].float().cpu().numpy().astype(np.float32), SAMPLE_RATE)

    # ---- reconstruct / edit ----------------------------------------------------------------
    def _encode_audio(self, audio: Audio, item: str) -> tuple[torch.Tensor, int]:
        """Latent mode (1, 645, C) of the clip zero-padded to 645 * 2048 samples; its length."""
        x = to_native(audio, SAMPLE_RATE, CHANNELS, item)                   # (2, T) @ 44.1 kHz
        total = self.net.cfg.audio_seq_len * HOP
        if x.shape[1] > total:
            raise SabenchError(item, f"clip is {x.shape[1] / SAMPLE_RATE:.2f} s, longer than "
                               f"{total / SAMPLE_RATE:.2f} s", "crop the source clip")
        padded = np.zeros((CHANNELS, total), np.float32)
        padded[:, :x.shape[1]] = x
        wave = torch.from_numpy(padded)[None].to(self.device)               # (1, 2, 645 * 2048)
        z = self._m.vae.encode(wave).latent_dist.mode()                      # (1, C, 645)
        return z.transpose(1, 2).float(), x.shape[1]

    @torch.no_grad()
    def reconstruct(self, requests: Sequence[ReconstructRequest], inputs: Sequence[Audio]) -> list[Audio]:
        self.load()
        out = []
        for r, a in zip(requests, inputs, strict=True):
            z, n = self._encode_audio(a, r.prompt.id)
            out.append(self._decode(z, n / SAMPLE_RATE))
        return out

    def edit_config(self):
        from systems.flowedit import FlowEditConfig

        return FlowEditConfig.from_params(self.params)

    @torch.no_grad()
    def edit(self, requests: Sequence[EditRequest], sources: Sequence[Audio]) -> list[Audio]:
        """FlowEdit over TangoFlux's own velocity; the source duration token is used for both
        prompts; an unknown source caption means the null ("") text at the source CFG."""
        from systems.flowedit import flowedit

        self.load()
        fe = self.edit_config()
        out = []
        for r, a in zip(requests, sources, strict=True):
            z, n = self._encode_audio(a, r.prompt.id)
            seconds = n / SAMPLE_RATE
            tar = self.conditions(r.target_text, seconds)
            if r.source_text is None:
                null = self.conditions("", seconds)[1]
                src = (null, null)
            else:
                src = self.conditions(r.source_text, seconds)
            z_edit = flowedit(self.guided_velocity, z, src, tar, fe, [torch_generator(r.seed)],
                              timesteps=self.sigmas(fe.steps))
            out.append(self._decode(z_edit, seconds))
        return out
