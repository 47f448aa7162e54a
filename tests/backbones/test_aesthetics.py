"""Audiobox Aesthetics built from a local checkpoint (random weights, published dict format)."""

from __future__ import annotations

import numpy as np
import pytest

from harness.backbones.aesthetics import AXES, AudioboxAesthetics
from harness.errors import WeightsError

from backbone_testkit import noise

pytestmark = pytest.mark.slow


def test_scores_shapes_determinism_and_length_weighting(aes_weights):
    bb = AudioboxAesthetics(weights=aes_weights)
    long = noise(16000 * 15, 1)  # two windows: 10 s (weight 1.0) and 5 s (weight 0.5)
    out = bb.embed([long, noise(16000 * 2, 2)])
    assert set(out) == set(AXES)
    for a in AXES:
        assert out[a].shape == (2,) and out[a].dtype == np.float32
    again = bb.embed([long, noise(16000 * 2, 2)])
    for a in AXES:
        np.testing.assert_array_equal(out[a], again[a])
    # independent: each window scored on its own, then the package's length-weighted mean
    head = bb.embed([long[:160000]])
    tail = bb.embed([long[160000:]])
    for a in AXES:
        expected = (1.0 * head[a][0] + 0.5 * tail[a][0]) / 1.5
        np.testing.assert_allclose(out[a][0], expected, rtol=1e-5, atol=1e-5)
    assert bb.info.sample_rate == 16000 and "precision=32" in bb.info.version


def test_incomplete_and_missing_checkpoints(aes_weights, tmp_path):
    import torch

    with pytest.raises(WeightsError, match="facebook/audiobox-aesthetics"):
        AudioboxAesthetics(weights=tmp_path).load()
    ck = torch.load(aes_weights / "audiobox_aesthetics" / "checkpoint.pt", weights_only=True)
    (tmp_path / "audiobox_aesthetics").mkdir()
    torch.save({"state_dict": ck["state_dict"], "model_cfg": ck["model_cfg"]},
               tmp_path / "audiobox_aesthetics" / "checkpoint.pt")
    with pytest.raises(WeightsError, match="target_transform"):
        AudioboxAesthetics(weights=tmp_path).load()
    sd = {k: v for k, v in ck["state_dict"].items() if "proj_layer.PQ" not in k}
    torch.save({**ck, "state_dict": sd}, tmp_path / "audiobox_aesthetics" / "checkpoint.pt")
    with pytest.raises(WeightsError, match="does not match"):
        AudioboxAesthetics(weights=tmp_path).load()


def test_missing_package_names_the_extra(aes_weights, monkeypatch):
    import sys

    from harness.extras import MissingExtraError

    for name in ("audiobox_aesthetics", "audiobox_aesthetics.model.aes"):  # even if imported before
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(MissingExtraError, match=r"audiobox-aesthetics package.*pip install 'sabench\[aesthetics\]'"):
        AudioboxAesthetics(weights=aes_weights).load()
