"""CI gate of the committed mini models: the gate run is regenerated and compared with
suites/synthcaps/baseline.json; and a degraded checkpoint (Gaussian noise on the planner's
weights) must fail the same gate, so the gate is shown able to fail."""

from __future__ import annotations

import pytest
import torch

from suites.synthcaps import gate
from suites.synthcaps.weights import DEFAULT_DIR

ROOT = DEFAULT_DIR / "systems"

pytestmark = pytest.mark.slow


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SABENCH_CACHE", str(tmp_path / "cache"))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)                          # the baseline's thread count
    yield tmp_path
    torch.set_num_threads(threads)


def test_committed_models_pass_the_gate(cache):
    run = gate.gate_run(cache / "run")
    result = gate.compare(run)
    assert result.passed, result.table()
    assert {r.metric for r in result.rows} >= set(gate.TOLERANCES)
    assert run.profile == "mini"


def test_gate_catches_a_degraded_checkpoint(cache):
    bad = cache / "ckpt"
    bad.mkdir()
    gate.degrade_planner(ROOT / "mlp-d16", bad / "mlp-d16", scale=0.5)
    run = gate.gate_run(cache / "run", checkpoint_root=bad)
    result = gate.compare(run)
    assert not result.passed, result.table()
    regressed = {r.metric for r in result.rows if r.status == "regressed"}
    # every axis a listener would hear catches it on its own (docs/mini_world.md, sensitivity)
    assert {"mini_clap", "mini_event_presence", "mini_event_order"} <= regressed, result.table()
