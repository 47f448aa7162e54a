"""`sabench generate`: produce samples without scoring them, for --suite/--system or a --job,
optionally one shard of the items (`--shard K/N`) so that N processes sharing `--out` split
the work; `sabench run` then scores everything from the cache. `--to` also copies the clips
out as `export_name(<item id>)` + manifest.csv carrying the true ids (scoreable with
`sabench score --path <folder>`, which reads the manifest back)."""

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
