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
- **Scoring**: per backbone, actors (`workers.EmbedWorker`) embed batches of clips sent as file
  bytes (`ray_embed.RemoteEmbedder`, installed as the `RunContext`'s prefetcher: every batch a
  metric will read is submitted up front, with the exact batch composition of a local run);
  the driver writes the embedding cache. Metrics run at the driver on those batches as they
  arrive: set metrics merge per-batch float64 sufficient statistics (`GaussianStats`: count,
  mean, scatter), never concatenating all embeddings; item metrics are gathered per item.
- **One writer**: only the driver writes the artifact store, the cache and the results SQLite.
- Weights and suite data must be readable at the same paths on every node (`SABENCH_WEIGHTS`
  and the data folder are passed to workers); generated clips travel through Ray.
"""

from __future__ import annotations

import os
import socket
import sys
from collections import Counter
from collections.abc import Sequence
from typing import Any

from harness.errors import SabenchError, UsageError
from harness.executors.pool import LOST, ActorPool, Task
from harness.executors.workers import GenerationWorker, raise_payload

INSTALL_FIX = "pip install 'sabench[ray]' (pinned: pip install -r requirements/ray.txt)"
START_TIMEOUT_S = 300.0
"""How long a replica may take to start (placement + loading weights) before a one-line error."""
WORKER_ENV = ("SABENCH_WEIGHTS", "SABENCH_ALLOW_CODE", "SABENCH_SHARED", "HF_HUB_OFFLINE")
"""Environment variables handed to every worker (same weights, trust and offline settings)."""


def import_ray() -> Any:
    """The `ray` module, or a one-line error naming the install extra."""
    try:
        import ray
    except ImportError as exc:
        raise UsageError("--executor ray", "Ray is not installed in this environment", INSTALL_FIX) from exc
    return ray


def check_reachable(address: str, timeout: float = 5.0) -> None:
    """A `host:port` (or `ray://host:port`) that accepts TCP connections, else a one-line error."""
    rest = address.split("://", 1)[-1]
    host, _, port = rest.rpartition(":")
    fix = "start the cluster (`ray start --head` on the head node) or correct the address; " \
          "omit --ray-address to start a local Ray"
    if not host or not port.isdigit():
        raise UsageError(f"--ray-address {address}", "expected HOST:PORT, ray://HOST:PORT or auto", fix)
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise UsageError(f"--ray-address {address}", f"no Ray cluster reachable there ({exc.strerror or exc})",
                           fix) from exc


def connect(ray: Any, address: str | None) -> bool:
    """Join `address` (None: RAY_ADDRESS, a `ray start` cluster on this machine, or a new local
    one). Returns True when this call connected (and `close` should disconnect)."""
    if address and address not in ("auto", "local"):
        check_reachable(address)
    if ray.is_initialized():
        return False
    env = {k: os.environ[k] for k in WORKER_ENV if k in os.environ}
    # a Ray started here shares the machine with the driver: its workers at normal priority
    # (Ray's default niceness 15 starves them behind any other load)
    os.environ.setdefault("RAY_worker_niceness", "0")
    try:
        ray.init(address=address or None, include_dashboard=False, logging_level="ERROR", log_to_driver=False,
                 runtime_env={"env_vars": env} if env else None)
    except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(f"--ray-address {address or '(local)'}", f"cannot connect to Ray: {text}",
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
        threads: torch threads per replica (default: the driver's on a one-machine cluster, for
            bit-identical numbers; Ray's default elsewhere).
        on_dispatch: (stage, slot, task, pid) after each batch is submitted (fault tests).
    """

    name = "ray"
    remote = True

    def __init__(self, address: str | None = None, workers: int | None = None, gpus: float | None = None,
                 score_gpus: float | None = None, cpus: float = 1.0, max_attempts: int = 3,
                 threads: int | None = None, on_dispatch: Any = None):
        if workers is not None and workers < 1:
            raise UsageError(f"--ray-workers {workers}", "must be at least 1", "pass a positive number")
        self.ray = import_ray()
        self.owned = connect(self.ray, address)
        self.workers, self.gpus, self.score_gpus, self.cpus = workers, gpus, score_gpus, cpus
        self.max_attempts, self.on_dispatch = max_attempts, on_dispatch
        self._threads = threads
        self._single_node: bool | None = None
        self.pools: dict[Any, ActorPool] = {}
        """The live embedding pool by backbone identity (one at a time: replicas hold resources);
        kept across consecutive metrics on one backbone (loaded once), closed before generating."""
        self.stats: dict[str, Counter] = {"generated": Counter(), "embedded": Counter()}
        """Items answered per worker pid, per stage (tests: each item exactly once)."""

    # ------------------------------------------------------------------ helpers
    @property
    def threads(self) -> int | None:
        """Torch threads per replica: as given; else, on a one-machine cluster (this one), the
        driver's count (what a local run uses: bit-identical numbers); else Ray's default (the
        replica's CPUs), since other machines differ at float rounding level anyway."""
        if self._threads:
            return self._threads
        if self._single_node is None:
            from ray.util import get_node_ip_address

            nodes = [n for n in self.ray.nodes() if n.get("Alive")]
            self._single_node = len(nodes) == 1 and nodes[0].get("NodeManagerAddress") == get_node_ip_address()
        return driver_threads() if self._single_node else None

    def replicas(self, what: str, gpus: float, n_batches: int) -> int:
        """How many replicas to start: `workers`, else what the cluster fits; refuses GPUs it lacks."""
        res = self.ray.cluster_resources()
        if gpus > 0 and res.get("GPU", 0) < gpus:
            raise SabenchError(what, f"needs {gpus:g} GPU(s) per replica; the Ray cluster has {res.get('GPU', 0):g}",
                               "add GPU nodes, or pass --ray-gpus 0 to run it on CPUs")
        fit = int(res.get("GPU", 0) // gpus) if gpus > 0 else int(res.get("CPU", 1) // max(self.cpus, 1e-9))
        return max(1, min(self.workers or max(fit, 1), n_batches))

    def hello_check(self, what: str, want: Any) -> Any:
        """(actor, slot) -> pid, after checking the replica's identity equals the driver's."""
        def check(actor: Any, slot: int) -> int:
            try:
                value = self.ray.get(actor.hello.remote(), timeout=START_TIMEOUT_S)
            except self.ray.exceptions.GetTimeoutError as exc:
                raise SabenchError(f"{what} on Ray worker {slot}", f"did not start within {START_TIMEOUT_S:.0f} s "
                                   f"(cluster resources: {self.ray.available_resources()})",
                                   "free or add resources, or lower --ray-workers") from exc
            raise_payload(value)
            if value["info"] != want:
                raise SabenchError(f"{what} on Ray worker {slot} (pid {value['pid']})",
                                   f"identity differs from the driver's: {value['info']} != {want}",
                                   "install the same sabench version and weights on every node")
            return int(value["pid"])
        return check

    def dispatch_hook(self, stage: str) -> Any:
        if self.on_dispatch is None:
            return None
        return lambda slot, task, pid: self.on_dispatch(stage, slot, task, pid)

    # ------------------------------------------------------------------ generation
    def generate(self, spec: Any, system: Any, todo: Sequence[Any], store: Any, *, failures: Any,
                 show: bool = True) -> dict[str, Any]:
        """Produce `todo` on Ray replicas of `system`; the driver stores each sample on arrival."""
        from harness.progress import progress

        self._close_pools()  # the previous run's embedding replicas hold the CPUs/GPUs this needs
        size = min(system.batch_size, spec.batch_size or system.batch_size)
        tasks = [Task(i, list(todo[s:s + size]), tuple(j.item_id for j in todo[s:s + size]))
                 for i, s in enumerate(range(0, len(todo), size))]
        gpus = system_gpus(system) if self.gpus is None else float(self.gpus)
        n = self.replicas(f"system {system.name}", gpus, len(tasks))
        actor = self.ray.remote(GenerationWorker).options(num_cpus=self.cpus, num_gpus=gpus, max_restarts=0)
        by_id = {j.item_id: j for j in todo}
        pool = ActorPool(self.ray, lambda slot: actor.remote(system, spec.task, self.threads), n,
                         lambda a, batch: a.run.remote(batch), hello=self.hello_check(f"system {system.name}",
                                                                                     system.info),
                         max_attempts=self.max_attempts, label=f"{spec.task} {system.name}",
                         on_dispatch=self.dispatch_hook("generate"))
        samples = {}
        try:
            for task, value in progress(pool.run(tasks), total=len(todo), desc=f"{spec.task} {system.name} "
                                        f"[ray x{n}]", show=show, size=lambda r: len(r[0].items)):
                if value is LOST:
                    for item_id in task.items:
                        failures.add(item_id, spec.task, f"{self.max_attempts} Ray workers were lost while "
                                     "producing this item's batch", "check the cluster's nodes (memory, "
                                     "preemption) and rerun: finished samples are kept")
                    continue
                raise_payload(value)
                self.stats["generated"][value["pid"]] += len(value["samples"]) + len(value["failures"])
                for item_id, audio, seconds in value["samples"]:
                    samples[item_id] = store.put_audio(by_id[item_id].key, audio, seconds=seconds)
                for item_id, stage, message, fix in value["failures"]:
                    failures.add(item_id, stage, message, fix)
        finally:
            pool.close()
        return samples

    # ------------------------------------------------------------------ scoring
    def prepare_scoring(self, plan: Any, metrics: Sequence[Any], items: Sequence[Any], context: Any, *,
                        show: bool = True) -> None:
        """Route the context's embedding through Ray workers (`ray_embed.RemoteEmbedder`)."""
        from harness.executors.ray_embed import RemoteEmbedder

        if not hasattr(context, "prefetch"):
            print(f"sabench: ray: {type(context).__name__} cannot embed remotely; scoring embeds on the driver",
                  file=sys.stderr)
            return
        context.prefetch = RemoteEmbedder(self, plan)

    def _close_pools(self) -> None:
        for pool in self.pools.values():
            pool.close()
        self.pools = {}

    def close(self) -> None:
        """Stop the embedding replicas; disconnect (stopping the local Ray this executor started)."""
        self._close_pools()
        if self.owned and self.ray.is_initialized():
            self.ray.shutdown()
        self.owned = False


def driver_threads() -> int | None:
    """This process's torch intra-op thread count (None without torch: Ray's default)."""
    try:
        import torch
    except ImportError:
        return None
    return int(torch.get_num_threads())


__all__ = ["RayExecutor", "import_ray", "connect", "check_reachable", "system_gpus"]
