"""SemanticVocoder's text-to-audio model: flan-t5 text states -> UDiT flow matching over
Dasheng semantic latents (768 x 25 Hz) -> the generative vocoder -> mono 24 kHz.

Facts from the original (zeyuxie29/SemanticVocoder, src/inference; rewritten, not copied):
- `model.py`: a transformers `PreTrainedModel` whose `model` attribute is
  `hydra.utils.instantiate(config.model_config)`; checkpoint keys are therefore prefixed
  "model.". `forward(content, num_steps=100, guidance_scale=3.5, guidance_rescale=0.5,
  vocoder_steps=200, latent_shape=[768, 250])` renders one prompt. `guidance_rescale` reaches
  only the vocoder's `decode(**kwargs)`, which ignores it: it has no effect.
- `models/flow_matching.py: SingleTaskCrossAttentionAudioFlowMatching` (module names
  `autoencoder`, `content_encoder`, `backbone`, `dummy_param`): x_t = (1 - s) x0 + s eps, the
  network predicts eps - x0 (the shared FlowEdit convention). CFG when guidance > 1: one
  forward over [uncond; cond] where uncond is the ZERO content with the prompt's mask;
  v = v_u + w (v_c - v_u).
- Sigma grid (`inference`, default `sway_sampling_coef=-1`): t = linspace(0, 1, N + 1),
  t += c (cos(pi t / 2) - 1 + t), s = 1 - t (= cos(pi i / 2N) for c = -1), float32; diffusers'
  FlowMatchEulerDiscreteScheduler (shift 1) appends a second terminal 0, so the original runs
  N + 1 network passes, the last with ds = 0 (a no-op step that sabench skips: identical
  result). Network timestep = long(float32(s) * num_train_steps) (truncated, as UDiT casts).
- Text (`T5TextEncoder`): one prompt per call, tokenised with truncation at the tokenizer's
  model_max_length, no padding; T5 encoder last hidden state -> Linear(1024, Dc).
- Noise: the original draws the (768, T) start noise and then the vocoder's noise from the
  global RNG; sabench draws both, in that order, from one per-request generator (same stream
  as the original after `torch.manual_seed(seed)` on the CPU).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from harness.errors import SabenchError, WeightsError
from systems.semanticvocoder.udit import UDiT, UDiTConfig

HUB = "https://huggingface.co/ZeyuXie/SemanticVocoder"
FM_TARGET = "SingleTaskCrossAttentionAudioFlowMatching"
FM_KEYS = {"_target_", "autoencoder", "content_encoder", "backbone", "cfg_drop_ratio",
           "sample_strategy", "num_train_steps", "pretrained_ckpt"}
TIED = ("model.content_encoder.text_encoder.model.shared.weight",
        "model.content_encoder.text_encoder.model.encoder.embed_tokens.weight")
"""T5's input embedding is one tensor under two names; a safetensors file stores it once."""


@dataclass(frozen=True)
class TTAConfig:
    backbone: UDiTConfig
    autoencoder: Any                    # loading.AutoencoderConfig (vocoder + encoder_name ...)
    content_dim: int                    # Dc: the text projection width
    t5_name: str = "google/flan-t5-large"
    num_train_steps: int = 1000


def _node(doc: Mapping, path: tuple[str, ...], item: str) -> dict:
    cur: Any = doc
    for p in path:
        if not isinstance(cur, Mapping) or p not in cur:
            raise WeightsError(item, f"config has no {'.'.join(path)} node",
                               f"use config.json from {HUB}")
        cur = cur[p]
    return dict(cur)


def parse_tta_config(doc: Mapping[str, Any], item: str) -> TTAConfig:
    """The published HF config.json (`model_config` = the Hydra node) -> TTAConfig."""
    from systems.semanticvocoder.loading import parse_autoencoder

    fix = f"use config.json from {HUB}"
    fm = _node(doc, ("model_config",), item)
    if not str(fm.get("_target_", "")).endswith(FM_TARGET):
        raise WeightsError(item, f"model_config _target_ {fm.get('_target_')!r} is not {FM_TARGET}", fix)
    extra = sorted(set(fm) - FM_KEYS)
    if extra:
        raise WeightsError(item, f"model_config keys sabench does not implement: {extra}", fix)
    bb = _node(doc, ("model_config", "backbone"), item)
    if not str(bb.get("_target_", "")).endswith("UDiT"):
        raise WeightsError(item, f"backbone {bb.get('_target_')!r}: only mask_dit.UDiT runs with "
                           f"{FM_TARGET} (the other DiTs need time-aligned context)", fix)
    te = _node(doc, ("model_config", "content_encoder", "text_encoder"), item)
    if not str(te.get("_target_", "")).endswith("T5TextEncoder"):
        raise WeightsError(item, f"text encoder {te.get('_target_')!r} is not T5TextEncoder", fix)
    ce = _node(doc, ("model_config", "content_encoder"), item)
    others = sorted(k for k in ce if k not in ("_target_", "embed_dim", "text_encoder") and ce[k] is not None)
    if others:
        raise WeightsError(item, f"content encoders other than text are not implemented: {others}", fix)
    ae = parse_autoencoder(_node(doc, ("model_config", "autoencoder"), item), item,
                           allow_no_encoder=True)
    cfg = TTAConfig(UDiTConfig.from_kwargs(bb, item), ae, int(te["embed_dim"]),
                    str(te.get("model_name", "google/flan-t5-large")), int(fm.get("num_train_steps", 1000)))
    if cfg.backbone.context_dim != cfg.content_dim or cfg.backbone.in_chans != ae.vocoder.latent_dim:
        raise WeightsError(item, f"inconsistent widths: text {cfg.content_dim} vs backbone context "
                           f"{cfg.backbone.context_dim}; backbone in {cfg.backbone.in_chans} vs "
                           f"vocoder latent {ae.vocoder.latent_dim}", fix)
    return cfg


def sigma_grid(steps: int, sway: float | None = -1.0) -> torch.Tensor:
    """(steps + 1,) float32 sigmas from 1 to 0, as the original's scheduler holds them."""
    if not sway:
        s = np.linspace(1.0, 1.0 / steps, steps).astype(np.float32)
        return torch.cat([torch.from_numpy(s), torch.zeros(1)])
    t = torch.linspace(0, 1, steps + 1)
    t = t + sway * (torch.cos(torch.pi / 2 * t) - 1 + t)
    return torch.from_numpy(np.array(1 - t).astype(np.float32))


class TextEncoder(nn.Module):
    """`content_encoder.text_encoder`: `model` (T5 encoder) + `proj` Linear(d_model, Dc)."""

    def __init__(self, t5_config, dim: int):
        super().__init__()
        from harness.extras import require

        T5EncoderModel = require("transformers", extra="semanticvocoder",
                                 item="system semanticvocoder").T5EncoderModel

        self.model = T5EncoderModel(t5_config)
        self.proj = nn.Linear(t5_config.d_model, dim)

    def tie(self) -> None:
        self.model.encoder.embed_tokens.weight = self.model.shared.weight


class FlowMatching(nn.Module):
    """The original flow-matching module's layout (state-dict names match it)."""

    def __init__(self, cfg: TTAConfig, t5_config):
        super().__init__()
        from systems.semanticvocoder.network import SemanticVocoderGenerator

        self.cfg = cfg
        self.autoencoder = nn.Module()
        self.autoencoder.generator = SemanticVocoderGenerator(cfg.autoencoder.vocoder)
        self.content_encoder = nn.Module()
        self.content_encoder.text_encoder = TextEncoder(t5_config, cfg.content_dim)
        self.backbone = UDiT(cfg.backbone)
        self.dummy_param = nn.Parameter(torch.empty(0))


class Published(nn.Module):
    """The HF wrapper: everything under `model.`."""

    def __init__(self, cfg: TTAConfig, t5_config):
        super().__init__()
        self.model = FlowMatching(cfg, t5_config)


def latent_frames(seconds: float, cfg: UDiTConfig) -> int:
    """25 Hz frames for `seconds`, rounded up to a whole number of patches."""
    frames = max(1, math.ceil(round(seconds * 25, 6)))
    return -(-frames // cfg.patch_size) * cfg.patch_size


def max_seconds(cfg: UDiTConfig) -> float | None:
    """Longest renderable clip: bounded by the latent position table (abs / sinu), else None."""
    return cfg.num_patches * cfg.patch_size / 25 if cfg.pe_method in ("abs", "sinu") else None


class TextToAudio:
    """A loaded text-to-audio model: conditions, guided velocity, Euler sampling, decoding."""

    def __init__(self, net: Published, tokenizer, sha: str):
        self.fm, self.tokenizer, self.sha = net.model.eval(), tokenizer, sha
        self.cfg: TTAConfig = net.model.cfg

    @property
    def vocoder(self):
        return self.fm.autoencoder.generator

    @torch.no_grad()
    def condition(self, text: str) -> tuple[torch.Tensor, torch.Tensor]:
        """(states (1, L, Dc) float32, mask (1, L) bool) of one prompt, as `T5TextEncoder`."""
        enc = self.fm.content_encoder.text_encoder
        tok = self.tokenizer([text], max_length=self.tokenizer.model_max_length, padding=True,
                             truncation=True, return_tensors="pt")
        bb = self.cfg.backbone
        if bb.context_pe_method in ("abs", "sinu") and tok.input_ids.shape[1] > bb.context_max_length:
            raise SabenchError(f"prompt {text[:40]!r}", f"{tok.input_ids.shape[1]} text tokens, but the "
                               f"model's text position table has {bb.context_max_length}",
                               "shorten the prompt (the original model cannot take it either)")
        ids, mask = tok.input_ids.to(self.device), tok.attention_mask.to(self.device)
        states = enc.model(input_ids=ids, attention_mask=mask)[0]           # (1, L, 1024)
        return enc.proj(states.float()), mask.bool()

    @property
    def device(self) -> torch.device:
        return self.fm.dummy_param.device

    def timestep(self, sigma: float, batch: int) -> torch.Tensor:
        """(B,) long: float32(sigma) * num_train_steps, truncated (the original's cast)."""
        t = torch.tensor(float(sigma), dtype=torch.float32) * self.cfg.num_train_steps
        return t.long().expand(batch).to(self.device)

    @torch.no_grad()
    def velocity(self, x: torch.Tensor, sigma: float, cond, w: float) -> torch.Tensor:
        """v(x (B, C, T), sigma) for cond = (states, mask); guidance w > 1 runs [uncond; cond] in
        one batch with uncond = zero states under the same mask; cond=None is the zero content."""
        states, mask = cond
        if w <= 1.0:
            return self.fm.backbone(x, self.timestep(sigma, x.shape[0]), states, mask)
        ctx = torch.cat([torch.zeros_like(states), states])                  # [uncond ; cond]
        v_u, v_c = self.fm.backbone(torch.cat([x, x]), self.timestep(sigma, 2 * x.shape[0]),
                                    ctx, torch.cat([mask, mask])).chunk(2)
        return v_u + w * (v_c - v_u)

    @torch.no_grad()
    def sample(self, cond, noise: torch.Tensor, steps: int, w: float, sway: float | None) -> torch.Tensor:
        """Euler from noise (B, C, T) over `sigma_grid`; returns x0 (B, C, T) float32."""
        sig = sigma_grid(steps, sway)
        x = noise
        for i in range(len(sig) - 1):
            v = self.velocity(x, float(sig[i]), cond, w)
            x = x + float(sig[i + 1] - sig[i]) * v                            # float32 Euler
        return x

    @torch.no_grad()
    def conditions(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Each prompt encoded alone (as the original), then zero-padded with a False mask to the
        longest: (states (B, L, Dc), mask (B, L)) - the original's `pad_sequence` batching."""
        parts = [self.condition(t) for t in texts]
        L = max(m.shape[1] for _, m in parts)
        states = torch.zeros(len(parts), L, self.cfg.content_dim, device=self.device)
        mask = torch.zeros(len(parts), L, dtype=torch.bool, device=self.device)
        for b, (st, m) in enumerate(parts):
            states[b, :st.shape[1]], mask[b, :m.shape[1]] = st[0], m[0]
        return states, mask

    @torch.no_grad()
    def render(self, texts: Sequence[str], seconds: float, gens: Sequence[torch.Generator], steps: int,
               w: float, sway: float | None, vocoder_steps: int) -> torch.Tensor:
        """Prompts of one duration -> (B, L) waveforms @ 24 kHz, peak <= 1 (not trimmed). Row b
        draws its start noise and then its vocoder noise from gens[b]: independent of the batch."""
        T = latent_frames(seconds, self.cfg.backbone)
        noise = torch.cat([torch.randn(1, self.cfg.backbone.in_chans, T, generator=g) for g in gens])
        z = self.sample(self.conditions(texts), noise.to(self.device), steps, w, sway)  # (B, 768, T)
        return decode(self.vocoder, z, gens, vocoder_steps, self.cfg.autoencoder.clamp_pred)


def decode(vocoder, z: torch.Tensor, gens: torch.Generator | Sequence[torch.Generator], steps: int,
           clamp: bool) -> torch.Tensor:
    """(B, D, T') latents -> (B, T' * hop) @ 24 kHz: row b's noise 0.1 N(0, I) from gens[b] (one
    generator: all rows from it), Euler, clamp, then divide by max(peak, 1) per row (the
    original's `decode(normalize=True)`)."""
    hop = vocoder.cfg.hop_length
    if isinstance(gens, torch.Generator):
        noise = torch.randn((z.shape[0], z.shape[-1] * hop), generator=gens)
    else:
        noise = torch.cat([torch.randn((1, z.shape[-1] * hop), generator=g) for g in gens])
    noise = noise.to(z.device)
    noise = noise * vocoder.cfg.init_noise_scale                             # (B, T' * hop) @ 24 kHz
    y = vocoder.sample(z, noise, steps, clamp=clamp)                         # (B, T' * hop)
    return y / y.abs().amax(dim=-1, keepdim=True).clamp(min=1.0)
