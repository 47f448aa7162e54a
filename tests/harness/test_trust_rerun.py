"""Issue 11's "done when": score a folder twice, then again after a backbone's weights arrive;
`report` and `gate` between those runs. Stored identities stay complete and equal where they
should, the report has no "not comparable", the gate passes the identical re-run and fails a real
regression."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from harness import audio, cli
from harness.records import Audio
from harness.results import ResultsStore

import _kit

METRICS = ("test_rms", "test_mean_rms", "test_weighted_rms")


def _folder(root: Path, amplitude: float) -> Path:
    """Pre-generated clips p00..p05 (sines, 0.5 s @ 16 kHz) as a user would bring them."""
    root.mkdir(parents=True, exist_ok=True)
    for i in range(6):
        x = _kit.sine_reference(100 + i, _kit.SR // 2, amplitude)[None, :]  # (1, T) @ 16 kHz
        audio.write(root / f"p0{i}.wav", Audio(x, _kit.SR), subtype="PCM_16")
    return root


def _stored_identity(out: Path) -> dict[str, tuple[str, str]]:
    """{run id: (metrics_json, plan_json)} exactly as stored (bytes, not re-parsed)."""
    con = sqlite3.connect(out / "results.sqlite")
    try:
        return {r: (m, p) for r, m, p in con.execute("SELECT run_id, metrics_json, plan_json FROM runs")}
    finally:
        con.close()


def _score(suite: str, folder: Path, out: Path, *extra: str) -> int:
    return cli.main(["score", "--suite", suite, "--path", str(folder), "--label", "mine", "--out", str(out),
                     "--quiet", *extra])


@pytest.fixture
def world(tmp_path, tmp_cache, monkeypatch):
    _kit.register()
    monkeypatch.delenv("SABENCH_WEIGHTS", raising=False)
    suite = str(_kit.write_suite(tmp_path / "s", n=6, metrics=METRICS))
    return suite, _folder(tmp_path / "gen", 0.5), tmp_path / "out", tmp_path


def test_rescoring_twice_and_after_new_weights_keeps_identities_and_gates(world, monkeypatch, capsys):
    suite, folder, out, tmp = world
    # 1. no weights: the weighted metric is a planning failure (named), the rest is scored; exit 1
    assert _score(suite, folder, out, "--keep-going") == 1
    (first,) = ResultsStore(out / "results.sqlite").runs()
    assert [m.name for m in first.metrics] == ["test_rms", "test_mean_rms"]
    assert any(f.stage == "plan:metric:test_weighted_rms" and "test_weighted.bin" in f.message
               for f in first.failures)
    stored = _stored_identity(out)
    # 2. the identical re-run: same run id, every stored identity byte-identical
    assert _score(suite, folder, out, "--keep-going") == 1
    assert _stored_identity(out) == stored
    # 3. the weights arrive: a new run (the earlier one is kept), whose metric names its checkpoint
    weights = tmp / "weights"
    weights.mkdir()
    (weights / "test_weighted.bin").write_bytes(bytes([64]) + b"weights")
    assert _score(suite, folder, out, "--weights", str(weights)) == 0
    store = ResultsStore(out / "results.sqlite")
    second = next(r for r in store.runs() if r.run_id != first.run_id)
    assert len(store.runs()) == 2 and not second.failures
    info = {m.name: m for m in second.metrics}
    assert info["test_weighted_rms"].backbone_checkpoint_sha256 == second.plan.backbones[-1].checkpoint_sha256
    assert len(info["test_weighted_rms"].backbone_checkpoint_sha256) == 64
    assert info["test_weighted_rms"].backbone_device == "cpu" and info["test_weighted_rms"].recipe
    assert {m.name: m for m in first.metrics}["test_mean_rms"] == info["test_mean_rms"]  # equal where it should be
    # 4. re-run with the weights: identity unchanged, numbers unchanged
    stored = _stored_identity(out)
    assert _score(suite, folder, out, "--weights", str(weights)) == 0
    assert _stored_identity(out) == stored
    again = ResultsStore(out / "results.sqlite").load_run(second.run_id)
    assert again.aggregates == second.aggregates and again.items == second.items
    # 5. the report builds with nothing "not comparable"
    capsys.readouterr()
    assert cli.main(["report", "--out", str(out)]) == 0
    text = "\n".join(p.read_text(encoding="utf-8") for p in out.rglob("*.md"))
    assert "| mine |" in text and "not comparable:" not in text.lower()  # (the mini-profile note says
    # "not comparable with paper numbers"; a refused table says "not comparable: <reasons>")
    # 6. the gate: baseline from the second run; the identical re-run passes
    base = tmp / "baseline.json"
    results = str(out / "results.sqlite")
    assert cli.main(["gate", "--results", results, "--run", second.run_id, "--write-baseline", str(base)]) == 0
    assert json.loads(base.read_text())
    assert cli.main(["gate", "--results", results, "--run", second.run_id, "--baseline", str(base)]) == 0
    # 7. a real regression (quieter clips: every RMS metric drops by half) fails the gate
    quiet = _folder(tmp / "gen_quiet", 0.25)
    assert _score(suite, quiet, out, "--weights", str(weights)) == 0
    third = next(r for r in ResultsStore(out / "results.sqlite").runs() if r.run_id not in (first.run_id,
                                                                                              second.run_id))
    assert third.aggregate("test_rms").value == pytest.approx(second.aggregate("test_rms").value / 2, rel=1e-3)
    assert cli.main(["gate", "--results", results, "--run", third.run_id, "--baseline", str(base)]) == 1


def test_run_id_changes_with_the_suite_seed(world):
    suite, folder, out, tmp = world
    other = Path(suite).read_text().replace("seed: 7", "seed: 8")
    (tmp / "s" / "suite_seed8.yaml").write_text(other)
    assert _score(suite, folder, out, "--keep-going") == 1
    assert _score(str(tmp / "s" / "suite_seed8.yaml"), folder, out, "--keep-going") == 1
    runs = ResultsStore(out / "results.sqlite").runs()
    assert len({r.run_id for r in runs}) == 2 and {r.plan.seed for r in runs} == {7, 8}


def test_identical_rerun_after_a_kill_between_metrics_keeps_identity(world, monkeypatch):
    """A run killed after its first metric resumes under the same id with the same stored identity."""
    suite, folder, out, tmp = world
    calls = {"n": 0}
    original = _kit.MeanRmsSetMetric.compute

    def dying(self, ctx, items):
        calls["n"] += 1
        raise KeyboardInterrupt  # as a kill would, after test_rms was stored
    monkeypatch.setattr(_kit.MeanRmsSetMetric, "compute", dying)
    assert _score(suite, folder, out, "--keep-going") not in (0, 1, 2)  # interrupted (130), work kept
    half = _stored_identity(out)
    monkeypatch.setattr(_kit.MeanRmsSetMetric, "compute", original)
    assert _score(suite, folder, out, "--keep-going") == 1
    (run,) = ResultsStore(out / "results.sqlite").runs()
    assert _stored_identity(out)[run.run_id][1] == half[run.run_id][1]  # the plan never changed
    assert np.isfinite(run.aggregate("test_mean_rms").value)


def test_suite_preset_is_stored_for_every_metric_and_its_epsilon_used(tmp_path, tmp_cache):
    """A suite with `preset: audioldm_eval` stores that preset in every MetricInfo (and the plan),
    and its KL uses audioldm_eval's eps (1e-6), not the default's exact log-softmax."""
    from harness.runner import run_suite
    from harness.suite import load_suite
    from systems.testing import SineSystem

    _kit.register()
    suite = _kit.write_suite(tmp_path / "s", n=4, metrics=("test_rms",), extra="preset: audioldm_eval\n")
    suite.write_text(suite.read_text().replace(
        "metrics: [test_rms]", "metrics: [test_rms, {name: kl_ref_to_gen, args: {backbone: test_stats, "
        "output: embedding}}]"))
    result = run_suite(load_suite(suite), SineSystem(), out_dir=tmp_path / "out", progress=False)
    stored = ResultsStore(tmp_path / "out" / "results.sqlite").load_run(result.run_id)
    assert {m.name: m.preset for m in stored.metrics} == {"test_rms": "audioldm_eval",
                                                          "kl_ref_to_gen": "audioldm_eval"}
    assert stored.plan.preset == "audioldm_eval"
    assert dict(stored.aggregate("kl_ref_to_gen").extras)["eps"] == 1e-6
