"""The suite's metric preset reaches the backbones and the run id."""

from __future__ import annotations

import pytest

from harness.errors import SabenchError
from harness.metrics.presets import PRESETS, backbone_args
from harness.suite import spec_from_dict

BASE = {"name": "s", "version": "1", "task": "generate", "profile": "real", "loader": "m:f",
        "metrics": ["fd"]}


def test_default_preset_is_sabench_and_unknown_is_refused():
    assert spec_from_dict(dict(BASE)).preset == "sabench"
    assert spec_from_dict(dict(BASE, preset="audioldm_eval")).preset == "audioldm_eval"
    with pytest.raises(SabenchError, match="unknown preset 'audioldm'"):
        spec_from_dict(dict(BASE, preset="audioldm"))


def test_presets_configure_backbones_differently():
    # The default (av-benchmark conventions) and audioldm_eval differ in their PANNs recipe.
    a, b = backbone_args("sabench"), backbone_args("audioldm_eval")
    shared = set(a) & set(b)
    assert shared, "both presets configure at least one common backbone"
    assert any(a[k] != b[k] for k in shared)
    assert set(PRESETS) >= {"sabench", "audioldm_eval", "av_benchmark", "stable_audio_metrics"}


