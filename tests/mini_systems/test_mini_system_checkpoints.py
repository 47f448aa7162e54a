"""The committed mini system checkpoints: manifest (sha256) checked at load, the adapters
load them by profile, and they generate / edit / reconstruct at 16 kHz and the asked length."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from harness.errors import WeightsError
from harness.records import EditRequest, GenerationRequest, Prompt, ReconstructRequest
from suites.synthcaps.weights import DEFAULT_DIR, verify_tree

ROOT = DEFAULT_DIR / "systems"

FAST = {"planner_steps": 4, "synth_steps": 2, "edit_steps": 6, "edit_n_max": 5}
"""Few sampling steps: this test checks plumbing and shapes, not quality."""
LEAVES = tuple(f"{v}/{stage}" for v in ("mlp-d16", "mlp-d64", "rawpe-d64")
               for stage in ("synthesizer", "planner", "planner-seed1")) + ("base",)


def test_manifest_lists_every_stage_and_sizes_fit_the_budget():
    manifest = json.loads((ROOT / "manifest.json").read_text())
    for leaf in LEAVES:
        assert f"{leaf}/model.safetensors" in manifest and f"{leaf}/config.json" in manifest
        assert len(verify_tree(ROOT / leaf)) == 2
    assert not list(ROOT.rglob("optimizer.pt"))                        # weights + config only
    total = sum(p.stat().st_size for p in ROOT.parent.rglob("*") if p.is_file())
    assert total <= 40 * 1024 * 1024, f"committed mini checkpoints are {total / 2**20:.1f} MB (budget 40 MB)"


def test_tampered_checkpoint_is_refused(tmp_path):
    copy = tmp_path / "systems"
    shutil.copytree(ROOT, copy)
    f = copy / "mlp-d16" / "planner" / "model.safetensors"
    data = bytearray(f.read_bytes())
    data[-1] ^= 1                                                       # one bit of one weight
    f.write_bytes(bytes(data))
    assert len(verify_tree(copy / "mlp-d64")) == 6                                # untouched stages pass
    with pytest.raises(WeightsError, match="does not match manifest"):
        verify_tree(copy / "mlp-d16")
    (copy / "base" / "config.json").unlink()
    with pytest.raises(WeightsError, match="missing"):
        verify_tree(copy / "base")


@pytest.fixture(scope="module")
def prompt():
    from suites.synthcaps.suite_loaders import editing

    return editing(per_category=1)[0]                                   # has source, target, reference


@pytest.mark.parametrize("system", [("semanticaudio", {"variant": "mlp", "d": 16}),
                                    ("semanticaudio", {"variant": "rawpe", "d": 64}),
                                    ("base-model", {})])
def test_committed_systems_run_at_16k(system, prompt):
    from harness import audio
    from harness.registry import SYSTEMS, load_catalog

    load_catalog()
    name, params = system
    fast = {k: v for k, v in FAST.items() if name == "semanticaudio" or k.startswith("edit")}
    if name == "base-model":
        fast["base_steps"] = 4
    sys_ = SYSTEMS.get(name)(profile="mini", **params, **fast)
    info = sys_.info
    assert info.sample_rate == 16000 and info.channels == 1 and len(info.checkpoint_sha256) == 64
    assert dict(info.parameters)["encoders"] == "suites.synthcaps.mini_encoders:mini_encoders"
    short = Prompt("p", prompt.text, 2.0)
    gen = sys_.generate([GenerationRequest(short, seed=1), GenerationRequest(prompt, seed=2)])
    assert [g.samples.shape for g in gen] == [(1, 32000), (1, 64000)]   # (C, T) @ 16 kHz
    assert all(g.sample_rate == 16000 and np.isfinite(g.samples).all() for g in gen)
    assert float(np.abs(gen[1].samples).max()) > 1e-3                   # not silence
    again = sys_.generate([GenerationRequest(prompt, seed=2)])
    np.testing.assert_array_equal(again[0].samples, gen[1].samples)     # seeded, batch-independent
    src = audio.read(prompt.source)
    edited = sys_.edit([EditRequest(prompt, "src", seed=3)], [src])
    rec = sys_.reconstruct([ReconstructRequest(prompt, "src", seed=4)], [src])
    assert edited[0].samples.shape == rec[0].samples.shape == (1, 64000)
