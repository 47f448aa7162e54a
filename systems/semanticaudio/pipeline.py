"""Inference pipelines over trained `FlowModel`s and an `Encoders` bundle (tensors in, tensors out).

SemanticAudio:
    generate:    text -> planner (50 Euler steps, CFG 4.5) -> s (B, T, d)
                 -> synthesizer(s, text) (25 steps, CFG 1.0) -> z (B, T, 128) -> VAE decode
    reconstruct: audio -> semantic encoder -> head -> synthesizer (null text) -> decode
    edit:        audio -> semantic encoder -> head -> FlowEdit in the planner's space
                 (source = source text, or null conditioning when it is None; target CFG 5)
                 -> synthesizer(target text, 25 steps) -> decode
Base Model:
    generate: text -> base DiT over acoustic latents -> decode;  edit: FlowEdit on VAE
    latents ("DAC FlowEdit");  reconstruct: VAE round trip.

Each row's noise comes from generators derived from its own seed (`row_generators`), so a
row's output does not depend on the batch it was rendered in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import torch

from harness.seeding import derive_seed, torch_generator
from systems.flowedit import FlowEditConfig
from systems.semanticaudio.encoders import Encoders
from systems.semanticaudio.flow import Cond
from systems.semanticaudio.model import FlowModel


@dataclass(frozen=True)
class InferenceConfig:
    """Paper defaults (App. A.3); the Base Model uses the planner's 50 steps / CFG 4.5."""

    planner_steps: int = 50
    planner_cfg: float = 4.5
    synth_steps: int = 25
    synth_cfg: float = 1.0
    base_steps: int = 50
    base_cfg: float = 4.5
    edit: FlowEditConfig = field(default_factory=FlowEditConfig)

    def to_dict(self) -> dict:
        return asdict(self)


def row_generators(seeds: Sequence[int], purpose: str) -> list[torch.Generator]:
    return [torch_generator(derive_seed(int(s), purpose)) for s in seeds]


def fit_frames(x: torch.Tensor, T: int) -> torch.Tensor:
    """Crop or zero-pad dim 1 of (B, T', E) to T frames."""
    if x.shape[1] >= T:
        return x[:, :T]
    return torch.nn.functional.pad(x, (0, 0, 0, T - x.shape[1]))


class _Pipeline:
    def __init__(self, encoders: Encoders, icfg: InferenceConfig, device: str = "cpu"):
        self.enc, self.icfg, self.device = encoders, icfg, device

    @torch.no_grad()
    def text_cond(self, texts: Sequence[str]) -> Cond:
        tf = self.enc.text.encode(list(texts))
        return Cond(tf.tokens.float(), tf.mask.bool(), tf.glob.float()).to(self.device)

    @staticmethod
    def null_cond(model: FlowModel, B: int) -> Cond:
        """Null text conditioning: the DiT's learned null token (length 1) and null vector."""
        dit = model.dit
        tokens = dit.null_tokens.detach().expand(B, 1, -1).clone()      # (B, 1, Dt)
        mask = torch.ones(B, 1, dtype=torch.bool, device=tokens.device)  # (B, 1)
        return Cond(tokens, mask, dit.null_global.detach().expand(B, -1).clone())  # glob (B, Dg)

    @torch.no_grad()
    def encode_audio(self, audio: torch.Tensor) -> torch.Tensor:
        return self.enc.vae.encode(audio.to(self.device)).float()       # (B, T, C)

    @torch.no_grad()
    def decode(self, z: torch.Tensor, samples: int) -> torch.Tensor:
        wav = self.enc.vae.decode(z).float()                            # (B, T * hop)
        return torch.nn.functional.pad(wav, (0, max(0, samples - wav.shape[-1])))[:, :samples]


class SemanticAudioPipeline(_Pipeline):
    def __init__(self, synth: FlowModel, planner: FlowModel | None, encoders: Encoders,
                 icfg: InferenceConfig = InferenceConfig(), device: str = "cpu"):
        super().__init__(encoders, icfg, device)
        self.synth, self.planner = synth.to(device).eval(), None if planner is None else planner.to(device).eval()

    @torch.no_grad()
    def semantic(self, audio: torch.Tensor, T: int) -> torch.Tensor:
        """audio (B, N) -> projected semantic latents (B, T, d) (the synthesizer's head)."""
        feats = self.enc.semantic.encode(audio.to(self.device)).float()  # (B, T', E)
        return self.synth.head(fit_frames(feats, T))                    # (B, T, d)

    @torch.no_grad()
    def plan(self, cond: Cond, T: int, seeds: Sequence[int]) -> torch.Tensor:
        i = self.icfg
        return self.planner.sample(cond, T, i.planner_steps, i.planner_cfg, row_generators(seeds, "planner"))

    @torch.no_grad()
    def synthesize(self, s: torch.Tensor, cond: Cond, seeds: Sequence[int]) -> torch.Tensor:
        c = Cond(cond.tokens, cond.mask, cond.glob, s)
        i = self.icfg
        return self.synth.sample(c, s.shape[1], i.synth_steps, i.synth_cfg, row_generators(seeds, "synthesizer"))

    def _need_planner(self) -> None:
        if self.planner is None:
            raise ValueError("this SemanticAudio pipeline has no planner checkpoint (generate/edit need one)")

    @torch.no_grad()
    def generate(self, texts: Sequence[str], T: int, samples: int, seeds: Sequence[int]) -> torch.Tensor:
        self._need_planner()
        cond = self.text_cond(texts)
        s = self.plan(cond, T, seeds)                                   # (B, T, d)
        return self.decode(self.synthesize(s, cond, seeds), samples)    # (B, samples)

    @torch.no_grad()
    def reconstruct(self, audio: torch.Tensor, seeds: Sequence[int]) -> torch.Tensor:
        T = -(-audio.shape[-1] // self.enc.vae.hop)                      # ceil(N / hop) frames
        s = self.semantic(audio, T)                                     # (B, T, d)
        z = self.synthesize(s, self.null_cond(self.synth, audio.shape[0]), seeds)
        return self.decode(z, audio.shape[-1])

    @torch.no_grad()
    def edit_latents(self, s_src: torch.Tensor, src_texts: Sequence[str | None], tar: Cond,
                     seeds: Sequence[int]) -> torch.Tensor:
        """FlowEdit in the planner's space; rows with a None source text use null conditioning."""
        out = torch.empty_like(s_src)
        groups = {True: [i for i, t in enumerate(src_texts) if t is None],
                  False: [i for i, t in enumerate(src_texts) if t is not None]}
        for is_null, rows in groups.items():
            if not rows:
                continue
            src = None if is_null else self.text_cond([src_texts[i] for i in rows])
            gens = row_generators([seeds[i] for i in rows], "flowedit")
            out[rows] = self.planner.edit(s_src[rows], src, tar.index(rows), self.icfg.edit, gens)
        return out

    @torch.no_grad()
    def edit(self, audio: torch.Tensor, src_texts: Sequence[str | None], tar_texts: Sequence[str],
             seeds: Sequence[int]) -> torch.Tensor:
        self._need_planner()
        T = -(-audio.shape[-1] // self.enc.vae.hop)
        tar = self.text_cond(tar_texts)
        s_edit = self.edit_latents(self.semantic(audio, T), src_texts, tar, seeds)  # (B, T, d)
        return self.decode(self.synthesize(s_edit, tar, seeds), audio.shape[-1])


class BaseModelPipeline(_Pipeline):
    def __init__(self, base: FlowModel, encoders: Encoders, icfg: InferenceConfig = InferenceConfig(),
                 device: str = "cpu"):
        super().__init__(encoders, icfg, device)
        self.base = base.to(device).eval()

    @torch.no_grad()
    def generate(self, texts: Sequence[str], T: int, samples: int, seeds: Sequence[int]) -> torch.Tensor:
        cond = self.text_cond(texts)
        z = self.base.sample(cond, T, self.icfg.base_steps, self.icfg.base_cfg, row_generators(seeds, "base"))
        return self.decode(z, samples)                                  # (B, samples)

    @torch.no_grad()
    def reconstruct(self, audio: torch.Tensor, seeds: Sequence[int] = ()) -> torch.Tensor:
        return self.decode(self.encode_audio(audio), audio.shape[-1])

    @torch.no_grad()
    def edit(self, audio: torch.Tensor, src_texts: Sequence[str | None], tar_texts: Sequence[str],
             seeds: Sequence[int]) -> torch.Tensor:
        z_src, tar = self.encode_audio(audio), self.text_cond(tar_texts)  # (B, T, C)
        out = torch.empty_like(z_src)
        for is_null in (True, False):
            rows = [i for i, t in enumerate(src_texts) if (t is None) == is_null]
            if rows:
                src = None if is_null else self.text_cond([src_texts[i] for i in rows])
                gens = row_generators([seeds[i] for i in rows], "flowedit")
                out[rows] = self.base.edit(z_src[rows], src, tar.index(rows), self.icfg.edit, gens)
        return self.decode(out, audio.shape[-1])
