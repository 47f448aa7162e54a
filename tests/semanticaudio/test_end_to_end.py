"""End to end at tiny size: train all three stages on 8 clips, then check the pipelines
reproduce what they memorised (generation finds the right clip; reconstruction is close)."""

from __future__ import annotations

import pytest
import torch
from _sa_kit import CAPTIONS, tiny_cfg

from systems.semanticaudio.model import frozen_head
from systems.semanticaudio.pipeline import BaseModelPipeline, InferenceConfig, SemanticAudioPipeline
from systems.semanticaudio.train import Trainer


def _nearest(pred: torch.Tensor, ref: torch.Tensor) -> list[int]:
    return torch.cdist(pred.flatten(1), ref.flatten(1)).argmin(1).tolist()


@pytest.mark.slow
def test_memorised_set_is_regenerated(data, encoders):
    kw = dict(steps=400, batch_size=8, lr=3e-3, warmup=20)
    synth = Trainer(tiny_cfg("synthesizer", **kw), data)
    synth.train()
    planner = Trainer(tiny_cfg("planner", **kw), data, head=frozen_head(synth.model))
    planner.train()
    base = Trainer(tiny_cfg("base", **kw), data)
    base.train()
    seeds = list(range(8))
    sa = SemanticAudioPipeline(synth.model, planner.model, encoders, InferenceConfig(planner_steps=20, synth_steps=10))
    z = encoders.vae.encode(sa.generate(CAPTIONS, 10, 400, seeds))        # (8, 10, 40)
    hits = sum(i == j for i, j in enumerate(_nearest(z, data.acoustic)))
    assert hits >= 7, hits                                                  # measured 8 / 8
    audio = encoders.vae.decode(data.acoustic)                              # (8, 400) exact codec inverse
    rec = encoders.vae.encode(sa.reconstruct(audio, seeds))
    rel = float((rec - data.acoustic).pow(2).mean() / data.acoustic.pow(2).mean())
    assert rel < 0.3, rel                                                   # measured 0.11
    bp = BaseModelPipeline(base.model, encoders, InferenceConfig(base_steps=20))
    zb = encoders.vae.encode(bp.generate(CAPTIONS, 10, 400, seeds))
    assert sum(i == j for i, j in enumerate(_nearest(zb, data.acoustic))) >= 5   # measured 6 / 8
