"""`sabench generate`: produce samples without scoring them, for --suite/--system or a --job,
optionally one shard of the items (`--shard K/N`) so that N processes sharing `--out` split
the work; `sabench run` then scores everything from the cache. `--to` also copies the clips
out as `<item id>.wav` + manifest.csv (scoreable with `sabench score`).

Like `run`: a job's `skip_incapable` skips (and notes) a system that cannot do a suite's
task; with --keep-going a pair that cannot start is reported as not run and the others go
on. Exit code 0 when every sample was produced, 1 when some item or pair failed, 2 for a
usage error (see harness/cli.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from harness.errors import SabenchError, UsageError, as_usage_errors


def generate(args: argparse.Namespace, resolve: Any) -> int:
    """`sabench generate`: samples only (artifact store under --out; optionally a folder).
    `resolve(args, job)` -> (pairs, specs, systems) checks what the command line names."""
    import shutil

    from harness.artifacts import ArtifactStore
    from harness.paths import data_root
    from harness.progress import note
    from harness.runner import Failures, load_prompts, produce_samples

    job = _generate_job(args)
    with as_usage_errors():
        shard = parse_shard(args.shard) if args.shard else None
    pairs, specs, systems = resolve(args, job)
    store = ArtifactStore(Path(args.out) / "artifacts")
    problems: list[str] = []
    ran = 0
    for suite, sys_spec in pairs:
        spec, system = specs[suite], systems[sys_spec]
        if job.skip_incapable and not _capable(spec, system):
            note(f"skip {spec.name} x {system.name}: cannot {spec.task}", show=not args.quiet)
            continue
        failures = Failures(args.keep_going)
        try:
            prompts = load_prompts(spec, data_root(args.data), args.limit)
            samples = produce_samples(spec, system, prompts, store, failures=failures, show=not args.quiet,
                                      shard=shard)
        except UsageError:
            raise
        except SabenchError as exc:
            if not args.keep_going:
                raise
            problems.append(f"not run: {spec.name} x {sys_spec}: {exc}")
            continue
        ran += 1
        part = f" (shard {shard[0]}/{shard[1]})" if shard else ""
        print(f"{spec.name} x {system.name}{part}: {len(samples)} samples, {len(failures.items)} failure(s)")
        for f in failures.items:
            print(f"  {f.item_id} [{f.stage}] {f.message}")
        if failures.items or not samples:
            problems.append(f"{len(failures.items)} failure(s), {len(samples)} sample(s) "
                            f"in {spec.name} x {system.name}")
        if args.to and samples:
            dest = Path(args.to) / spec.name / system.name if len(pairs) > 1 else Path(args.to)
            _export(samples, dest, shutil)
            print(f"  copied to {dest} (manifest.csv)")
    if not ran and not problems:
        problems.append("nothing was generated (no suite x system pair could run)")
    for line in problems:
        print(f"sabench: {line}", file=sys.stderr)
    return 1 if problems else 0


def _capable(spec: Any, system: Any) -> bool:
    return spec.task in getattr(system, "capabilities", frozenset({"generate"}))


def _generate_job(args: argparse.Namespace) -> Any:
    """The job behind `generate`: --job (its skip_incapable kept), or --suite x --system."""
    from harness.job import Job, JobGroup, load_job

    with as_usage_errors():
        if args.job:
            if args.suite or args.system:
                raise UsageError("sabench generate", "--job cannot be combined with --suite/--system",
                                 "use one or the other")
            return load_job(args.job)
        if not args.suite or not args.system:
            raise UsageError("sabench generate", "needs --suite and --system, or --job",
                             "e.g. --suite audiocaps --system tangoflux")
        return Job("command-line", "command line", (JobGroup(tuple(args.suite), tuple(args.system)),))


def parse_shard(text: str) -> tuple[int, int]:
    """"K/N" -> (K, N) with 1 <= K <= N."""
    k, _, n = str(text).partition("/")
    try:
        kk, nn = int(k), int(n)
    except ValueError:
        kk = nn = 0
    if not 1 <= kk <= nn:
        raise UsageError(f"--shard {text}", "expected K/N with 1 <= K <= N",
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
