"""`--executor ray` on a tiny local Ray cluster (2 CPUs, loopback, shut down after the module).

The suite is the mini world's `mini-generation` (its real mini backbones and metrics: FD, IS,
KL, CLAP, event presence/order) with the checkpoint-free `sine` system and --limit 10, so
both generation and embedding really run on Ray workers. Every stored number and the run id
must equal the local executor's bit for bit: workers embed exactly the batches a local run
embeds, with the driver's torch thread count (harness/executors/ray_embed.py).
"""

from __future__ import annotations

import os
import signal
import sys

import pytest

from harness.cli import main
from harness.context import RunContext
from harness.metrics.presets import backbone_args
from harness.results import ResultsStore
from harness.runner import run_suite
from harness.suite import load_suite
from harness.system_spec import build_system

SUITE, LIMIT = "mini-generation", 10
SYSTEM = "sine:sleep=0.05,batch_size=2"
"""5 batches of 2; `sleep` (seconds per item) changes timing only, never the audio or the run id."""


def _numbers(run):
    return run.run_id, run.items, run.aggregates, run.failures


def _run(tmp, executor=None, name="run"):
    spec = load_suite(SUITE)
    out = tmp / name
    ctx = RunContext(spec.profile, cache_dir=out / "embeddings", backbone_args=backbone_args(spec.preset),
                     show=False)  # a cold cache per run: every embedding is computed in this run
    run = run_suite(spec, build_system(SYSTEM), out_dir=out, results=ResultsStore(out / "results.sqlite"),
                    limit=LIMIT, progress=False, context=ctx, executor=executor)
    return run, out


@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray")
    os.environ.setdefault("RAY_worker_niceness", "0")  # as connect() does for a Ray it starts
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    run, out = _run(tmp_path_factory.mktemp("local"))
    return run, ResultsStore(out / "results.sqlite").load_run(run.run_id)  # (in memory, read back)


def _executor(**kw):
    from harness.executors.ray import RayExecutor

    return RayExecutor(workers=2, **kw)


def test_ray_gives_the_local_numbers_and_each_item_once(ray_cluster, local, tmp_path):
    local, local_stored = local
    executor = _executor()
    try:
        run, out = _run(tmp_path, executor)
    finally:
        executor.close()
    assert _numbers(run) == _numbers(local)
    assert len(run.items) == 4 * LIMIT and len(run.aggregates) == 6  # 4 item metrics, 2 set metrics
    generated = executor.stats["generated"]
    assert sum(generated.values()) == LIMIT and len(generated) == 2  # both workers pulled batches
    assert len(list((out / "artifacts").rglob("*.json"))) == LIMIT  # no duplicate in the store
    assert sum(executor.stats["embedded"].values()) > 0  # embeddings came from workers
    stored = ResultsStore(out / "results.sqlite").load_run(run.run_id)
    assert (stored.items, stored.aggregates, stored.metrics) == \
        (local_stored.items, local_stored.aggregates, local_stored.metrics)


def _killer(stage, at=1):
    """on_dispatch hook: SIGKILL the worker process that received the `at`-th batch of `stage`."""
    seen = []

    def hook(st, slot, task, pid):
        if st != stage:
            return
        seen.append(pid)
        if len(seen) == at:
            os.kill(pid, signal.SIGKILL)
    return hook, seen


@pytest.mark.parametrize("stage", ["generate", "embed"])
def test_a_killed_worker_is_replaced_and_numbers_do_not_change(ray_cluster, local, tmp_path, capfd, stage):
    local = local[0]
    at = 2 if stage == "generate" else 1  # generation: the 2nd worker's first batch; scoring: the 1st batch
    hook, seen = _killer(stage, at)
    executor = _executor(on_dispatch=hook)
    try:
        run, out = _run(tmp_path, executor)
    finally:
        executor.close()
    err = capfd.readouterr().err
    assert seen, f"no {stage} batch was dispatched"
    assert f"sabench: ray: {'generate sine' if stage == 'generate' else 'embed '}" in err
    assert f"(pid {seen[at - 1]}) lost (ActorDiedError)" in err and "retrying on a new worker (attempt 2/3)" in err
    assert _numbers(run) == _numbers(local)
    assert len(list((out / "artifacts").rglob("*.json"))) == LIMIT


def test_cli_run_with_ray_resumes_a_store_and_prints_the_local_summary(ray_cluster, local, tmp_path, capsys,
                                                                       monkeypatch):
    """A store partly filled by an earlier (killed, or local) process is resumed: Ray produces
    only the missing items, and the summary is the local run's."""
    local = local[0]
    monkeypatch.setenv("SABENCH_CACHE", str(tmp_path / "cache"))
    out = str(tmp_path / "a")
    assert main(["generate", "--suite", SUITE, "--system", SYSTEM, "--limit", "4", "--out", out, "--quiet"]) == 0
    capsys.readouterr()
    # a second run after the first (reference-echo): the first run's embedding replicas must
    # make room for its generation replicas on the 2-CPU cluster
    args = ["run", "--suite", SUITE, "--system", SYSTEM, "--system", "reference-echo", "--limit", str(LIMIT),
            "--no-report"]
    assert main([*args, "--out", out, "--executor", "ray", "--ray-workers", "2"]) == 0
    ray_out, err = capsys.readouterr()
    assert f"producing {LIMIT - 4} of {LIMIT} samples" in err and f"producing {LIMIT} of {LIMIT} samples" in err
    assert ray_out.count("(run ") == 2
    assert ray_cluster.is_initialized()  # the test's cluster was joined, not shut down by the command
    assert f"(run {local.run_id})" in ray_out
    for agg in local.aggregates:
        assert f"{agg.metric:<28} {agg.value:.6g}" in ray_out


def test_unreachable_address_is_one_line(tmp_path, capsys):
    code = main(["run", "--suite", SUITE, "--system", "sine", "--limit", "2", "--out", str(tmp_path),
                 "--executor", "ray", "--ray-address", "127.0.0.1:1"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert err.startswith("sabench: error: --ray-address 127.0.0.1:1: no Ray cluster reachable") and "ray start" in err


def test_ray_not_installed_names_the_extra(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    code = main(["generate", "--suite", SUITE, "--system", "sine", "--limit", "2", "--out", str(tmp_path),
                 "--executor", "ray"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "Ray is not installed" in err and "sabench[ray]" in err


@pytest.mark.parametrize("argv, needle", [
    (["--ray-workers", "2"], "--ray-workers: only applies with --executor ray"),
    (["--executor", "ray", "--shard", "1/2"], "--shard: static shards and the Ray executor exclude each other"),
])
def test_executor_option_mistakes(tmp_path, capsys, argv, needle):
    code = main(["generate", "--suite", SUITE, "--system", "sine", "--limit", "2", "--out", str(tmp_path), *argv])
    err = capsys.readouterr().err
    assert code == 2 and needle in err
    assert not (tmp_path / "artifacts").exists() or not list((tmp_path / "artifacts").rglob("*.json"))


def test_a_batch_whose_workers_keep_dying_fails_its_items_only(ray_cluster, tmp_path, capfd):
    """Bounded retries: batch 0's worker is killed at every attempt; after `max_attempts` its
    two items are recorded failures naming them, and every other item is produced."""
    from harness.artifacts import ArtifactStore
    from harness.plan import load_prompts
    from harness.runner import Failures, produce_samples

    def hook(stage, slot, task, pid):
        if task.index == 0:
            os.kill(pid, signal.SIGKILL)

    spec = load_suite(SUITE)
    failures = Failures(keep_going=True)
    executor = _executor(max_attempts=2, on_dispatch=hook)
    try:
        samples = produce_samples(spec, build_system(SYSTEM), load_prompts(spec, None, 6)[0],
                                  ArtifactStore(tmp_path / "artifacts"), failures=failures, show=False,
                                  executor=executor)
    finally:
        executor.close()
    first_two = [p.id for p in load_prompts(spec, None, 2)[0]]
    assert sorted(f.item_id for f in failures.items) == sorted(first_two)
    assert all(f.stage == "generate" and "2 Ray workers were lost" in f.message for f in failures.items)
    assert len(samples) == 4 and not set(samples) & set(first_two)
    err = capfd.readouterr().err
    assert "retrying on a new worker (attempt 2/2)" in err and "given up after 2 attempts" in err
