"""A shortened mini training run goes through every stage (synthesizer + head, planner on the
frozen head, Base Model) with the full-size Trainer, writes a verifiable manifest, is
deterministic, and the result loads and generates through the adapters."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from harness.records import GenerationRequest, Prompt
from suites.synthcaps.train_systems import QUICK, MiniPlan, train_stages
from suites.synthcaps.weights import verify, verify_tree


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("mini-systems")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        record = train_stages(QUICK, out, log=lambda *_: None)
    finally:
        torch.set_num_threads(threads)
    return out, record


def test_every_stage_is_written(trained):
    out, record = trained
    assert set(record["stages"]) == {"mlp-d16/synthesizer", "mlp-d16/planner", "mlp-d16/planner-seed1", "base"}
    for stage, s in record["stages"].items():
        assert s["steps"] == QUICK.steps[stage.split("/")[-1].split("-")[0]] and np.isfinite(s["loss_last_10pct"])
    synth = json.loads((out / "mlp-d16" / "synthesizer" / "config.json").read_text())
    planner = json.loads((out / "mlp-d16" / "planner" / "config.json").read_text())
    base = json.loads((out / "base" / "config.json").read_text())
    stages = (synth["model"]["stage"], planner["model"]["stage"], base["model"]["stage"])
    assert stages == ("synthesizer", "planner", "base")
    head = synth["model"]["head"]
    assert planner["model"]["head"] == head and (head["variant"], head["in_dim"], head["d"]) == ("mlp", 64, 16)
    assert synth["model"]["dit"]["in_dim"] == 32 and synth["model"]["dit"]["frame_dim"] == 16
    assert planner["model"]["dit"]["in_dim"] == 16                      # the planner generates P(PE) frames
    assert base["model"]["dit"]["in_dim"] == 32 and base["model"]["dit"]["frame_dim"] == 0
    assert synth["encoders"] == "suites.synthcaps.mini_encoders:mini_encoders"
    assert len(verify_tree(out)) == 8 and not list(out.rglob("optimizer.pt"))
    second = json.loads((out / "mlp-d16" / "planner-seed1" / "config.json").read_text())
    assert second["model"] == planner["model"] and second["train"]["seed"] != planner["train"]["seed"]
    assert (out / "mlp-d16" / "planner-seed1" / "model.safetensors").read_bytes() != \
        (out / "mlp-d16" / "planner" / "model.safetensors").read_bytes()


def test_training_is_deterministic(trained, tmp_path):
    out, _ = trained
    plan = MiniPlan(**{**QUICK.__dict__, "variants": (), "base": True})
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train_stages(plan, tmp_path, log=lambda *_: None)
    finally:
        torch.set_num_threads(threads)
    assert (tmp_path / "base" / "model.safetensors").read_bytes() == (out / "base" / "model.safetensors").read_bytes()


def test_quick_checkpoint_generates(trained):
    from systems.base_model import BaseModelSystem
    from systems.semanticaudio.adapter import SemanticAudioSystem

    out, _ = trained
    p = Prompt("q", "a dog barks", 1.0)
    sa = SemanticAudioSystem(checkpoint=str(out / "mlp-d16"), d=16, profile="mini", planner_steps=2, synth_steps=2)
    bm = BaseModelSystem(checkpoint=str(out), profile="mini", base_steps=2)
    for system in (sa, bm):
        a = system.generate([GenerationRequest(p, seed=0)])[0]
        assert a.sample_rate == 16000 and a.samples.shape == (1, 16000) and np.isfinite(a.samples).all()


@pytest.mark.slow
def test_one_command_trains_the_whole_mini_world(tmp_path, monkeypatch):
    """`sabench mini train --quick`: corpus + five backbones + systems, each with a manifest; the
    system groups trained side by side (`--jobs 2`, the default) give the same files as one
    after the other (`--jobs 1`)."""
    from harness import cli

    monkeypatch.delenv("SABENCH_MINI_CHECKPOINTS", raising=False)
    assert cli.main(["mini", "train", "--quick", "--out", str(tmp_path)]) == 0
    for name in ("mini_classifier", "mini_clap", "mini_semantic", "mini_vae", "mini_quality"):
        shas = verify(tmp_path, [f"{name}.safetensors", f"{name}.json"])
        assert len(shas) == 2 and all(len(s) == 64 for s in shas.values())
    shas = verify_tree(tmp_path / "systems")
    assert len(shas) == 3 * 3 * 2 + 2                                 # 3 heads x (synth + 2 planners) + base
    again = tmp_path / "again"
    again.mkdir()
    for f in tmp_path.glob("mini_*"):
        (again / f.name).write_bytes(f.read_bytes())
    (again / "manifest.json").write_bytes((tmp_path / "manifest.json").read_bytes())
    assert cli.main(["mini", "train", "--quick", "--out", str(again), "--skip-backbones", "--jobs", "1"]) == 0
    assert verify_tree(again / "systems") == shas
    cfg = json.loads((tmp_path / "systems" / "base" / "config.json").read_text())
    assert cfg["encoders"] == "suites.synthcaps.mini_encoders:mini_encoders"
    import os
    assert "SABENCH_MINI_CHECKPOINTS" not in os.environ                # restored after training
