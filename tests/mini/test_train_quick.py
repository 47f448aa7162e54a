"""`--quick` runs every training stage and writes loadable, hash-listed checkpoints."""

import json

import numpy as np
import pytest

from suites.synthcaps import train_backbones
from suites.synthcaps.backbones import backbones as B


@pytest.mark.slow
def test_quick_training_runs_every_stage(tmp_path):
    assert train_backbones.main(["--out", str(tmp_path), "--quick", "--threads", "1"]) == 0
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    for name in ("mini_classifier", "mini_clap", "mini_semantic", "mini_vae", "mini_quality"):
        assert f"{name}.safetensors" in manifest and name in metrics["results"]
    x = np.zeros(16000, np.float32)
    assert B.MiniClassifier(tmp_path).embed([x])["logits"].shape == (1, 14)
    # deterministic: a second run gives byte-identical weights
    assert train_backbones.main(["--out", str(tmp_path / "again"), "--quick", "--threads", "1"]) == 0
    again = json.loads((tmp_path / "again" / "manifest.json").read_text())
    assert {k: v for k, v in again.items() if k.endswith(".safetensors")} == \
        {k: v for k, v in manifest.items() if k.endswith(".safetensors")}
