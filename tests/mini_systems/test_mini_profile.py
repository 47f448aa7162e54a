"""SemanticAudio with profile=mini loads its checkpoint and encoders the way a user's
`checkpoint=DIR` does: the folder comes from the mini world's `PROFILE_CHECKPOINTS` entry
(sha256-verified there) and the encoders from the bundle its config.json names."""

from __future__ import annotations

import shutil

import pytest

from harness.errors import WeightsError
from harness.registry import PROFILE_CHECKPOINTS, SYSTEMS, load_catalog
from suites.synthcaps.weights import DEFAULT_DIR

load_catalog()


def test_profile_mini_is_the_registered_folder_and_matches_a_user_checkpoint():
    folder = PROFILE_CHECKPOINTS.get("mini")("semanticaudio", "mlp-d16")
    assert folder == DEFAULT_DIR / "systems" / "mlp-d16"
    cls = SYSTEMS.get("semanticaudio")
    mini = cls(profile="mini", variant="mlp", d=16).info
    user = cls(checkpoint=str(folder), variant="mlp", d=16).info
    assert mini.checkpoint_sha256 == user.checkpoint_sha256 and len(mini.checkpoint_sha256) == 64
    assert dict(mini.parameters)["encoders"] == dict(user.parameters)["encoders"] \
        == "suites.synthcaps.mini_encoders:mini_encoders"


def test_profile_mini_follows_the_mini_checkpoint_folder_and_verifies_it(tmp_path, monkeypatch):
    copy = tmp_path / "ck"
    shutil.copytree(DEFAULT_DIR, copy)
    f = copy / "systems" / "base" / "model.safetensors"
    data = bytearray(f.read_bytes())
    data[-1] ^= 1                                                       # one bit of one weight
    f.write_bytes(bytes(data))
    monkeypatch.setenv("SABENCH_MINI_CHECKPOINTS", str(copy))
    assert PROFILE_CHECKPOINTS.get("mini")("semanticaudio", "mlp-d64") == copy / "systems" / "mlp-d64"
    with pytest.raises(WeightsError, match="does not match manifest"):
        SYSTEMS.get("base-model")(profile="mini").load()


def test_unknown_mini_model_is_one_line():
    with pytest.raises(WeightsError, match="no mini checkpoint 'mlp-d32'") as exc:
        SYSTEMS.get("semanticaudio")(profile="mini", variant="mlp", d=32).load()
    assert "mlp d16" in exc.value.fix and "\n" not in str(exc.value)
