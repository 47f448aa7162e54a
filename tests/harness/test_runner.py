"""The runner end to end with the checkpoint-free test systems and the kit's test metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest

from harness.errors import SabenchError
from harness.records import Audio
from harness.results import ResultsStore
from harness.runner import bootstrap_ci, run_suite
from harness.seeding import derive_seed
from harness.suite import load_suite
from systems.testing import ReferenceEchoSystem, SineSystem

import _kit


@pytest.fixture(autouse=True)
def _registered(tmp_cache):
    _kit.register()


def _run(tmp_path, spec, system, **kw):
    store = ResultsStore(tmp_path / "out" / "results.sqlite")
    return run_suite(spec, system, out_dir=tmp_path / "out", results=store, progress=False, **kw), store


def test_generate_end_to_end_numbers_match_independent_computation(tmp_path):
    spec = load_suite(_kit.write_suite(tmp_path / "suite", n=6))
    result, store = _run(tmp_path, spec, SineSystem())
    rms = result.aggregate("test_rms")
    scores = {s.item_id: s.value for s in result.items if s.metric == "test_rms"}
    assert sorted(scores) == [f"p{i:02d}" for i in range(6)]
    for pid, value in scores.items():
        x = _kit.sine_reference(derive_seed(spec.seed, pid, 0), int(0.5 * _kit.SR)).astype(np.float64)
        # float32 storage: relative error ~1e-7 on each sample, far below 1e-6 absolute on the RMS
        assert value == pytest.approx(np.sqrt(np.mean(x * x)), abs=1e-6)
    assert rms.value == pytest.approx(np.mean(list(scores.values())), rel=1e-12)
    assert rms.n == 6 and rms.ci_low <= rms.value <= rms.ci_high
    # the set metric takes another path (backbone embeddings) to the same per-clip RMS
    mean_rms = result.aggregate("test_mean_rms")
    assert mean_rms.value == pytest.approx(rms.value, rel=1e-9)
    assert dict(mean_rms.extras)["n_clips"] == 6 and mean_rms.ci_low is None
    assert not result.failures
    loaded = store.load_run(result.run_id)
    assert loaded.aggregates == result.aggregates and loaded.items == result.items
    assert loaded.system == result.system and loaded.metrics == result.metrics
    assert dict(loaded.environment)["schema"] == 1


def test_rerun_reuses_samples_and_metric_outputs(tmp_path, monkeypatch):
    spec = load_suite(_kit.write_suite(tmp_path / "suite", n=4))
    first, _ = _run(tmp_path, spec, SineSystem())
    calls = []
    monkeypatch.setattr(SineSystem, "generate", lambda self, reqs: calls.append(reqs) or [])
    monkeypatch.setattr(_kit.RmsMetric, "compute", lambda self, ctx, items: pytest.fail("recomputed"))
    second, _ = _run(tmp_path, spec, SineSystem())
    assert calls == []
    assert second.run_id == first.run_id and second.aggregates == first.aggregates


def test_limit_and_seed_change_the_run_id(tmp_path):
    spec = load_suite(_kit.write_suite(tmp_path / "suite", n=4))
    a, _ = _run(tmp_path, spec, SineSystem(), limit=2)
    assert len([s for s in a.items if s.metric == "test_rms"]) == 2
    b, _ = _run(tmp_path, spec, SineSystem())
    c, _ = _run(tmp_path, spec, SineSystem(amplitude=0.25))
    assert len({a.run_id, b.run_id, c.run_id}) == 3
    # halving the amplitude halves every RMS (same seeds -> same sines)
    assert c.aggregate("test_rms").value == pytest.approx(b.aggregate("test_rms").value / 2, rel=1e-6)


class FlakySine(SineSystem):
    """Raises for p02, returns NaN audio for p04, otherwise a sine."""

    name = "flaky"

    def generate(self, requests):
        if any(r.prompt.id == "p02" for r in requests):
            raise RuntimeError("model exploded on p02")
        outs = super().generate(requests)
        return [Audio(np.full_like(o.samples, np.nan), o.sample_rate) if r.prompt.id == "p04" else o
                for r, o in zip(requests, outs, strict=True)]


def test_keep_going_records_failures_and_finishes_others(tmp_path):
    spec = load_suite(_kit.write_suite(tmp_path / "suite", n=6))
    result, store = _run(tmp_path, spec, FlakySine(batch_size=4), keep_going=True)
    failed = {(f.item_id, f.stage) for f in result.failures}
    assert failed == {("p02", "generate"), ("p04", "generate")}
    msgs = {f.item_id: f.message for f in result.failures}
    assert "model exploded" in msgs["p02"] and "NaN" in msgs["p04"]
    assert sorted(s.item_id for s in result.items if s.metric == "test_rms") == ["p00", "p01", "p03", "p05"]
    assert store.load_run(result.run_id).failures == result.failures


def test_without_keep_going_first_failure_stops_after_saving(tmp_path):
    spec = load_suite(_kit.write_suite(tmp_path / "suite", n=6))
    with pytest.raises(SabenchError) as err:
        _run(tmp_path, spec, FlakySine(batch_size=2))
    assert "p02" in str(err.value) and "\n" not in str(err.value)
    # the first batch (p00, p01) was stored before the failing one
    from harness.artifacts import ArtifactStore
    from harness.records import GenerationRequest
    store = ArtifactStore(tmp_path / "out" / "artifacts")
    prompts = spec.prompts()
    info = FlakySine().info
    stored = [p.id for p in prompts if store.get_audio(GenerationRequest(p, derive_seed(7, p.id, 0)).key(info))]
    assert stored == ["p00", "p01"]
    db = ResultsStore(tmp_path / "out" / "results.sqlite")._db()
    rows = db.execute("SELECT item_id, stage FROM failures").fetchall()
    assert rows == [("p02", "generate")]


def test_failing_metric_is_recorded_not_dropped(tmp_path):
    spec = load_suite(_kit.write_suite(tmp_path / "suite", n=3, metrics=("test_rms", "test_boom", "test_mean_rms")))
    result, _ = _run(tmp_path, spec, SineSystem(), keep_going=True)
    assert [(f.item_id, f.stage) for f in result.failures] == [("*", "metric:test_boom")]
    assert "boom" in result.failures[0].message
    assert result.aggregate("test_boom") is None and result.aggregate("test_mean_rms") is not None
    with pytest.raises(SabenchError, match="boom"):
        _run(tmp_path / "again", spec, SineSystem())
    # the metric before the failing one kept its item scores
    store = ResultsStore(tmp_path / "again" / "out" / "results.sqlite")
    assert len(store.item_scores(result.run_id, "test_rms")) == 3


def test_edit_and_reconstruct_tasks(tmp_path):
    from harness import audio

    spec = load_suite(_kit.write_suite(tmp_path / "e", n=3, task="edit", metrics=("test_rms",)))
    result, _ = _run(tmp_path / "e", spec, ReferenceEchoSystem())
    for s in result.items:  # reference-echo returns the reference: its RMS, recomputed here
        ref = audio.read(tmp_path / "e" / f"ref_{s.item_id}.wav").samples.astype(np.float64)
        assert s.value == pytest.approx(np.sqrt(np.mean(ref ** 2)), abs=1e-7)
    spec = load_suite(_kit.write_suite(tmp_path / "r", n=2, task="reconstruct", metrics=("test_rms",)))
    result, _ = _run(tmp_path / "r", spec, SineSystem())
    assert len(result.items) == 2 and not result.failures


def test_replicates_get_distinct_seeds_and_ids(tmp_path):
    spec = load_suite(_kit.write_suite(tmp_path / "suite", n=2, replicates=3, metrics=("test_rms",)))
    result, _ = _run(tmp_path, spec, SineSystem())
    ids = sorted(s.item_id for s in result.items)
    assert ids == [f"p0{i}#r{r}" for i in range(2) for r in range(3)]
    assert len({s.value for s in result.items}) == 6  # different seeds -> different sines -> different RMS


def test_bootstrap_ci_matches_normal_approximation():
    rng = np.random.default_rng(0)
    values = rng.normal(3.0, 2.0, size=400)
    lo, hi = bootstrap_ci(values, seed=5)
    half = 1.96 * values.std(ddof=1) / math.sqrt(values.size)
    # percentile bootstrap of a mean of 400 normal values: ~normal; 1000 resamples give
    # endpoint noise of a few percent of the half-width, so 10 % is a safe bound
    assert lo == pytest.approx(values.mean() - half, abs=0.1 * half)
    assert hi == pytest.approx(values.mean() + half, abs=0.1 * half)
    assert bootstrap_ci(values, seed=5) == (lo, hi) and bootstrap_ci(values, seed=6) != (lo, hi)


def test_run_context_batches_orders_and_caches(tmp_path):
    from harness import audio
    from harness.context import RunContext

    paths = []
    for i in range(5):
        p = tmp_path / f"c{i}.wav"
        audio.write(p, Audio(np.full((1, 800), 0.1 * (i + 1), dtype=np.float32), _kit.SR))
        paths.append(str(p))
    ctx = RunContext("mini", cache_dir=tmp_path / "emb")
    _kit.StatsBackbone.calls.clear()
    got = list(ctx.embed_audio("test_stats", paths))
    assert [idx for idx, _ in got] == [[0, 1], [2, 3], [4]] and _kit.StatsBackbone.calls == [2, 2, 1]
    means = np.concatenate([o["embedding"][:, 0] for _, o in got])
    assert means == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5], abs=1e-6)
    again = list(RunContext("mini", cache_dir=tmp_path / "emb").embed_audio("test_stats", paths))
    assert _kit.StatsBackbone.calls == [2, 2, 1]  # all served from the cache
    assert all(np.array_equal(a[1]["embedding"], b[1]["embedding"]) for a, b in zip(got, again, strict=True))
    t = ctx.embed_text("test_stats", ["a b c", "dog"])
    assert t.tolist() == [[5, 2], [3, 0]]
    ctx.embed_text("test_stats", ["dog"])
    assert ctx.stats["text_hits"] == 1 and ctx.stats["text_misses"] == 2


def test_run_context_variable_frame_outputs_survive_caching(tmp_path):
    """Frames concatenated per batch are cached per clip and re-batched as clip_rows expects."""
    from harness import audio
    from harness.context import RunContext
    from harness.metrics.common import clip_rows

    rng = np.random.default_rng(3)
    paths, expected = [], []
    for i, frames in enumerate([2, 5, 1, 3, 4]):
        x = rng.uniform(-0.5, 0.5, size=(1, 400 * frames)).astype(np.float32)
        audio.write(tmp_path / f"v{i}.wav", Audio(x, _kit.SR))
        paths.append(str(tmp_path / f"v{i}.wav"))
        expected.append(_kit.frame_stats(x[0]))
    for order in ([0, 1, 2, 3, 4], [4, 2, 0, 3, 1]):  # second pass: cached, batched differently
        ctx = RunContext("mini", cache_dir=tmp_path / "emb")
        got = {}
        sub = [paths[i] for i in order]
        for idx, out in ctx.embed_audio("test_frames", sub):
            for j, block in zip(idx, clip_rows(out, "frames", len(idx), "test_frames"), strict=True):
                got[order[j]] = block
            assert out["embedding"].shape == (len(idx), 2)
        for i, e in enumerate(expected):
            np.testing.assert_array_equal(got[i], e)  # exact: the same float64 numbers, cached as is
    assert ctx.stats["audio_hits"] == 5 and ctx.stats["audio_misses"] == 0


def test_resume_after_a_metric_failure_reuses_finished_metrics(tmp_path, monkeypatch):
    spec = load_suite(_kit.write_suite(tmp_path / "suite", n=3, metrics=("test_rms", "test_boom")))
    with pytest.raises(SabenchError, match="boom"):
        _run(tmp_path, spec, SineSystem())
    from harness.metrics.base import MetricOutput

    monkeypatch.setattr(_kit.BoomMetric, "compute", lambda self, ctx, items: MetricOutput(
        per_item={it.item_id: 1.0 for it in items}))
    monkeypatch.setattr(_kit.RmsMetric, "compute", lambda self, ctx, items: pytest.fail("test_rms recomputed"))
    result, _ = _run(tmp_path, spec, SineSystem())
    assert result.aggregate("test_boom").value == 1.0 and result.aggregate("test_rms").n == 3
    assert not result.failures  # the earlier failure was cleared by the successful rerun


def test_capability_is_checked_before_any_work(tmp_path):
    from harness.system import System

    class TextOnly(SineSystem):
        name = "text-only"
        capabilities = frozenset({"generate"})
        edit = System.edit

    spec = load_suite(_kit.write_suite(tmp_path / "suite", n=2, task="edit", metrics=("test_rms",)))
    with pytest.raises(SabenchError, match="cannot edit audio"):
        _run(tmp_path, spec, TextOnly(), keep_going=True)


def test_new_backbone_weights_make_a_new_run_and_keep_the_old_one(tmp_path, monkeypatch):
    from harness.records import BackboneInfo

    spec = load_suite(_kit.write_suite(tmp_path / "suite", n=3, metrics=("test_mean_rms",)))
    first, _ = _run(tmp_path, spec, SineSystem())
    calls = []
    original = _kit.MeanRmsSetMetric.compute
    monkeypatch.setattr(_kit.MeanRmsSetMetric, "compute",
                        lambda self, ctx, items: calls.append(1) or original(self, ctx, items))
    _run(tmp_path, spec, SineSystem())
    assert calls == []  # same weights: reused
    monkeypatch.setattr(_kit.StatsBackbone, "info",
                        property(lambda self: BackboneInfo("test_stats", "new-weights", _kit.SR, _kit.RECIPE)))
    again, _ = _run(tmp_path, spec, SineSystem())
    # other weights: a new run (the run id is the plan's hash, which holds the checkpoint), so the
    # earlier row is kept, not overwritten, and each says which weights produced it
    assert calls == [1] and again.run_id != first.run_id
    assert {r.run_id for r in ResultsStore(tmp_path / "out" / "results.sqlite").runs()} == {first.run_id, again.run_id}
    info_first = next(m for m in first.metrics if m.name == "test_mean_rms")
    info_again = next(m for m in again.metrics if m.name == "test_mean_rms")
    assert info_again.backbone_checkpoint_sha256 == "new-weights" != info_first.backbone_checkpoint_sha256


def test_one_unreadable_reference_fails_only_its_item(tmp_path):
    """A broken reference file is a named failure; the metric still scores the other items."""
    spec = load_suite(_kit.write_suite(tmp_path / "suite", n=4, metrics=("test_rms", "mel_loss")))
    ref = tmp_path / "suite" / "ref_p01.wav"
    ref.write_bytes(ref.read_bytes()[:40])  # truncated
    with pytest.raises(SabenchError, match="ref_p01.wav"):
        _run(tmp_path / "a", spec, SineSystem())
    result, _ = _run(tmp_path / "b", spec, SineSystem(), keep_going=True)
    assert sorted(s.item_id for s in result.items if s.metric == "mel_loss") == ["p00", "p02", "p03"]
    assert sorted(s.item_id for s in result.items if s.metric == "test_rms") == ["p00", "p01", "p02", "p03"]
    assert ("p01", "load:reference") in {(f.item_id, f.stage) for f in result.failures}
    assert result.aggregate("mel_loss").n == 3


def test_is_minimum_is_checked_at_planning_before_any_generation(tmp_path, monkeypatch):
    """IS needs >= splits items: with --limit 3 the run stops at planning (one line naming the
    metric and the fix), before the system produces anything; with keep_going the metric is
    left out of the plan, the failure is stored and the rest is scored."""
    _kit.register()
    suite = _kit.write_suite(tmp_path / "suite", n=6, metrics=("test_rms",))
    text = suite.read_text().replace("metrics: [test_rms]",
                                     "metrics: [test_rms, {name: is, args: {backbone: test_stats, output: embedding}}]")
    suite.write_text(text)
    spec = load_suite(suite)
    calls = []
    monkeypatch.setattr(SineSystem, "generate", lambda self, reqs: calls.append(len(reqs)) or [])
    with pytest.raises(SabenchError, match=r"metric is .*needs at least 10 items, the plan has 3.*--limit"):
        _run(tmp_path, spec, SineSystem(), limit=3)
    assert calls == []  # nothing was generated
    monkeypatch.undo()
    _kit.register()
    result, store = _run(tmp_path, spec, SineSystem(), limit=3, keep_going=True)
    assert [m.name for m in result.metrics] == ["test_rms"] and result.aggregate("test_rms").n == 3
    assert [(f.item_id, f.stage) for f in result.failures] == [("*", "plan:metric:is")]
    assert store.load_run(result.run_id).failures == result.failures
