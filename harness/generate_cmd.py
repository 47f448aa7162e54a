"""`sabench generate`: produce samples without scoring them, for --suite/--system or a --job,
optionally one shard of the items (`--shard K/N`) so that N processes sharing `--out` split
the work; `sabench run` then scores everything from the cache. `--to` also copies the clips
out as `<item id>.wav` + manifest.csv (scoreable with `sabench score`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from harness.errors import SabenchError


def generate(args: argparse.Namespace) -> int:
    """`sabench generate`: samples only (artifact store under --out; optionally a folder)."""
    import shutil

    from harness.artifacts import ArtifactStore
    from harness.cli import _data_root, make_system
    from harness.runner import Failures, load_prompts, produce_samples
    from harness.suite import load_suite

    pairs = _generate_pairs(args)
    shard = parse_shard(args.shard) if args.shard is not None else None
    store = ArtifactStore(Path(args.out) / "artifacts")
    systems: dict[str, Any] = {}
    for suite, sys_spec in pairs:
        spec = load_suite(suite)
        prompts = load_prompts(spec, _data_root(args), args.limit)
        if sys_spec not in systems:
            systems[sys_spec] = make_system(sys_spec)                      # built once per spec
        system = systems[sys_spec]
        failures = Failures(args.keep_going)
        samples = produce_samples(spec, system, prompts, store, failures=failures, show=not args.quiet,
                                  shard=shard)
        part = f" (shard {shard[0]}/{shard[1]})" if shard else ""
        print(f"{spec.name} x {system.name}{part}: {len(samples)} samples, {len(failures.items)} failure(s)")
        for f in failures.items:
            print(f"  {f.item_id} [{f.stage}] {f.message}")
        if args.to:
            dest = Path(args.to) / spec.name / system.name if len(pairs) > 1 else Path(args.to)
            _export(samples, dest, shutil)
            print(f"  copied to {dest} (manifest.csv)")
    return 0


def _generate_pairs(args: argparse.Namespace) -> list[tuple[str, str]]:
    if args.job:
        if args.suite or args.system:
            raise SabenchError("sabench generate", "--job cannot be combined with --suite/--system",
                               "use one or the other")
        from harness.job import load_job

        return load_job(args.job).pairs()
    if not args.suite or not args.system:
        raise SabenchError("sabench generate", "needs --suite and --system, or --job",
                           "e.g. --suite audiocaps --system tangoflux")
    return [(s, m) for s in args.suite for m in args.system]


def parse_shard(text: str) -> tuple[int, int]:
    """"K/N" -> (K, N) with 1 <= K <= N."""
    k, _, n = str(text).partition("/")
    try:
        kk, nn = int(k), int(n)
    except ValueError:
        kk = nn = 0
    if not 1 <= kk <= nn:
        raise SabenchError(f"--shard {text}", "expected K/N with 1 <= K <= N",
                           "e.g. --shard 3/8 (with a SLURM array: --shard $((SLURM_ARRAY_TASK_ID + 1))/N)")
    return kk, nn


def _export(samples: dict[str, Any], dest: Path, shutil: Any) -> None:
    import csv

    dest.mkdir(parents=True, exist_ok=True)
    rows = []
    for item_id in sorted(samples):
        src = Path(samples[item_id].path)
        name = item_id.replace("/", "_") + src.suffix          # <id>#r<k> kept: scoreable as a folder
        shutil.copyfile(src, dest / name)
        rows.append((item_id, name))
    with open(dest / "manifest.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "path"])
        w.writerows(rows)
