"""Training: overfitting, LR schedule, determinism, exact resume, checkpoints, data shards."""

from __future__ import annotations

import json

import pytest
import torch
from _sa_kit import CAPTIONS, tiny_cfg

from harness.errors import WeightsError
from harness.seeding import torch_generator
from systems.semanticaudio import checkpoint
from systems.semanticaudio.data import encode_batch, load_shards, precompute
from systems.semanticaudio.flow import FlowConfig
from systems.semanticaudio.model import FlowModel, ModelConfig, frozen_head
from systems.semanticaudio.train import Trainer, lr_at, main


def _eval_loss(tr: Trainer, n: int = 8) -> float:
    """Mean loss on the whole set over n fixed noise draws (no dropout)."""
    idx = torch.arange(len(tr.data))
    cfg = FlowConfig(cond_dropout=0.0)
    with torch.no_grad():
        return sum(float(tr.model.loss(tr.data.acoustic[idx], tr.data.cond(idx, "cpu"), cfg, torch_generator(k)))
                   for k in range(n)) / n


def test_tiny_model_overfits_small_batch(data):
    tr = Trainer(tiny_cfg("synthesizer", steps=300, batch_size=8, lr=5e-3, flow=FlowConfig(cond_dropout=0.0)), data)
    before = _eval_loss(tr)
    tr.train()
    after = _eval_loss(tr)
    assert after < 0.1 * before, (before, after)


def test_lr_schedule():
    cfg = tiny_cfg("base", lr=1.0, warmup=4, decay_steps=(10, 20), decay_factor=0.5)
    assert [lr_at(cfg, s) for s in (0, 1, 3, 9, 10, 19, 20, 100)] == [0.25, 0.5, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25]


def test_exact_resume_equals_uninterrupted(data, tmp_path):
    cfg = tiny_cfg("synthesizer", steps=6, grad_accum=2, batch_size=3)
    full = Trainer(cfg, data)
    losses_full = full.train()
    part = Trainer(cfg, data)
    losses_a = part.train(until=3)
    part.save(tmp_path / "ck")
    resumed = Trainer(cfg, data)
    resumed.resume(tmp_path / "ck")
    losses_b = resumed.train()
    assert losses_a + losses_b == losses_full
    for (k, a), (_, b) in zip(full.model.state_dict().items(), resumed.model.state_dict().items(), strict=True):
        assert torch.equal(a, b), k


def test_data_order_covers_each_epoch_once(data):
    tr = Trainer(tiny_cfg("base", batch_size=4), data)
    rows = torch.cat([tr.batch_indices(s, 0) for s in range(2)])
    assert sorted(rows.tolist()) == list(range(8))


def test_checkpoint_round_trip_bit_identical(data, tmp_path):
    tr = Trainer(tiny_cfg("synthesizer", steps=2), data)
    tr.train()
    tr.save(tmp_path / "c")
    model, conf = checkpoint.load_model(tmp_path / "c")
    for (k, a), (_, b) in zip(tr.model.state_dict().items(), model.state_dict().items(), strict=True):
        assert torch.equal(a, b), k
    assert conf["step"] == 2 and conf["model"]["head"]["d"] == 4
    assert conf["latent_stats"]["mean"] == tr.model.latent_mean.tolist()
    assert json.loads((tmp_path / "c" / "config.json").read_text())["encoders"].endswith("weightless_encoders")


def test_wrong_config_refused_naming_field(data, tmp_path):
    tr = Trainer(tiny_cfg("synthesizer", steps=1), data)
    tr.save(tmp_path / "c")
    cfg = tr.model.cfg
    other = FlowModel(ModelConfig(cfg.stage, cfg.dit.__class__(**{**cfg.dit.to_dict(), "depth": 3}), cfg.head))
    with pytest.raises(WeightsError, match=r"dit\.depth: checkpoint 2, model 3"):
        checkpoint.load_into(tmp_path / "c", other)


def test_planner_targets_come_from_frozen_head(data):
    synth = Trainer(tiny_cfg("synthesizer", steps=2), data)
    synth.train()
    head = frozen_head(synth.model)
    planner = Trainer(tiny_cfg("planner", steps=1), data, head=head)
    assert torch.equal(planner.data.acoustic, head(data.semantic))
    assert planner.model.cfg.dit.in_dim == 4 and planner.model.cfg.dit.frame_dim == 0
    assert not any(p.requires_grad for p in head.parameters())


def test_precompute_shards_round_trip(encoders, tmp_path):
    g = torch_generator(4)
    pairs = [((torch.randn(300 + 50 * i, generator=g) * 0.2).numpy(), c) for i, c in enumerate(CAPTIONS)]
    paths = precompute(pairs, encoders, tmp_path / "shards", seconds=0.4, batch=3, shard_size=4)
    assert len(paths) == 2
    data = load_shards(tmp_path / "shards")
    assert data.acoustic.shape == (8, 10, 40) and data.semantic.shape == (8, 10, 12)
    a = torch.zeros(400)
    a[:300] = torch.from_numpy(pairs[0][0])
    direct = encode_batch(a[None], [CAPTIONS[0]], encoders)
    assert torch.equal(data.acoustic[0], direct["acoustic"][0])
    L = direct["tokens"].shape[1]
    assert torch.equal(data.tokens[0, :L], direct["tokens"][0]) and not data.mask[0, L:].any()


def test_cli_trains_and_resumes(encoders, tmp_path, data):
    """The command-line entry point on cached shards (synthesizer then planner)."""
    from safetensors.torch import save_file

    (tmp_path / "d").mkdir()
    save_file({"acoustic": data.acoustic, "semantic": data.semantic, "tokens": data.tokens,
               "mask": data.mask.to(torch.uint8), "glob": data.glob}, str(tmp_path / "d" / "shard-00000.safetensors"))
    common = ["--data", str(tmp_path / "d"), "--preset", "tiny", "--d", "4", "--steps", "2", "--batch-size", "4",
              "--log-every", "0", "--warmup", "1", "--device", "cpu"]
    main(["--stage", "synthesizer", "--out", str(tmp_path / "s")] + common)
    main(["--stage", "planner", "--out", str(tmp_path / "p"), "--synthesizer", str(tmp_path / "s")] + common)
    assert checkpoint.read_config(tmp_path / "p")["model"]["stage"] == "planner"
    main(["--stage", "synthesizer", "--out", str(tmp_path / "s2"), "--resume", str(tmp_path / "s")]
         + common[:-8] + ["--steps", "3", "--batch-size", "4", "--log-every", "0", "--warmup", "1"])
    assert checkpoint.read_config(tmp_path / "s2")["step"] == 3


@pytest.mark.slow
def test_ddp_two_processes_with_torchrun(data, tmp_path):
    """torchrun (gloo, CPU) over the CLI: both ranks step in lockstep; rank 0 writes the checkpoint."""
    import os
    import subprocess
    import sys

    from safetensors.torch import save_file

    (tmp_path / "d").mkdir()
    save_file({"acoustic": data.acoustic, "semantic": data.semantic, "tokens": data.tokens,
               "mask": data.mask.to(torch.uint8), "glob": data.glob}, str(tmp_path / "d" / "shard-00000.safetensors"))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29731",
           "-m", "systems.semanticaudio.train", "--stage", "base", "--data", str(tmp_path / "d"),
           "--out", str(tmp_path / "ddp"), "--preset", "tiny", "--steps", "3", "--batch-size", "2",
           "--log-every", "1", "--warmup", "1", "--device", "cpu"]
    res = subprocess.run(cmd, cwd=str(os.getcwd()), env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert checkpoint.read_config(tmp_path / "ddp")["step"] == 3
    assert res.stdout.count("step 3 loss") == 1            # only rank 0 logs


def test_precompute_cli_from_manifest(tmp_path):
    """WAV files + JSONL manifest -> shards, through harness.audio (crop/pad to --seconds)."""
    import numpy as np

    from harness.audio import write
    from harness.records import Audio
    from systems.semanticaudio.data import main as data_main

    rng = np.random.default_rng(0)
    rows = []
    for i, cap in enumerate(CAPTIONS[:3]):
        write(tmp_path / f"c{i}.wav", Audio((rng.standard_normal((1, 250 + 150 * i)) * 0.2).astype(np.float32), 1000))
        rows.append(json.dumps({"audio": f"c{i}.wav", "caption": cap}))
    (tmp_path / "m.jsonl").write_text("\n".join(rows))
    data_main(["--manifest", str(tmp_path / "m.jsonl"), "--out", str(tmp_path / "sh"), "--seconds", "0.4",
               "--encoders", "systems.semanticaudio.encoders:weightless_encoders"])
    d = load_shards(tmp_path / "sh")
    assert d.acoustic.shape == (3, 10, 40) and d.semantic.shape == (3, 10, 12) and d.glob.shape == (3, 8)


def test_ema_is_the_running_average_of_the_raw_weights(data, tmp_path):
    """ema = d: after each optimizer step e <- d e + (1 - d) w, computed here independently in
    float64 from a copy of the raw weights taken after every step; model.safetensors holds the
    average, raw.safetensors the raw weights. Tolerance 1e-6: float32 lerp against float64."""
    decay = 0.9
    tr = Trainer(tiny_cfg("synthesizer", steps=5, ema=decay), data)
    avg = {k: v.double().clone() for k, v in tr.model.named_parameters()}
    for _ in range(5):
        tr.train_step()
        for k, w in tr.model.named_parameters():
            avg[k] = decay * avg[k] + (1 - decay) * w.detach().double()
    moved = 0
    for k, e in tr.ema.named_parameters():
        assert torch.allclose(e.double(), avg[k], atol=1e-6), k
        moved += not torch.equal(e, dict(tr.model.named_parameters())[k])
    assert moved > 0                                   # the average is not the raw weights
    tr.save(tmp_path / "c")
    saved, _ = checkpoint.load_model(tmp_path / "c")
    for (k, a), (_, b) in zip(tr.ema.state_dict().items(), saved.state_dict().items(), strict=True):
        assert torch.equal(a, b), k
    assert (tmp_path / "c" / checkpoint.RAW).is_file()


def test_ema_resume_equals_uninterrupted_and_off_writes_no_raw(data, tmp_path):
    cfg = tiny_cfg("synthesizer", steps=6, batch_size=3, ema=0.8)
    full = Trainer(cfg, data)
    full.train()
    part = Trainer(cfg, data)
    part.train(until=3)
    part.save(tmp_path / "ck")
    resumed = Trainer(cfg, data)
    resumed.resume(tmp_path / "ck")
    resumed.train()
    for m_full, m_res in ((full.model, resumed.model), (full.ema, resumed.ema)):
        for (k, a), (_, b) in zip(m_full.state_dict().items(), m_res.state_dict().items(), strict=True):
            assert torch.equal(a, b), k
    plain = Trainer(tiny_cfg("synthesizer", steps=1), data)
    plain.train()
    plain.save(tmp_path / "plain")
    assert plain.ema is None and not (tmp_path / "plain" / checkpoint.RAW).exists()
    (tmp_path / "ck" / checkpoint.RAW).unlink()
    with pytest.raises(WeightsError, match="raw weights missing"):
        Trainer(cfg, data).resume(tmp_path / "ck")
    with pytest.raises(ValueError, match="ema must be in"):
        Trainer(tiny_cfg("synthesizer", ema=1.0), data)
