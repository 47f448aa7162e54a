"""`sabench listen`: build listening studies from stored runs, serve them, export/import, analyse.

    sabench listen --job mini --serve              # one study per generation/editing suite, then serve
    sabench listen --run RUN_A --run RUN_B --type ab --study ab1 --items 20
    sabench listen --design study.yaml             # a design file (harness.listen.design.Design keys)
    sabench listen --study S --add-raters 5        # more rater links
    sabench listen --study S --export ratings.csv | --export-trials trials.csv | --import crowd.csv
    sabench listen --summary                       # MOS / A/B / agreement of every study
    sabench listen --study S --simulate 20         # simulated raters over loopback HTTP (demo)

Studies that already exist are reused as they are (their design and draw never change).
Rater links are printed and written to <out>/listen/<study>/raters.csv (owner-only).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from harness.errors import SabenchError

TASK_TYPES = {"generate": "mos", "edit": "mos-edit"}


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("listen", parents=[common], help="listening tests (MOS, edit MOS, A/B) on stored runs: "
                       "build, serve (--serve), export/import, summarise")
    p.add_argument("--job", "-j", help="rate the stored runs of this job's suites (default: every stored run)")
    p.add_argument("--run", action="append", default=[], help="run id, system name or row label (repeatable)")
    p.add_argument("--suite", "-s", help="only this suite's runs; also where references/sources come from")
    p.add_argument("--design", help="design file (YAML): study, type, runs, items, seed, raters, references, "
                   "anchors, attention, per_rater, min_play, lufs, suite")
    p.add_argument("--study", help="study name (default <type>-<suite>)")
    p.add_argument("--type", choices=("mos", "mos-edit", "ab"), help="default: mos (generation), mos-edit (editing)")
    p.add_argument("--items", type=int, help="items per system (default 30; seeded, recorded draw)")
    p.add_argument("--raters", type=int, help="raters' target count: links made up front (default 20)")
    p.add_argument("--seed", type=int)
    p.add_argument("--per-rater", type=int, dest="per_rater", help="main trials per rater (default all)")
    p.add_argument("--min-play", type=float, dest="min_play", help="fraction of a clip to play first (default 1)")
    p.add_argument("--lufs", type=float, help="playback loudness (default -23 LUFS)")
    p.add_argument("--references", type=int)
    p.add_argument("--anchors", type=int)
    p.add_argument("--attention", type=int)
    p.add_argument("--add-raters", type=int, default=0, dest="add_raters", help="make N more rater links")
    p.add_argument("--serve", action="store_true", help="run the web server (Ctrl-C stops it)")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1; see docs/listening.md "
                   "for a reverse proxy)")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--base-url", dest="base_url", help="public URL in rater links (behind a proxy)")
    p.add_argument("--export", help="write the de-identified ratings CSV of --study")
    p.add_argument("--export-trials", dest="export_trials", help="write the trial list of --study (crowd platforms)")
    p.add_argument("--import", dest="import_csv", help="import a crowd platform's ratings CSV into --study")
    p.add_argument("--summary", action="store_true", help="print MOS / A/B / agreement per study")
    p.add_argument("--simulate", type=int, default=0, help="demo: N simulated raters over loopback HTTP")
    p.add_argument("--means", default="", help="with --simulate: condition=mean,... (run id or label)")


def _select_runs(results: Any, args: argparse.Namespace) -> list[Any]:
    runs = results.runs()
    if args.job:
        from harness.job import load_job

        suites = {s for s, _ in load_job(args.job).pairs()}
        names = set()
        for s in suites:
            from harness.suite import load_suite

            names.add(load_suite(s).name)
        runs = [r for r in runs if r.suite in names]
    if args.suite:
        from harness.suite import load_suite

        name = load_suite(args.suite).name
        runs = [r for r in runs if r.suite == name]
    if args.run:
        labels = results.labels()
        picked = []
        for sel in args.run:
            hit = [r for r in runs if sel in (r.run_id, r.system.name, labels.get(r.run_id))]
            if len(hit) != 1:
                problem = "matches no stored run" if not hit else f"matches {len(hit)} runs"
                raise SabenchError(f"--run {sel}", problem,
                                   "pass a run id (see `sabench listen --summary` or the report)")
            picked.append(hit[0])
        runs = picked
    latest: dict[tuple, Any] = {}
    for r in runs:                                            # latest run per (suite, system identity)
        latest[(r.suite, r.system.fingerprint())] = r
    return list(latest.values())


def _designs(results: Any, args: argparse.Namespace, base: dict[str, Any]) -> list[Any]:
    """One Design per suite of the selected runs (generation -> mos, editing -> mos-edit)."""
    from harness.listen.design import Design

    by_suite: dict[str, list[Any]] = {}
    for r in _select_runs(results, args):
        by_suite.setdefault(r.suite, []).append(r)
    out = []
    for suite, runs in by_suite.items():
        task = runs[0].plan.task if runs[0].plan is not None else "generate"
        kind = base.get("type") or TASK_TYPES.get(task)
        if kind is None:
            continue                                          # reconstruction: not rated by default
        fields = {**base, "type": kind, "study": base.get("study") or f"{kind}-{suite}",
                  "runs": tuple(r.run_id for r in runs)}
        if args.suite and not fields.get("suite"):
            fields["suite"] = args.suite
        out.append(Design(**fields).validate())
    if base.get("study") and len(out) > 1:
        raise SabenchError(f"--study {base['study']}", f"the selected runs span {len(out)} suites",
                           "add --suite NAME (one study per suite)")
    return out


def _base(args: argparse.Namespace) -> dict[str, Any]:
    keys = ("study", "type", "items", "seed", "raters", "per_rater", "min_play", "lufs", "references",
            "anchors", "attention")
    given = {k: getattr(args, k) for k in keys if getattr(args, k) is not None}
    if args.design:
        from harness.listen.design import load_design

        data = load_design(args.design, **given)
        if data.get("runs"):
            args.run = list(args.run) + [str(x) for x in data.pop("runs")]
        return data
    return given


def _write_links(out: Path, study: str, tokens: list[str], base_url: str) -> Path:
    from harness.paths import atomic_write_bytes

    path = out / "listen" / study / "raters.csv"
    old = path.read_text(encoding="utf-8") if path.is_file() else "token,link\n"
    new = "".join(f"{t},{base_url.rstrip('/')}/r/{t}\n" for t in tokens)
    atomic_write_bytes(path, (old + new).encode("utf-8"))
    os.chmod(path, 0o600)
    return path


def cmd_listen(args: argparse.Namespace) -> int:
    from harness.listen.store import ListenStore

    out = Path(args.out)
    db = out / "results.sqlite"
    if not db.is_file():
        raise SabenchError(str(db), "no results store here", "run `sabench run` first, or pass --out to the run folder")
    store = ListenStore(db)
    base_url = args.base_url or f"http://{args.host}:{args.port}"
    reading = bool(args.summary or args.export or args.export_trials or args.import_csv) and not args.serve
    if args.study and store.design_json(args.study) is not None:
        studies = [args.study]
    elif reading:
        if args.study:
            raise SabenchError(f"study {args.study}", "not in this results store",
                               f"use one of: {', '.join(store.studies()) or '(none yet)'}")
        studies = store.studies()
    else:
        studies = _build(args, store, db, out, base_url)
    return _actions(args, store, studies or store.studies(), out, base_url)


def _build(args: argparse.Namespace, store: Any, db: Path, out: Path, base_url: str) -> list[str]:
    """The studies of the selected runs, built where they do not exist yet (existing ones reused)."""
    from harness.listen.design import add_raters, build_study
    from harness.progress import note
    from harness.results import ResultsStore

    studies = []
    for design in _designs(ResultsStore(db), args, _base(args)):
        if store.design_json(design.study) is None:
            note(f"building study {design.study}: {len(design.runs)} systems, preparing clips", show=not args.quiet)
            stored = build_study(db, design, out / "listen" / design.study / "clips", _data_root(args))
            tokens = add_raters(store, design.study, stored["raters"])
            path = _write_links(out, design.study, tokens, base_url)
            print(f"study {design.study}: {len(store.trials(design.study))} trials, "
                  f"{len(stored['draw'])} items per system; {len(tokens)} rater links in {path}")
        studies.append(design.study)
    if not studies:
        raise SabenchError(str(db), "no generation or editing runs to rate",
                           "run `sabench run` first, or pick runs with --run / --suite")
    return studies


def _actions(args: argparse.Namespace, store: Any, studies: list[str], out: Path, base_url: str) -> int:
    from harness.listen import exchange
    from harness.listen.analysis import format_summary, summarize
    from harness.listen.design import add_raters

    one = args.study or (studies[0] if len(studies) == 1 else None)
    needs_one = args.export or args.export_trials or args.import_csv or args.add_raters
    if needs_one:
        if one is None:
            raise SabenchError("sabench listen", f"{len(studies)} studies in this store: {', '.join(studies)}",
                               "name one with --study")
        if args.add_raters:
            tokens = add_raters(store, one, args.add_raters)
            print(f"{len(tokens)} new rater links in {_write_links(out, one, tokens, base_url)}")
        if args.import_csv:
            print(f"imported {exchange.import_ratings(store, one, Path(args.import_csv))} ratings into {one}")
        if args.export:
            print(f"wrote {exchange.export_ratings(store, one, Path(args.export))} ratings to {args.export}")
        if args.export_trials:
            print(f"wrote {exchange.export_trials(store, one, Path(args.export_trials))} trials to "
                  f"{args.export_trials}; clips: {out / 'listen' / one / 'clips'}")
    for study in ([one] if one else studies) if args.simulate else []:
        _simulate(store, study, args.simulate, args.means)
    if args.summary or args.simulate:
        for s in studies if not one else [one]:
            print(format_summary(summarize(store, s)))
    if args.serve:
        from harness.listen.server import serve

        for s in studies:
            print(f"study {s}: rater links in {out / 'listen' / s / 'raters.csv'}")
        print(f"serving on http://{args.host}:{args.port}/ (Ctrl-C stops; ratings are saved as they come)")
        serve(store.path, args.host, args.port, quiet=args.quiet)
    return 0


def _simulate(store: Any, study: str, n: int, means_text: str) -> None:
    from harness.listen import simulate as sim
    from harness.listen.design import add_raters

    design = store.design_json(study)
    means = sim.default_means(design, sim.parse_means(means_text))
    tokens = add_raters(store, study, min(n, sim.MAX_RATERS))
    with sim.BackgroundServer(store.path) as url:
        res = sim.simulate(url, tokens, sim.truth(store, study, means), seed=design["seed"])
    print(f"study {study}: simulated {res.raters} raters: {res.accepted} ratings accepted, {res.refused} refused")
    print("  true means: " + ", ".join(f"{design['labels'].get(k, k)}={v:g}" for k, v in means.items()))


def _data_root(args: argparse.Namespace) -> Path | None:
    from harness.paths import data_root

    return data_root(args.data)


__all__ = ["add_parser", "cmd_listen"]
