"""Shared fixtures: weightless encoders, a tiny cached dataset, and tiny trained checkpoints."""

from __future__ import annotations

import pytest
import torch

from harness.seeding import torch_generator
from systems.semanticaudio.data import CachedData, encode_batch
from systems.semanticaudio.encoders import weightless_encoders
from systems.semanticaudio.flow import FlowConfig
from systems.semanticaudio.model import frozen_head
from systems.semanticaudio.train import TrainConfig, Trainer

CAPTIONS = ["a dog barks", "rain falls softly", "a bell rings twice", "an engine hums loudly",
            "a dog barks while rain falls", "a siren wails", "beep beep beep", "a quiet bell"]
SPEC = "systems.semanticaudio.encoders:weightless_encoders"

torch.set_num_threads(1)   # tiny tensors: one thread is fastest on the shared 2-core machine


def tiny_cfg(stage: str, **kw) -> TrainConfig:
    base = dict(stage=stage, preset="tiny", d=4, lr=3e-3, warmup=1, decay_steps=(), steps=20,
                batch_size=4, log_every=0, save_every=0, encoders=SPEC)
    base.update(kw)
    return TrainConfig(**base)


@pytest.fixture(scope="session")
def encoders():
    return weightless_encoders()


@pytest.fixture(scope="session")
def data(encoders) -> CachedData:
    """8 clips of 0.4 s @ 1 kHz (10 frames @ 25 fps) with captions."""
    audio = torch.randn(len(CAPTIONS), 400, generator=torch_generator(1)) * 0.3  # (8, 400) @ 1 kHz
    b = encode_batch(audio, CAPTIONS, encoders)
    return CachedData(b["acoustic"], b["tokens"], b["mask"].bool(), b["glob"], b["semantic"])


@pytest.fixture(scope="session")
def checkpoints(tmp_path_factory, data):
    """<root>/mlp-d4/{synthesizer,planner} and <root>/base trained for a few steps."""
    root = tmp_path_factory.mktemp("sa_ckpt")
    synth = Trainer(tiny_cfg("synthesizer"), data)
    synth.train()
    synth.save(root / "mlp-d4" / "synthesizer")
    planner = Trainer(tiny_cfg("planner"), data, head=frozen_head(synth.model))
    planner.train()
    planner.save(root / "mlp-d4" / "planner")
    base = Trainer(tiny_cfg("base"), data)
    base.train()
    base.save(root / "base")
    return root


def no_dropout() -> FlowConfig:
    return FlowConfig(cond_dropout=0.0)
