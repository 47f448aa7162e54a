"""The Ray executor: generation and embedding on a Ray cluster; the driver stays the one writer.

    sabench run --job mini --executor ray                          # start (or join) a local Ray
    sabench run --job paper --executor ray --ray-address HEAD:6379  # an existing cluster

Design (docs/ray.md has the launch recipes):

- **Generation**: one actor per system replica (`workers.GenerationWorker`), placed with the
  resources the system declares (`num_gpus=1` when its `device` is CUDA, else CPU; override with
  `gpus=`), loading its weights once and pulling batches from the driver's queue
  (`pool.run_pool`: dynamic load balancing, bounded retry of lost workers). Workers return the
  audio; the driver writes it into the same content-addressed artifact store, so samples need
  no shared filesystem and each item is stored exactly once.
- **Scoring**: a pre-pass fills the `EmbeddingCache` for every (backbone, clip) the plan's
  metrics read: per backbone, actors (`workers.EmbedWorker`) embed batches of clips sent as file
  bytes; the driver writes the cache. The ordinary local scoring then reads every embedding
  from the cache and set metrics merge per-batch float64 sufficient statistics
  (`GaussianStats`: count, mean, scatter) at the driver, batch by batch, never all embeddings.
- **One writer**: only the driver writes the artifact store, the cache and the results SQLite.
- Weights and suite data must be readable at the same paths on every node (`SABENCH_WEIGHTS`
  and the data folder are passed to workers); generated clips travel through Ray.
"""

from __future__ import annotations

import os
import socket
from collections import Counter
from pathlib import Path
from typing import Any, Sequence

from harness.errors import SabenchError
from harness.executors.pool import LOST, Task, run_pool
from harness.executors.workers import EmbedWorker, GenerationWorker, raise_payload

INSTALL_FIX = "pip install 'sabench[ray]' (pinned: pip install -r requirements/ray.txt)"
WORKER_ENV = ("SABENCH_WEIGHTS", "SABENCH_ALLOW_CODE", "SABENCH_SHARED", "HF_HUB_OFFLINE")
"""Environment variables handed to every worker (same weights, trust and offline settings)."""


def import_ray() -> Any:
    """The `ray` module, or a one-line error naming the install extra."""
    try:
        import ray
    except ImportError as exc:
        raise SabenchError("--executor ray", "Ray is not installed in this environment", INSTALL_FIX) from exc
    return ray


def check_reachable(address: str, timeout: float = 5.0) -> None:
    """A `host:port` (or `ray://host:port`) that accepts TCP connections, else a one-line error."""
    rest = address.split("://", 1)[-1]
    host, _, port = rest.rpartition(":")
    fix = "start the cluster (`ray start --head` on the head node) or correct the address; " \
          "omit --ray-address to start a local Ray"
    if not host or not port.isdigit():
        raise SabenchError(f"--ray-address {address}", "expected HOST:PORT, ray://HOST:PORT or auto", fix)
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise SabenchError(f"--ray-address {address}", f"no Ray cluster reachable there ({exc.strerror or exc})",
                           fix) from exc


def connect(ray: Any, address: str | None) -> bool:
    """Join `address` (None: RAY_ADDRESS, a `ray start` cluster on this machine, or a new local
    one). Returns True when this call connected (and `close` should disconnect)."""
    if ray.is_initialized():
        return False
    if address and address not in ("auto", "local"):
        check_reachable(address)
    env = {k: os.environ[k] for k in WORKER_ENV if k in os.environ}
    try:
        ray.init(address=address or None, include_dashboard=False, logging_level="ERROR", log_to_driver=False,
                 runtime_env={"env_vars": env} if env else None)
    except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SabenchError(f"--ray-address {address or '(local)'}", f"cannot connect to Ray: {text}",
                           "start the cluster (`ray start --head`) or correct the address") from exc
    return True


def system_gpus(system: Any) -> float:
    """GPUs one replica of `system` needs: 1 when its `device` parameter is CUDA, else 0."""
    device = str(getattr(system, "params", {}).get("device", "cpu"))
    return 1.0 if device.startswith("cuda") else 0.0


class RayExecutor:
    """Generation and embedding on Ray (see the module doc).

    Args:
        address: a cluster address (`HOST:PORT`, `ray://HOST:PORT`, `auto`); None starts or joins
            a local Ray.
        workers: replicas per system / backbone (default: as many as the cluster's CPUs, or GPUs
            for GPU systems, allow).
        gpus: GPUs per generation replica (default `system_gpus(system)`); `score_gpus`: per
            embedding replica (default 1 when the scoring device is CUDA, else 0).
        cpus: CPUs per replica. max_attempts: tries per batch before its items are failures.
        on_dispatch: (stage, slot, task, pid) after each batch is submitted (fault tests).
    """

    name = "ray"
    remote = True

    def __init__(self, address: str | None = None, workers: int | None = None, gpus: float | None = None,
                 score_gpus: float | None = None, cpus: float = 1.0, max_attempts: int = 3,
                 on_dispatch: Any = None):
        if workers is not None and workers < 1:
            raise SabenchError(f"--ray-workers {workers}", "must be at least 1", "pass a positive number")
        self.ray = import_ray()
        self.owned = connect(self.ray, address)
        self.workers, self.gpus, self.score_gpus, self.cpus = workers, gpus, score_gpus, cpus
        self.max_attempts, self.on_dispatch = max_attempts, on_dispatch
        self.stats: dict[str, Counter] = {"generated": Counter(), "embedded": Counter()}
        """Items answered per worker pid, per stage (tests: each item exactly once)."""

    # ------------------------------------------------------------------ resources
    def _replicas(self, what: str, gpus: float, n_batches: int) -> int:
        res = self.ray.cluster_resources()
        if gpus > 0 and res.get("GPU", 0) < gpus:
            raise SabenchError(what, f"needs {gpus:g} GPU(s) per replica; the Ray cluster has {res.get('GPU', 0):g}",
                               "add GPU nodes, or pass --ray-gpus 0 to run it on CPUs")
        fit = int(res.get("GPU", 0) // gpus) if gpus > 0 else int(res.get("CPU", 1) // max(self.cpus, 1e-9))
        return max(1, min(self.workers or max(fit, 1), n_batches))

    def _hello(self, what: str, want: Any) -> Any:
        def check(actor: Any, slot: int) -> int:
            value = self.ray.get(actor.hello.remote())
            raise_payload(value)
            if value["info"] != want:
                raise SabenchError(f"{what} on Ray worker {slot} (pid {value['pid']})",
                                   f"identity differs from the driver's: {value['info']} != {want}",
                                   "install the same sabench version and weights on every node")
            return int(value["pid"])
        return check

    def _dispatch(self, stage: str) -> Any:
        if self.on_dispatch is None:
            return None
        return lambda slot, task, pid: self.on_dispatch(stage, slot, task, pid)

    # ------------------------------------------------------------------ generation
    def generate(self, spec: Any, system: Any, todo: Sequence[Any], store: Any, *, failures: Any,
                 show: bool = True) -> dict[str, Any]:
        """Produce `todo` on Ray replicas of `system`; the driver stores each sample on arrival."""
        from harness.progress import progress

        size = min(system.batch_size, spec.batch_size or system.batch_size)
        tasks = [Task(i, list(todo[s:s + size]), tuple(j.item_id for j in todo[s:s + size]))
                 for i, s in enumerate(range(0, len(todo), size))]
        gpus = system_gpus(system) if self.gpus is None else float(self.gpus)
        n = self._replicas(f"system {system.name}", gpus, len(tasks))
        actor = self.ray.remote(GenerationWorker).options(num_cpus=self.cpus, num_gpus=gpus, max_restarts=0)
        by_id = {j.item_id: j for j in todo}
        pool = run_pool(self.ray, lambda slot: actor.remote(system, spec.task), n, tasks,
                        lambda a, batch: a.run.remote(batch), max_attempts=self.max_attempts,
                        label=f"{spec.task} {system.name}", hello=self._hello(f"system {system.name}", system.info),
                        on_dispatch=self._dispatch("generate"))
        samples = {}
        for task, value in progress(pool, total=len(todo), desc=f"{spec.task} {system.name} [ray x{n}]",
                                    show=show, size=lambda r: len(r[0].items)):
            if value is LOST:
                for item_id in task.items:
                    failures.add(item_id, spec.task, f"{self.max_attempts} Ray workers were lost while producing "
                                 "this item's batch", "check the cluster's nodes (memory, preemption) and rerun: "
                                 "finished samples are kept")
                continue
            raise_payload(value)
            self.stats["generated"][value["pid"]] += len(value["samples"]) + len(value["failures"])
            for item_id, audio, seconds in value["samples"]:
                samples[item_id] = store.put_audio(by_id[item_id].key, audio, seconds=seconds)
            for item_id, stage, message, fix in value["failures"]:
                failures.add(item_id, stage, message, fix)
        return samples

    # ------------------------------------------------------------------ scoring
    def prepare_scoring(self, plan: Any, metrics: Sequence[Any], items: Sequence[Any], context: Any, *,
                        show: bool = True) -> None:
        """Fill the embedding cache for every (backbone, clip) the metrics will read."""
        for name, paths in clips_to_embed(metrics, items).items():
            self._embed_backbone(plan, context, name, paths, show)

    def _embed_backbone(self, plan: Any, context: Any, name: str, paths: list[str], show: bool) -> None:
        from harness.metrics.presets import backbone_args
        from harness.progress import progress

        bb = context.backbone(name)
        info = bb.info
        keys = {p: context.cache.key(context.file_sha256(p), info) for p in paths}
        todo = [p for p in paths if not context.cache.path_for(keys[p]).exists()]
        if not todo:
            return
        step = max(1, int(bb.batch_size))
        tasks = [Task(i, todo[s:s + step], tuple(todo[s:s + step])) for i, s in enumerate(range(0, len(todo), step))]
        gpus = float(self.score_gpus if self.score_gpus is not None else str(info.device).startswith("cuda"))
        n = self._replicas(f"backbone {name}", gpus, len(tasks))
        actor = self.ray.remote(EmbedWorker).options(num_cpus=self.cpus, num_gpus=gpus, max_restarts=0)
        args, device = backbone_args(plan.preset), getattr(context, "device", None)
        pool = run_pool(self.ray, lambda slot: actor.remote(context.profile, name, args, device), n, tasks,
                        lambda a, batch: a.embed.remote([(Path(p).suffix, Path(p).read_bytes()) for p in batch]),
                        max_attempts=self.max_attempts, label=f"embed {name}",
                        hello=self._hello(f"backbone {name}", info), on_dispatch=self._dispatch("embed"))
        for task, value in progress(pool, total=len(todo), desc=f"embed {name} [ray x{n}]", show=show,
                                    size=lambda r: len(r[0].items)):
            if value is LOST:
                continue  # left uncached: the driver's scoring embeds these clips itself
            raise_payload(value)
            self.stats["embedded"][value["pid"]] += len(value["rows"])
            for path, row in zip(task.payload, value["rows"]):
                if row is not None:
                    context.cache.put(keys[path], row)

    def close(self) -> None:
        """Disconnect (stopping the local Ray this executor started)."""
        if self.owned and self.ray.is_initialized():
            self.ray.shutdown()
        self.owned = False


def clips_to_embed(metrics: Sequence[Any], items: Sequence[Any]) -> dict[str, list[str]]:
    """{backbone: distinct clip paths, sorted} over every metric with a backbone: the paths of
    its roles on the items that have all of them (what `score_items` hands the metric)."""
    need: dict[str, set[str]] = {}
    for metric in metrics:
        name = metric.info.backbone
        if not name:
            continue
        usable = [it for it in items if all(it.path(r) for r in metric.roles)]
        need.setdefault(name, set()).update(str(it.path(r)) for it in usable for r in metric.roles)
    return {k: sorted(v) for k, v in sorted(need.items())}


__all__ = ["RayExecutor", "clips_to_embed", "import_ray", "connect", "check_reachable", "system_gpus"]
