"""`sabench generate`: produce samples without scoring them, for --suite/--system or a --job,
optionally one shard of the items (`--shard K/N`) so that N processes sharing `--out` split
the work; `sabench run` then scores everything from the cache. `--to` also copies the clips
out as `export_name(<item id>)` + manifest.csv carrying the true ids (scoreable with
`sabench score --path <folder>`, which reads the manifest back).

Like `run`: a job's `skip_incapable` skips (and notes) a system that cannot do a suite's
task; with --keep-going a pair that cannot start is reported as not run and the others go
on. Exit code 0 when every sample was produced, 1 when some item or pair failed, 2 for a
usage error (see harness/cli.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from harness.errors import SabenchError, UsageError


def generate(args: argparse.Namespace, resolve: Any) -> int:
    """`sabench generate`: samples only (artifact store under --out; optionally a folder).
    `resolve(args, job)` -> (pairs, specs, systems) checks what the command line names."""
    import shutil

    from harness.artifacts import ArtifactStore
    from harness.executors.options import executor_for
    from harness.paths import data_root
    from harness.plan import load_prompts
    from harness.progress import note
    from harness.runner import Failures, produce_samples

    job = _generate_job(args)
    shard = parse_shard(args.shard) if args.shard is not None else None
    pairs, specs, systems = resolve(args, job)
    executor = executor_for(args)  # local, or Ray (connected before any work; closed by main)
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
            prompts, _ = load_prompts(spec, data_root(args.data), args.limit)
            samples = produce_samples(spec, system, prompts, store, failures=failures, show=not args.quiet,
                                      shard=shard, executor=executor)
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


SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.#+=,@")
"""Characters kept as they are in exported file names; every other byte is %XX-encoded."""
MAX_NAME = 200
"""Longest exported file name in bytes (file systems allow 255)."""


def export_name(item_id: str, suffix: str = ".wav") -> str:
    """The file name of an item in a `--to` folder: injective and reversible.

    Bytes outside `SAFE` (including "/", "%" and a leading ".") are percent-encoded, so
    `a/b` -> `a%2Fb.wav` and `a_b` -> `a_b.wav` never collide and no id gives a hidden
    file; ids whose name would exceed `MAX_NAME` bytes keep a prefix plus "~" and 16 hex
    digits of the id's sha256 ("~" never survives encoding, so such names cannot collide
    with encoded ones). The manifest.csv written next to the files carries the true ids.
    """
    import hashlib

    raw = item_id.encode("utf-8")
    enc = "".join(chr(b) if chr(b) in SAFE and not (i == 0 and b == ord(".")) else f"%{b:02X}"
                  for i, b in enumerate(raw))
    if len(enc) + len(suffix) > MAX_NAME:
        enc = enc[:MAX_NAME - len(suffix) - 17] + "~" + hashlib.sha256(raw).hexdigest()[:16]
    return enc + suffix


def _export(samples: dict[str, Any], dest: Path, shutil: Any) -> None:
    """Copy each sample to `dest/<export_name(id)>` and write manifest.csv (id, path); names
    equal up to case (case-insensitive file systems) get the id's hash appended."""
    import csv
    import hashlib

    dest.mkdir(parents=True, exist_ok=True)
    names = {i: export_name(i, Path(samples[i].path).suffix) for i in sorted(samples)}
    folded: dict[str, int] = {}
    for n in names.values():
        folded[n.casefold()] = folded.get(n.casefold(), 0) + 1
    rows = []
    for item_id, name in names.items():
        if folded[name.casefold()] > 1:
            stem, suffix = name[: -len(Path(name).suffix) or None], Path(name).suffix
            name = f"{stem[:MAX_NAME - len(suffix) - 17]}~{hashlib.sha256(item_id.encode()).hexdigest()[:16]}{suffix}"
        shutil.copyfile(samples[item_id].path, dest / name)
        rows.append((item_id, name))
    with open(dest / "manifest.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "path"])
        w.writerows(rows)
