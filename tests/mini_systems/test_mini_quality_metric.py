"""`mini_quality` (registered by suites/synthcaps/catalog.py) equals the mini_quality
backbone's own score on the same files, and ranks a degraded clip below its clean source."""

from __future__ import annotations

import numpy as np
import pytest

from harness import audio, context
from harness.metrics.base import EvalItem
from harness.records import Audio, Prompt
from harness.registry import METRICS, load_catalog


def test_quality_metric_matches_backbone(tmp_path):
    from suites.synthcaps.backbones.backbones import MiniQuality
    from suites.synthcaps.corpus import CorpusConfig, render_split

    load_catalog()
    _, wave, _ = render_split(CorpusConfig(), "test", 3)                # (3, 64000) @ 16 kHz
    noisy = wave[0] + 0.3 * np.random.default_rng(0).standard_normal(wave.shape[1]).astype(np.float32)
    clips = [*wave, np.clip(noisy, -1, 1)]
    items = []
    for i, x in enumerate(clips):
        audio.write(tmp_path / f"{i}.wav", Audio(x[None].astype(np.float32), 16000))
        items.append(EvalItem(f"p{i}", Prompt(f"p{i}", "x"), output=str(tmp_path / f"{i}.wav")))
    out = METRICS.get("mini_quality")().compute(context.RunContext(profile="mini", cache_dir=tmp_path / "c"), items)
    direct = MiniQuality().embed(clips)["quality"]                     # (4,) in [0, 1]
    for i in range(4):
        assert out.per_item[f"p{i}"] == pytest.approx(float(direct[i]), abs=1e-6)   # float32 scores
    assert out.per_item["p3"] < out.per_item["p0"]                     # noise lowers quality
