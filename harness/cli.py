"""`sabench`: the command line.

    sabench                                   # = sabench run: the mini leaderboard + report
    sabench run --suite audiocaps --system tangoflux --system precomputed:path=out/x
    sabench run --job paper --weights W --data D   # a job file: suites/jobs/paper.yaml
    sabench generate --suite ttabench --system sine --to outputs/sine/
    sabench score --suite ttabench --path outputs/sine/        # pre-generated files, by id
    sabench report | list [kind] | doctor | gate ...
    sabench mini train [--quick]              # rebuild the mini world (corpus, backbones, systems)

Systems are given as `name` or `name:key=value,key=value` (`harness.system_spec`); suite
options (`--suite-arg K=V`, `--captions`, `--reference-dir`, `--missing`, `--ids`) are checked
against the suite's loader (`harness.suite_options`). Every import beyond argparse happens
inside a command, so `sabench --help` and `sabench list` stay fast and never import torch.

Exit codes (`harness.outcome`; the README table covers gate too): 0 everything scored; 1 the
command ran to the end without scoring everything (failures under --keep-going, nothing
scored); 2 stopped by a `SabenchError`, printed as one line naming the item and the fix
(usage or an unusable input); 130 interrupted. Any other exception keeps its traceback (a
bug). This module is the top layer: nothing else imports it.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path
from typing import Any

from harness.errors import SabenchError, UsageError
from harness.executors.options import close_executor, executor_for, executor_parser
from harness.outcome import exit_status, print_summary
from harness.system_spec import build_system as make_system

COMMANDS = ("run", "generate", "score", "report", "list", "doctor", "gate", "mini", "weights", "data", "listen")


# ------------------------------------------------------------------------------- parsing

def _common() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("common options")
    g.add_argument("--out", default="sabench-out",
                   help="run folder: artifacts + results.sqlite (default ./sabench-out)")
    g.add_argument("--weights", help="weights directory (else $SABENCH_WEIGHTS)")
    g.add_argument("--data", help="data root the suite loaders read (else ../shared/data when present)")
    g.add_argument("--keep-going", action="store_true", help="record failing items and finish the others")
    g.add_argument("--limit", type=int, help="only the first N prompts of each suite")
    g.add_argument("--quiet", action="store_true", help="no progress bars or status lines")
    g.add_argument("--score-device", help="device of the metric backbones: cpu (default), cuda, cuda:N, auto")
    g.add_argument("--allow-code", action="store_true", help="trust suite files to name any loader "
                   "'module:function' (else only the project's suites.*; docs/trust.md); = SABENCH_ALLOW_CODE=1")
    return p


def _suite_opts() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("suite options (for --suite; checked against the suite's loader)")
    g.add_argument("--suite-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="set one of the suite loader's arguments (repeatable), e.g. captions=975-first")
    g.add_argument("--captions", metavar="CHOICE", help="caption choice (= --suite-arg captions=...), "
                   "AudioCaps: 957-last, 964-third, 886-tango, 975-first, all-4875")
    g.add_argument("--reference-dir", metavar="DIR", help="folder of reference clips (= audio_dir)")
    g.add_argument("--missing", choices=("fail", "skip", "keep"),
                   help="reference clip missing: fail (default), skip the prompt, keep it without reference")
    g.add_argument("--ids", metavar="FILE|a,b,c", help="only these prompt ids (a file, one per line, or a list)")
    return p


def build_parser() -> argparse.ArgumentParser:
    common, suite_opts, ex = _common(), _suite_opts(), executor_parser()
    parser = argparse.ArgumentParser(prog="sabench", description="Benchmark text-to-audio generation and editing.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = sub.add_parser("run", parents=[common, suite_opts, ex],
                         help="evaluate suite(s) x system(s); no arguments: the mini leaderboard")
    run.add_argument("--suite", "-s", action="append", default=[], help="suite name or suite.yaml (repeatable)")
    run.add_argument("--system", "-m", action="append", default=[], help="name[:k=v,...] (repeatable)")
    run.add_argument("--job", "-j", help="a job: name in suites/jobs/ or a YAML path (suites x systems groups); "
                     "no --job/--suite/--system: the 'mini' job")
    run.add_argument("--no-report", action="store_true", help="print the summary only")
    gen = sub.add_parser("generate", parents=[common, suite_opts, ex],
                         help="generate samples only (artifact store / a folder)")
    gen.add_argument("--suite", "-s", action="append", default=[])
    gen.add_argument("--system", "-m", action="append", default=[])
    gen.add_argument("--job", "-j", help="every (suite, system) pair of a job (instead of --suite/--system)")
    gen.add_argument("--shard", help="K/N: only every N-th item starting at the K-th (1 <= K <= N) of each "
                     "suite x system; N processes sharing --out produce everything, then `run` scores it")
    gen.add_argument("--to", help="also copy outputs here as <id>.wav with a manifest.csv (scoreable later)")
    score = sub.add_parser("score", parents=[common, suite_opts, ex],
                           help="score pre-generated audio (folder or manifest) on a suite")
    score.add_argument("--suite", "-s", action="append", default=[], required=True)
    score.add_argument("--path", required=True, help="folder of <id>.wav/.flac or a CSV/TSV/JSON/JSONL manifest")
    score.add_argument("--data-root", help="root for relative manifest paths (default: the manifest's folder)")
    score.add_argument("--label", default="precomputed", help="system name shown in results")
    sub.add_parser("report", parents=[common], help="build the report from the results store "
                   "(other options, e.g. --formats md,html --ci pm, go to the report builder)",
                   epilog=REPORT_OPTIONS, formatter_class=argparse.RawDescriptionHelpFormatter)
    lst = sub.add_parser("list", help="systems, suites, metrics, backbones (one line each)")
    lst.add_argument("kind", nargs="?", choices=("systems", "suites", "metrics", "backbones", "jobs"))
    doc = sub.add_parser("doctor", parents=[common], help="versions, weights files and data folders")
    doc.add_argument("--no-hash", action="store_true", help="check presence only (skip sha256 of large files)")
    sub.add_parser("gate", add_help=False,  # --help reaches reports.gate, which lists every option
                   help="CI gate on results (options go to reports.gate: --baseline, --run ...)")
    mini = sub.add_parser("mini", help="the mini world: `sabench mini train` rebuilds corpus, backbones and "
                          "systems (options go to suites.synthcaps.train_all)")
    mini.add_argument("action", choices=("train",))
    from harness.fetch.cli import add_fetch_parsers

    add_fetch_parsers(sub)  # `weights fetch` / `data fetch`: the only commands that use the network
    from harness.listen.cmd import add_parser as add_listen_parser  # argparse only: stays fast
    add_listen_parser(sub, common)
    return parser


def suite_options(args: argparse.Namespace) -> Any:
    """The `SuiteOptions` the command line gives (empty when none); refused with --job."""
    from harness.suite_options import from_flags

    options = from_flags(args.suite_arg, captions=args.captions, reference_dir=args.reference_dir,
                         missing=args.missing, ids=args.ids)
    if options and getattr(args, "job", None):
        raise UsageError("sabench --job", "suite options apply to --suite only",
                         "set loader_args in the suite files of the job, or use --suite")
    return options


def _data_root(args: argparse.Namespace) -> Path | None:
    from harness.paths import data_root

    return data_root(args.data)


# ------------------------------------------------------------------------------- commands

def cmd_run(args: argparse.Namespace) -> int:
    from harness.job import DEFAULT_JOB, Job, JobGroup, load_job

    if args.job and (args.suite or args.system):
        raise UsageError("sabench run", "--job cannot be combined with --suite/--system",
                         "put the extra suites/systems into the job file, or drop --job")
    if args.suite or args.system:
        if not args.suite or not args.system:
            raise UsageError("sabench run", "needs both --suite and --system (or neither: the mini leaderboard)",
                             "add the missing option, e.g. --suite NAME --system NAME")
        job = Job("command-line", "command line", (JobGroup(tuple(args.suite), tuple(args.system)),))
    else:
        job = load_job(args.job or DEFAULT_JOB)
    aborted: list[str] = []
    evaluated = _evaluate(args, job, aborted=aborted)
    results = [r for _, _, r in evaluated]
    print_summary(results)
    if not args.no_report and results:
        labels = {r.run_id: lab for suite, spec, r in evaluated if (lab := job.label(suite, spec))}
        if labels:
            from harness.results import ResultsStore

            ResultsStore(Path(args.out) / "results.sqlite").put_labels(labels)
        _build_report(args, quiet_missing=True, runs=results, compare_to=report_baseline(job, results),
                      labels=labels or None)
    return exit_status(results, aborted)


def report_baseline(job: Any, results: list[Any]) -> str | None:
    """The job's `compare_to` when one of the runs is of that system (else no paired section)."""
    return job.compare_to if any(r.system.name == job.compare_to for r in results) else None


def resolve(args: argparse.Namespace, job: Any, built: dict[str, Any] | None = None) -> tuple[list, dict, dict]:
    """(pairs, {suite: spec with the command line's suite options}, {system spec: System}):
    everything the command line names, checked before any work.
    Systems are built once per spec (`built`: already-made systems by spec); no weights read."""
    from harness.suite import load_suite
    from harness.suite_options import apply_options

    options = suite_options(args)
    pairs = job.pairs()
    specs = {s: apply_options(load_suite(s), options) for s, _ in pairs}
    systems = {m: (built or {}).get(m) or make_system(m) for _, m in pairs}
    args.score_device = _score_device(args)
    return pairs, specs, systems


def capable(spec: Any, system: Any) -> bool:
    return spec.task in getattr(system, "capabilities", frozenset({"generate"}))


def _evaluate(args: argparse.Namespace, job: Any, built: dict[str, Any] | None = None,
              aborted: list[str] | None = None) -> list[tuple[str, str, Any]]:
    """(suite, system spec, RunResult) for every (suite, system) pair of the job, in order.
    With the job's `skip_incapable` a system that cannot do a suite's task is skipped (noted).
    With --keep-going a pair that cannot start (missing weights or data) is noted in `aborted`
    and the job goes on with the next pair; without it, the error stops the job."""
    from harness.progress import note
    from harness.results import ResultsStore
    from harness.runner import run_suite

    pairs, specs, systems = resolve(args, job, built)
    executor = executor_for(args)  # local, or Ray (connected before any run; closed by main)
    out = Path(args.out)
    store = ResultsStore(out / "results.sqlite")
    results = []
    for suite, sys_spec in pairs:
        spec, system = specs[suite], systems[sys_spec]
        if job.skip_incapable and not capable(spec, system):
            note(f"skip {spec.name} x {system.name}: cannot {spec.task}", show=not args.quiet)
            continue
        note(f"run {spec.name} x {system.name}", show=not args.quiet)
        try:
            run = run_suite(spec, system, out_dir=out, results=store, keep_going=args.keep_going,
                            limit=args.limit, progress=not args.quiet, data_root=_data_root(args),
                            score_device=args.score_device, executor=executor)
        except UsageError:
            raise
        except SabenchError as exc:
            if not args.keep_going or aborted is None:
                raise
            aborted.append(f"{spec.name} x {sys_spec}: {exc}")
            note(f"not run {spec.name} x {system.name}: {exc}", show=True)
            continue
        results.append((suite, sys_spec, run))
    return results


def _score_device(args: argparse.Namespace) -> str | None:
    value = getattr(args, "score_device", None)
    if not value:
        return None
    from harness.devices import resolve_device

    return resolve_device("--score-device", value)


def cmd_generate(args: argparse.Namespace) -> int:
    from harness.generate_cmd import generate

    return generate(args, resolve)


def cmd_score(args: argparse.Namespace) -> int:
    from harness.job import Job, JobGroup
    from systems.precomputed import PrecomputedSystem

    if not Path(args.path).exists():
        raise UsageError(args.path, "not found", "give a folder of <id>.wav files or a manifest (id,path)")
    system = PrecomputedSystem(args.path, data_root=args.data_root, label=args.label)
    job = Job("score", "score", (JobGroup(tuple(args.suite), (args.label,)),))
    aborted: list[str] = []
    results = [r for _, _, r in _evaluate(args, job, {args.label: system}, aborted=aborted)]
    print_summary(results)
    return exit_status(results, aborted)


def _build_report(args: argparse.Namespace, quiet_missing: bool = False, rest: list[str] | None = None,
                  runs: list[Any] | None = None, compare_to: str | None = None, labels: dict | None = None) -> int:
    """`reports.build_report(runs or the results store, --out, *rest)`; skipped if absent."""
    try:  # reports.build_report, imported from its module (robust to a stale editable install)
        from reports.build import build_report as build
    except ModuleNotFoundError as exc:
        if exc.name not in ("reports", "reports.build"):
            raise
        if not quiet_missing:
            print("sabench: the report builder (reports.build_report) is not available in this checkout",
                  file=sys.stderr)
        return 0
    from harness.results import ResultsStore

    out = Path(args.out)
    extra: dict[str, Any] = {"compare_to": compare_to} if compare_to else {}
    if labels:
        extra["labels"] = labels
    store = ResultsStore(out / "results.sqlite", read_only=runs is None)  # `report` only reads
    if runs is not None:  # this invocation's runs; their audio comes from the same store
        from reports.build import stored_audio

        extra["audio_for"], extra["prompts"] = stored_audio(store)
    if runs is None and "labels" not in extra and (stored := store.labels()):
        extra["labels"] = stored                                  # a job's row labels, kept
    paths = build(runs if runs is not None else store, out, *(rest or []), **extra)
    for fmt, path in dict(paths or {}).items():
        print(f"report ({fmt}): {path}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    if not (Path(args.out) / "results.sqlite").is_file():
        raise UsageError(str(Path(args.out) / "results.sqlite"), "no results store here",
                           "run `sabench run` first, or pass --out to the run folder")
    return _build_report(args, rest=args.rest)


def cmd_list(args: argparse.Namespace) -> int:
    from harness.registry import BACKBONES, METRICS, SUITES, SYSTEMS, load_catalog

    load_catalog()
    kinds = {"systems": SYSTEMS, "suites": SUITES, "metrics": METRICS, "backbones": BACKBONES}
    for kind, reg in kinds.items():
        if args.kind and args.kind != kind:
            continue
        print(f"{kind}:")
        for name in reg.names():
            print(f"  {name:<24} {reg.help(name)}".rstrip())
    if args.kind in (None, "jobs"):
        from harness.job import job_names, job_title

        print("jobs:")
        for name in job_names():
            print(f"  {name:<24} {job_title(name)}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from harness.doctor import run_doctor

    return run_doctor(args.weights, args.data, hash_files=not args.no_hash)


def cmd_gate(args: argparse.Namespace) -> int:
    try:
        from reports import gate
    except ImportError as exc:
        raise SabenchError("sabench gate", "the gate (reports.gate) is not available in this checkout",
                           "use `sabench report` for now") from exc
    return int(gate.main(args.rest) or 0)


def cmd_fetch(args: argparse.Namespace) -> int:
    from harness.fetch.cli import run_fetch

    return run_fetch(args)


def cmd_mini(args: argparse.Namespace) -> int:
    from harness.registry import TRAINERS, load_catalog

    load_catalog()                                  # the mini world registers its trainer
    return int(TRAINERS.get("mini")(args.rest) or 0)


PASS_THROUGH = ("report", "gate", "mini")
REPORT_OPTIONS = """report options (handed to reports.build):
  --formats LIST        comma-separated: md,tex,csv,json,html,plots (default: all)
  --title TEXT          report title
  --ci {pm,interval}    show bootstrap CIs as value ± half-width or [lo, hi]
  --mixing {refuse,footnote}
                        rows differing in conventions: refuse the table (default) or footnote them
  --compare-to NAME     baseline system (label or name) for paired differences"""
"""Commands whose unknown options are handed to the delegate (reports.build_report / reports.gate)."""

def cmd_listen(args: argparse.Namespace) -> int:
    from harness.listen.cmd import cmd_listen as listen  # harness/listen/cmd.py
    return listen(args)


HANDLERS = {"run": cmd_run, "generate": cmd_generate, "score": cmd_score, "report": cmd_report,
            "list": cmd_list, "doctor": cmd_doctor, "gate": cmd_gate, "mini": cmd_mini,
            "weights": cmd_fetch, "data": cmd_fetch, "listen": cmd_listen}


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit code (see the module docstring)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help")):
        argv = ["run", *argv]  # the main command, with no arguments, runs the mini leaderboard
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if rest and args.command not in PASS_THROUGH:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    args.rest = rest
    from harness.progress import format_warning, set_quiet

    shown = warnings.formatwarning
    warnings.formatwarning = format_warning  # one line each; "sabench: warning" only for our own
    set_quiet(bool(getattr(args, "quiet", False)))
    try:
        _setup(args)
        return HANDLERS[args.command](args)
    except SabenchError as exc:
        if os.environ.get("SABENCH_DEBUG"):
            raise  # SABENCH_DEBUG=1: the full traceback, for developers
        print(f"sabench: error: {exc.one_line()}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `sabench doctor | head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as exc:  # disk full, permission denied, read-only --out ...: one line, not a traceback
        if os.environ.get("SABENCH_DEBUG"):
            raise
        from harness.errors import describe_os_error

        print(f"sabench: error: {describe_os_error(exc, getattr(args, 'out', None)).one_line()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("sabench: interrupted (completed samples and metrics are kept; rerun to resume)", file=sys.stderr)
        return 130
    finally:
        close_executor(args)  # a Ray connection this command opened
        warnings.formatwarning = shown
        set_quiet(False)


def _setup(args: argparse.Namespace) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if getattr(args, "weights", None):
        os.environ["SABENCH_WEIGHTS"] = str(args.weights)  # read by harness.paths.weights_root
    if getattr(args, "allow_code", False):
        from harness.suite import allow_code

        allow_code()  # the user's trust decision (docs/trust.md)
    if getattr(args, "limit", None) is not None and args.limit < 1:
        raise UsageError(f"--limit {args.limit}", "must be at least 1", "pass a positive number")


if __name__ == "__main__":
    sys.exit(main())
