"""Argument parsing for `sabench weights fetch` and `sabench data fetch` (wired by harness/cli.py).

Importing this module imports nothing beyond argparse (so `sabench --help` stays fast).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

NETWORK = ("This is the only kind of sabench command that uses the network: runs, scoring and "
           "reports never download anything.")


def _net(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dry-run", action="store_true", help="print what would be fetched, from where, and the "
                   "total size; no network access")
    p.add_argument("--force", action="store_true", help="replace files that differ from weights.lock / the "
                   "pinned sha256, or that sabench did not fetch")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for a connection or for data "
                   "(default 30)")
    p.add_argument("--retries", type=int, default=4, help="further attempts after a dropped connection or "
                   "timeout, each resuming the partial file (default 4)")
    p.add_argument("--quiet", action="store_true", help="no progress bars or per-file lines (summary only)")


def add_fetch_parsers(sub: Any) -> None:
    """`weights fetch ...` and `data fetch ...` subcommands."""
    w = sub.add_parser("weights", help="`weights fetch`: download the weights directory (network)",
                       description="Download the files of the weights table (harness/weights.py) into the "
                       "documented layout, verify them and record them in <weights>/weights.lock. Hub files "
                       "use HF_TOKEN / `hf auth login` and HF_ENDPOINT. " + NETWORK)
    w.add_argument("action", choices=("fetch",))
    w.add_argument("names", nargs="*", metavar="NAME", help="backbones, systems, table groups (e.g. panns16k, "
                   "tangoflux, flan-t5-large) or relpaths")
    w.add_argument("--all", action="store_true", help="every file of the table")
    w.add_argument("--for-job", metavar="JOB", help="every file the job's systems and suites' metrics read "
                   "(e.g. paper)")
    w.add_argument("--weights", help="weights directory to fill (else $SABENCH_WEIGHTS)")
    _net(w)
    d = sub.add_parser("data", help="`data fetch`: download the benchmarks' caption/prompt files (network)",
                       description="Download the caption and prompt files the suites read (AudioCaps CSVs, "
                       "TTA-Bench prompts, the Tango/AudioLDM/MeanAudio lists) from their public repositories "
                       "at pinned commits, verified by sha256, into the --data folder. No audio. " + NETWORK)
    d.add_argument("action", choices=("fetch",))
    d.add_argument("names", nargs="*", metavar="SUITE", help="suites (audiocaps, ttabench, editing); none: all files")
    d.add_argument("--data", help="data folder to fill (the folder passed to `sabench run --data`)")
    _net(d)


def run_fetch(args: argparse.Namespace) -> int:
    from harness.errors import SabenchError
    from harness.fetch.http import HttpOptions

    if args.timeout <= 0 or args.retries < 0:
        raise SabenchError(f"sabench {args.command} fetch", "--timeout must be > 0 and --retries >= 0",
                           "pass e.g. --timeout 60 --retries 4")
    if args.command == "data":
        from harness.fetch.data import fetch_data

        if not args.data:
            raise SabenchError("sabench data fetch", "no data folder given", "pass --data DIR")
        return fetch_data(args.names, Path(args.data).expanduser(), force=args.force, dry=args.dry_run,
                          options=HttpOptions(args.timeout, args.retries), quiet=args.quiet)
    from harness.fetch.command import FetchOptions, fetch_weights
    from harness.paths import weights_root

    root = weights_root(args.weights)
    if root is None:
        raise SabenchError("sabench weights fetch", "no weights directory given",
                           "pass --weights DIR (or set SABENCH_WEIGHTS)")
    opts = FetchOptions(Path(root).expanduser(), force=args.force, timeout=args.timeout, retries=args.retries)
    return fetch_weights(args.names, all_files=args.all, job=args.for_job, opts=opts, dry=args.dry_run,
                         quiet=args.quiet)


__all__ = ["add_fetch_parsers", "run_fetch"]
