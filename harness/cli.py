"""`sabench`: the command line.

    sabench                                   # = sabench run: the mini leaderboard + report
    sabench run --suite audiocaps --system tangoflux --system precomputed:path=out/x
    sabench run --job paper --weights W --data D   # a job file: suites/jobs/paper.yaml
    sabench generate --suite ttabench --system sine --to outputs/sine/
    sabench score --suite ttabench --path outputs/sine/        # pre-generated files, by id
    sabench report | list [kind] | doctor | gate ...
    sabench mini train [--quick]              # rebuild the mini world (corpus, backbones, systems)

Systems are given as `name` or `name:key=value,key=value` (values parsed as YAML scalars).
Every import beyond argparse happens inside a command, so `sabench --help` and
`sabench list` stay fast and never import torch. A `SabenchError` prints one line on
stderr and exits 2; any other exception keeps its traceback (it is a bug).
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path
from typing import Any

from harness.errors import SabenchError

COMMANDS = ("run", "generate", "score", "report", "list", "doctor", "gate", "mini", "listen")


# ------------------------------------------------------------------------------- parsing

def _common() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("common options")
    g.add_argument("--out", default="sabench-out", help="run folder: artifacts + results.sqlite (default ./sabench-out)")
    g.add_argument("--weights", help="weights directory (else $SABENCH_WEIGHTS)")
    g.add_argument("--data", help="data root the suite loaders read (else ../shared/data when present)")
    g.add_argument("--keep-going", action="store_true", help="record failing items and finish the others")
    g.add_argument("--limit", type=int, help="only the first N prompts of each suite")
    g.add_argument("--quiet", action="store_true", help="no progress bars or status lines")
    g.add_argument("--score-device", help="device of the metric backbones: cpu (default), cuda, cuda:N, auto")
    g.add_argument("--allow-code", action="store_true", help="trust suite files to name any loader "
                   "'module:function' (else only the project's suites.*; docs/trust.md); = SABENCH_ALLOW_CODE=1")
    return p


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = argparse.ArgumentParser(prog="sabench", description="Benchmark text-to-audio generation and editing.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = sub.add_parser("run", parents=[common], help="evaluate suite(s) x system(s); no arguments: the mini leaderboard")
    run.add_argument("--suite", "-s", action="append", default=[], help="suite name or suite.yaml (repeatable)")
    run.add_argument("--system", "-m", action="append", default=[], help="name[:k=v,...] (repeatable)")
    run.add_argument("--job", "-j", help="a job: name in suites/jobs/ or a YAML path (suites x systems groups); "
                     "no --job/--suite/--system: the 'mini' job")
    run.add_argument("--no-report", action="store_true", help="print the summary only")
    gen = sub.add_parser("generate", parents=[common], help="generate samples only (artifact store / a folder)")
    gen.add_argument("--suite", "-s", action="append", default=[])
    gen.add_argument("--system", "-m", action="append", default=[])
    gen.add_argument("--job", "-j", help="every (suite, system) pair of a job (instead of --suite/--system)")
    gen.add_argument("--shard", help="K/N: only every N-th item starting at the K-th (1 <= K <= N) of each "
                     "suite x system; N processes sharing --out produce everything, then `run` scores it")
    gen.add_argument("--to", help="also copy outputs here as <id>.wav with a manifest.csv (scoreable later)")
    score = sub.add_parser("score", parents=[common], help="score pre-generated audio (folder or manifest) on a suite")
    score.add_argument("--suite", "-s", action="append", default=[], required=True)
    score.add_argument("--path", required=True, help="folder of <id>.wav/.flac or a CSV/TSV/JSON/JSONL manifest")
    score.add_argument("--data-root", help="root for relative manifest paths (default: the manifest's folder)")
    score.add_argument("--label", default="precomputed", help="system name shown in results")
    sub.add_parser("report", parents=[common], help="build the report from the results store "
                   "(other options, e.g. --formats md,html --ci pm, go to the report builder)")
    lst = sub.add_parser("list", help="systems, suites, metrics, backbones (one line each)")
    lst.add_argument("kind", nargs="?", choices=("systems", "suites", "metrics", "backbones", "jobs"))
    doc = sub.add_parser("doctor", parents=[common], help="versions, weights files and data folders")
    doc.add_argument("--no-hash", action="store_true", help="check presence only (skip sha256 of large files)")
    sub.add_parser("gate", help="CI gate on results (options go to reports.gate: --baseline, --run ...)")
    mini = sub.add_parser("mini", help="the mini world: `sabench mini train` rebuilds corpus, backbones and "
                          "systems (options go to suites.synthcaps.train_all)")
    mini.add_argument("action", choices=("train",))
    from harness.listen.cmd import add_parser as listen_parser  # argparse only: stays fast

    listen_parser(sub, common)
    return parser


def parse_system(spec: str) -> tuple[str, dict[str, Any]]:
    """"name" or "name:k=v,k=v" -> (name, params); values are YAML scalars ("4" -> 4)."""
    import yaml

    name, _, rest = spec.partition(":")
    params: dict[str, Any] = {}
    for part in filter(None, rest.split(",")):
        key, eq, value = part.partition("=")
        if not eq or not key.strip():
            raise SabenchError(f"--system {spec}", f"bad parameter {part!r}", "write name:key=value,key=value")
        params[key.strip()] = yaml.safe_load(value) if value.strip() else ""
    return name.strip(), params


def make_system(spec: str) -> Any:
    from harness.registry import SYSTEMS, load_catalog

    load_catalog()
    name, params = parse_system(spec)
    cls = SYSTEMS.get(name)
    try:
        return cls(**params)
    except TypeError as exc:
        raise SabenchError(f"--system {spec}", f"bad parameters ({exc})", "see the system's docstring") from exc


def _data_root(args: argparse.Namespace) -> Path | None:
    if args.data:
        return Path(args.data)
    from harness.paths import shared_root

    root = shared_root()
    return root / "data" if root is not None and (root / "data").is_dir() else None


# ------------------------------------------------------------------------------- commands

def cmd_run(args: argparse.Namespace) -> int:
    from harness.job import DEFAULT_JOB, Job, JobGroup, load_job

    if args.job and (args.suite or args.system):
        raise SabenchError("sabench run", "--job cannot be combined with --suite/--system",
                           "put the extra suites/systems into the job file, or drop --job")
    if args.suite or args.system:
        if not args.suite or not args.system:
            raise SabenchError("sabench run", "needs both --suite and --system (or neither: the mini leaderboard)",
                               "add the missing option, e.g. --suite NAME --system NAME")
        job = Job("command-line", "command line", (JobGroup(tuple(args.suite), tuple(args.system)),))
    else:
        job = load_job(args.job or DEFAULT_JOB)
    aborted: list[str] = []
    evaluated = _evaluate(args, job, aborted=aborted)
    results = [r for _, _, r in evaluated]
    _print_summary(results)
    if not args.no_report:
        labels = {r.run_id: lab for suite, spec, r in evaluated if (lab := job.label(suite, spec))}
        if labels:
            from harness.results import ResultsStore

            ResultsStore(Path(args.out) / "results.sqlite").put_labels(labels)
        _build_report(args, quiet_missing=True, runs=results, compare_to=report_baseline(job, results),
                      labels=labels or None)
    empty = [f"{r.suite} x {r.system.name}" for r in results if not r.aggregates]
    if empty:
        print(f"sabench: no metric produced a number for: {', '.join(empty)}", file=sys.stderr)
    for line in aborted:
        print(f"sabench: not run: {line}", file=sys.stderr)
    return 1 if empty or aborted else 0


def report_baseline(job: Any, results: list[Any]) -> str | None:
    """The job's `compare_to` when one of the runs is of that system (else no paired section)."""
    return job.compare_to if any(r.system.name == job.compare_to for r in results) else None


def _evaluate(args: argparse.Namespace, job: Any, built: dict[str, Any] | None = None,
              aborted: list[str] | None = None) -> list[tuple[str, str, Any]]:
    """(suite, system spec, RunResult) for every (suite, system) pair of the job, in order;
    systems are built once per spec (`built`: already-made systems by spec). With the job's
    `skip_incapable` a system that cannot do a suite's task is skipped (noted). With
    --keep-going a pair that cannot start (missing weights or data) is noted in `aborted`
    and the job goes on with the next pair; without it, the error stops the job."""
    from harness.progress import note
    from harness.results import ResultsStore
    from harness.runner import run_suite
    from harness.suite import load_suite

    out = Path(args.out)
    store = ResultsStore(out / "results.sqlite")
    score_device = _score_device(args)
    pairs = job.pairs()
    specs = {s: load_suite(s) for s, _ in pairs}                 # every suite validated up front
    systems = {m: (built or {}).get(m) or make_system(m) for _, m in pairs}  # no weights read yet
    results = []
    for suite, sys_spec in pairs:
        spec, system = specs[suite], systems[sys_spec]
        if job.skip_incapable and spec.task not in getattr(system, "capabilities", frozenset({"generate"})):
            note(f"skip {spec.name} x {system.name}: cannot {spec.task}", show=not args.quiet)
            continue
        note(f"run {spec.name} x {system.name}", show=not args.quiet)
        try:
            run = run_suite(spec, system, out_dir=out, results=store, keep_going=args.keep_going,
                            limit=args.limit, progress=not args.quiet, data_root=_data_root(args),
                            score_device=score_device)
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


def _print_summary(results: list[Any]) -> None:
    for r in results:
        print(f"{r.suite} v{r.suite_version} [{r.profile}] x {r.system.name}  (run {r.run_id})")
        for a in r.aggregates:
            ci = f"  [{a.ci_low:.4g}, {a.ci_high:.4g}]" if a.ci_low is not None else ""
            print(f"  {a.metric:<28} {a.value:.6g}{ci}  n={a.n}")
        if r.failures:
            print(f"  {len(r.failures)} failure(s):")
            for f in r.failures[:20]:
                print(f"    {f.item_id} [{f.stage}] {f.message}")


def cmd_generate(args: argparse.Namespace) -> int:
    from harness.generate_cmd import generate

    return generate(args)


def cmd_score(args: argparse.Namespace) -> int:
    from systems.precomputed import PrecomputedSystem

    if not Path(args.path).exists():
        raise SabenchError(args.path, "not found", "give a folder of <id>.wav files or a manifest (id,path)")
    from harness.job import Job, JobGroup

    system = PrecomputedSystem(args.path, data_root=args.data_root, label=args.label)
    job = Job("score", "score", (JobGroup(tuple(args.suite), (args.label,)),))
    res = [r for _, _, r in _evaluate(args, job, {args.label: system})]
    _print_summary(res)
    return 1 if any(r.failures for r in res) or not res else 0


def _build_report(args: argparse.Namespace, quiet_missing: bool = False, rest: list[str] | None = None,
                  runs: list[Any] | None = None, compare_to: str | None = None, labels: dict | None = None) -> int:
    """`reports.build_report(runs or the results store, --out, *rest)`; skipped if absent."""
    try:  # reports.build_report, imported from its module (robust to a stale editable install)
        from reports.build import build_report as build
    except ModuleNotFoundError as exc:
        if exc.name not in ("reports", "reports.build"):
            raise
        build = None
    if build is None:
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
        raise SabenchError(str(Path(args.out) / "results.sqlite"), "no results store here",
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


def cmd_mini(args: argparse.Namespace) -> int:
    from suites.synthcaps import train_all

    return int(train_all.main(args.rest) or 0)


PASS_THROUGH = ("report", "gate", "mini")
"""Commands whose unknown options are handed to the delegate (reports.build_report / reports.gate)."""

def cmd_listen(args: argparse.Namespace) -> int:
    from harness.listen.cmd import cmd_listen as listen

    return listen(args)


HANDLERS = {"listen": cmd_listen, "run": cmd_run, "generate": cmd_generate, "score": cmd_score, "report": cmd_report,
            "list": cmd_list, "doctor": cmd_doctor, "gate": cmd_gate, "mini": cmd_mini}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help")):
        argv = ["run", *argv]  # the main command, with no arguments, runs the mini leaderboard
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if rest and args.command not in PASS_THROUGH:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    args.rest = rest
    shown = warnings.formatwarning
    warnings.formatwarning = lambda msg, cat, *a, **k: f"sabench: warning: {msg}\n"  # one line each
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
        warnings.formatwarning = shown


def _setup(args: argparse.Namespace) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if getattr(args, "weights", None):
        os.environ["SABENCH_WEIGHTS"] = str(args.weights)  # read by harness.paths.weights_root
    if getattr(args, "allow_code", False):
        from harness.suite import allow_code

        allow_code()  # the user's trust decision (docs/trust.md)
    if getattr(args, "limit", None) is not None and args.limit < 1:
        raise SabenchError(f"--limit {args.limit}", "must be at least 1", "pass a positive number")


if __name__ == "__main__":
    sys.exit(main())
