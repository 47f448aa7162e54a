"""The mini diagnostic scores what the suite scores: on the reference clips its event presence
and order equal the `mini-generation` suite's metrics for `reference-echo` (an independent path:
artifact store, run plan, MetricContext, the metric classes), and silence scores 0."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from harness.audio import read
from suites.synthcaps import diagnose
from suites.synthcaps.suite_loaders import generation

N = 10          # IS in the suite needs at least 10 items


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SABENCH_CACHE", str(tmp_path / "cache"))
    return tmp_path


def test_diagnostic_equals_the_suite_on_references(cache):
    from harness.registry import SYSTEMS, load_catalog
    from harness.runner import run_suite
    from harness.suite import load_suite

    load_catalog()
    prompts = generation(split="test", n=N, min_foreground=2)
    ref = np.stack([read(p.reference).samples[0] for p in prompts])          # (N, 64000) @ 16 kHz
    mine = diagnose.score(ref, prompts)
    run = run_suite(load_suite("mini-generation"), SYSTEMS.get("reference-echo")(), out_dir=cache / "run",
                    limit=N, progress=False)
    suite = {a.metric: a.value for a in run.aggregates}
    assert mine["presence"] == pytest.approx(suite["mini_event_presence"], abs=1e-12)
    assert mine["order"] == pytest.approx(suite["mini_event_order"], abs=1e-12)
    assert 0.5 < mine["clap"] <= 1.0
    silent = diagnose.score(np.zeros_like(ref), prompts)
    assert silent["presence"] == 0.0 and silent["order"] == 0.0


def test_batched_keeps_row_order():
    out = diagnose._batched(lambda s: torch.arange(s.start, s.stop)[:, None].float(), 37)
    assert out[:, 0].tolist() == list(range(37))
