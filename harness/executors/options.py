"""The executor's command-line options (`run`, `generate`, `score`) and the executor they make.

    --executor local|ray     where generation and embedding run (default local)
    --ray-address ADDR       a Ray cluster (HOST:PORT, ray://HOST:PORT, auto); default: start or
                             join a local Ray
    --ray-workers N          replicas per system and per backbone (default: what the cluster fits)
    --ray-gpus G             GPUs per generation replica (default: 1 for systems on CUDA, else 0)
"""

from __future__ import annotations

import argparse
from typing import Any

from harness.errors import UsageError

RAY_FLAGS = ("ray_address", "ray_workers", "ray_gpus")


def executor_parser() -> argparse.ArgumentParser:
    """A parent parser with the executor options."""
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("executor (docs/ray.md)")
    g.add_argument("--executor", choices=("local", "ray"), default="local",
                   help="where generation and embedding run: this process (default) or a Ray cluster")
    g.add_argument("--ray-address", metavar="ADDR", help="Ray cluster: HOST:PORT, ray://HOST:PORT or auto "
                   "(default: start or join a local Ray)")
    g.add_argument("--ray-workers", type=int, metavar="N", help="replicas per system and per backbone "
                   "(default: as many as the cluster's CPUs/GPUs fit)")
    g.add_argument("--ray-gpus", type=float, metavar="G", help="GPUs per generation replica "
                   "(default: 1 for a system whose device is CUDA, else 0)")
    return p


def make_from_args(args: argparse.Namespace) -> Any:
    """The executor the command line asks for; Ray options without `--executor ray` are refused."""
    from harness.executors import make_executor

    name = getattr(args, "executor", "local") or "local"
    given = [f"--{f.replace('_', '-')}" for f in RAY_FLAGS if getattr(args, f, None) is not None]
    if name == "local":
        if given:
            raise UsageError(given[0], "only applies with --executor ray", f"add --executor ray, or drop {given[0]}")
        return make_executor("local")
    if getattr(args, "shard", None):
        raise UsageError("--shard", "static shards and the Ray executor exclude each other",
                         "drop --shard: Ray workers pull batches from one queue (docs/ray.md)")
    if args.ray_gpus is not None and args.ray_gpus < 0:
        raise UsageError(f"--ray-gpus {args.ray_gpus:g}", "must be 0 or more", "e.g. --ray-gpus 1")
    return make_executor("ray", address=args.ray_address, workers=args.ray_workers, gpus=args.ray_gpus)


def executor_for(args: argparse.Namespace) -> Any:
    """The command's executor, made on first use (after the command line is checked) and kept
    on `args` for every run of the command; `close_executor(args)` ends it."""
    if getattr(args, "_executor", None) is None:
        args._executor = make_from_args(args)
    return args._executor


def close_executor(args: Any) -> None:
    """Close the executor `executor_for` made (disconnects Ray); nothing if none was made."""
    executor = vars(args).pop("_executor", None) if isinstance(args, argparse.Namespace) else None
    if executor is not None:
        executor.close()


__all__ = ["executor_parser", "executor_for", "close_executor", "make_from_args"]
