"""`build_report`: runs -> tables (paper layouts where they apply) -> files in every format.

Runs are grouped by (suite, suite version, profile), so different suite versions or profiles
never share a table. Real-profile runs of the four paper suites get the paper's layout
(Tables 1-4; Table 6 per editing run); anything else (the mini profile included) gets a
leaderboard whose columns come from the runs' own metrics. Every table shows n where it
differs from the suite's, notes `--limit`, failures, missing metrics and mini backbones, and
never ranks rows of different n (`reports.provenance`; `mixing` is about conventions, not n).
The Markdown and HTML reports end with a "Failures" section per run (first `MAX_FAILURES`).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.errors import SabenchError
from harness.item_ids import prompt_of
from harness.paths import atomic_write_bytes
from harness.records import Audio, Prompt, RunResult
from reports import html as H
from reports import render
from reports.listening import listening_html
from reports.paired import paired_table
from reports.serialize import run_to_dict
from reports.tables import PAPER_TABLES, MosCells, Table, build_table, leaderboard, run_labels, table6

FORMATS = ("md", "tex", "csv", "json", "html", "plots")
MAX_FAILURES = 50
"""Failures listed per run in the Markdown and HTML reports (the JSON has them all)."""
AudioFor = Callable[[RunResult, str], "str | Path | Audio | None"]


class ReportPaths(dict):
    """format -> path; `str()` gives the main file (HTML if written, else the first)."""

    def main(self) -> Path | None:
        return self.get("html") or next(iter(self.values()), None)

    def __str__(self) -> str:
        return str(self.main())


def group_runs(runs: Sequence[RunResult]) -> list[list[RunResult]]:
    groups: dict[tuple[str, str, str], list[RunResult]] = {}
    for r in runs:
        groups.setdefault((r.suite, r.suite_version, r.profile), []).append(r)
    return list(groups.values())


def tables_for(runs: Sequence[RunResult], mixing: str = "refuse", labels=None,
               mos: MosCells | None = None) -> list[Table]:
    out: list[Table] = []
    for group in group_runs(runs):
        first = group[0]
        spec = PAPER_TABLES.get(first.suite) if first.profile == "real" else None
        if spec is None:
            out.append(leaderboard(group, labels, mixing, mos=mos))
            continue
        out.append(build_table(group, spec, labels, mixing, mos))
        if first.suite == "editing":
            for run in group:
                try:
                    out.append(table6(run))
                except SabenchError:
                    pass  # items without editing-suite ids: no per-category table
    return out


def paired_tables(runs: Sequence[RunResult], compare_to: str, labels=None, strict: bool = True) -> list[Table]:
    """A "Paired differences vs <compare_to>" table per (suite, version, profile) holding the
    baseline; refused when no group has it."""
    out = [t for group in group_runs(runs) if (t := paired_table(group, compare_to, labels=labels, strict=strict)).rows]
    if not out and not any(_has(group, compare_to, labels) for group in group_runs(runs)):
        names = sorted({n for g in group_runs(runs) for n in run_labels(g, labels)})
        raise SabenchError(f"compare_to {compare_to!r}", "matches no system in the runs",
                           f"use one of: {', '.join(names)}")
    return out


def _has(group: Sequence[RunResult], name: str, labels) -> bool:
    return name in run_labels(group, labels) or any(name in (r.system.name, r.run_id) for r in group)


def _parse_argv(argv: Sequence[str]) -> dict[str, Any]:
    ap = argparse.ArgumentParser(prog="sabench report")
    ap.add_argument("--formats", default=",".join(FORMATS), help="comma-separated: " + ",".join(FORMATS))
    ap.add_argument("--title", default=None)
    ap.add_argument("--ci", choices=("pm", "interval"), default=None, help="show bootstrap CIs")
    ap.add_argument("--mixing", choices=("refuse", "footnote"), default="refuse")
    ap.add_argument("--compare-to", default=None, help="baseline system (label or name) for paired differences")
    ns = ap.parse_args(list(argv))
    out = {"formats": tuple(f for f in ns.formats.split(",") if f), "ci": ns.ci, "mixing": ns.mixing,
           "compare_to": ns.compare_to}
    if ns.title:
        out["title"] = ns.title
    return out


def build_report(runs: Sequence[RunResult] | Any, out_dir: str | Path, *argv: str,
                 formats: Sequence[str] = FORMATS, title: str = "sabench report",
                 audio_for: AudioFor | None = None, prompts: Sequence[Prompt] | None = None,
                 mixing: str = "refuse", ci: str | None = None, labels=None,
                 mos: MosCells | None = None, max_examples: int = 6,
                 preview_seconds: float = 5.0, compare_to: str | None = None) -> ReportPaths:
    """Write the report files into `out_dir`; returns {format: path}.

    Args:
        runs: RunResults, or a results store (anything with `.runs()`).
        argv: CLI-style options (`--formats md,html --ci pm --mixing footnote --title T`),
            as passed through by `sabench report`.
        audio_for: `(run, prompt_id) -> path | Audio | None`: the audio to embed in the HTML
            examples (None: no players).
        prompts: the prompts whose text the examples show (default: ids of the runs' items).
        compare_to: a baseline system (row label or system name, e.g. "base-model"): adds a
            "Paired differences vs <baseline>" table per suite (`reports.paired`).
    """
    listening: list = []
    if hasattr(runs, "runs") and not isinstance(runs, (list, tuple)):
        if hasattr(runs, "_db"):                      # a results store: listening-test ratings, if any
            from harness.listen.report import report_mos, summaries

            listening = summaries(runs)
            mos = mos if mos is not None else (report_mos(listening) or None)
        if audio_for is None and hasattr(runs, "samples"):
            audio_for, stored_prompts = stored_audio(runs)
            prompts = prompts if prompts is not None else stored_prompts
        runs = runs.runs()
    runs = list(runs)
    if argv:
        opts = _parse_argv(argv)
        formats, ci, mixing = opts["formats"], opts["ci"], opts["mixing"]
        title = opts.get("title", title)
        compare_to = opts["compare_to"] or compare_to
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise SabenchError(bad[0], "unknown report format", f"use {', '.join(FORMATS)}")
    if not runs:
        raise SabenchError("report", "no finished runs to report", "run `sabench run` first")
    profiles = sorted({r.profile for r in runs})
    title = f"{title} (profile: {', '.join(profiles)})"
    tables = tables_for(runs, mixing, labels, mos)
    if compare_to:
        tables += paired_tables(runs, compare_to, labels, strict=mixing == "refuse")
    out = Path(out_dir)
    paths = ReportPaths()
    fails = run_failures(runs, labels)
    writers = {"md": lambda: _md(title, tables, ci, fails),
               "tex": lambda: "".join(render.latex(t, ci) for t in tables),
               "csv": lambda: _long_csv(tables), "json": lambda: _json(title, tables, runs),
               "html": lambda: H.page(title, profiles, tables,
                                      _examples(runs, audio_for, prompts, labels, max_examples, preview_seconds), ci,
                                      failures=fails, listening=listening_html(listening))}
    for fmt in formats:
        if fmt == "plots":
            paths["plots"] = _plots(runs, tables, out / "plots", labels)
            continue
        path = out / f"report.{fmt}"
        atomic_write_bytes(path, writers[fmt]().encode("utf-8"))
        paths[fmt] = path
    return paths


def stored_audio(store: Any) -> tuple[AudioFor, list[Prompt]]:
    """`audio_for` and example prompts from a results store's sample table (the artifacts
    each run produced, with their prompt text); files that no longer exist are skipped."""
    by_run: dict[str, dict[str, tuple[str, str]]] = {}

    def find(run: RunResult, prompt_id: str) -> Path | None:
        if run.run_id not in by_run:
            by_run[run.run_id] = store.samples(run.run_id)
        hit = by_run[run.run_id].get(prompt_id)
        return Path(hit[0]) if hit and Path(hit[0]).is_file() else None

    texts: dict[str, str] = {}
    for run in store.runs():
        for item_id, (_, text) in store.samples(run.run_id).items():
            texts.setdefault(prompt_of(item_id), text)
    return find, [Prompt(i, t) for i, t in sorted(texts.items())]


def folder_audio(folders: Mapping[str, str | Path]) -> AudioFor:
    """An `audio_for` that finds `<folder>/<prompt_id>.wav|.flac` by system name or run id
    (e.g. the folders written by `sabench generate --to`)."""
    roots = {k: Path(v) for k, v in folders.items()}

    def find(run: RunResult, prompt_id: str) -> Path | None:
        root = roots.get(run.run_id) or roots.get(run.system.name)
        if root is None:
            return None
        for ext in (".wav", ".flac"):
            p = root / f"{prompt_id}{ext}"
            if p.is_file():
                return p
        return None

    return find


def run_failures(runs: Sequence[RunResult], labels=None, cap: int = MAX_FAILURES) -> list[H.RunFailures]:
    """Per run with failures (in report order): its label and first `cap` failures."""
    out = []
    for group in group_runs(runs):
        for run, name in zip(group, run_labels(group, labels), strict=True):
            if not run.failures:
                continue
            rows = tuple((f.item_id, f.stage, f.message) for f in run.failures[:cap])
            out.append(H.RunFailures(f"{name} ({run.suite} v{run.suite_version}, run {run.run_id})", rows,
                                     max(0, len(run.failures) - cap)))
    return out


def _md_failures(fails: Sequence[H.RunFailures]) -> str:
    if not fails:
        return ""
    esc = render.md_cell
    lines = ["## Failures", ""]
    for f in fails:
        lines += [f"### {esc(f.label)}", "", "| Item | Stage | Message |", "|---|---|---|"]
        lines += [f"| {esc(i)} | {esc(s)} | {esc(m)} |" for i, s, m in f.rows]
        lines += [f"\n\u2026 and {f.more} more (all in report.json)"] if f.more else []
        lines.append("")
    return "\n".join(lines)


def _md(title: str, tables: Sequence[Table], ci: str | None, fails: Sequence[H.RunFailures] = ()) -> str:
    text = f"# {render.md_text(title)}\n\n" + "\n".join(render.markdown(t, ci) for t in tables)
    return text + ("\n" + _md_failures(fails) if fails else "")


def _long_csv(tables: Sequence[Table]) -> str:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["table", "profile", "suite", "row", "metric", "value", "ci_low", "ci_high", "n", "notes"])
    for t in tables:
        for row in t.rows:
            note = "; ".join(t.footnotes[n - 1] for n in row.notes)
            for c, x in zip(t.columns, row.cells, strict=True):
                nums = [("" if v is None else repr(float(v))) for v in (x.value, x.ci_low, x.ci_high)]
                if x.value is None and x.text is not None:
                    nums[0] = render.csv_text_cell(x.text)
                w.writerow([render.csv_text_cell(v) for v in (t.name, t.profile, t.suite, row.label, c.key)]
                           + [*nums, "" if x.n is None else x.n, render.csv_text_cell(note)])
    return buf.getvalue()


def _json(title: str, tables: Sequence[Table], runs: Sequence[RunResult]) -> str:
    data = {"title": title, "profiles": sorted({r.profile for r in runs}),
            "tables": [render.to_dict(t) for t in tables], "runs": [run_to_dict(r, items=False) for r in runs]}
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


def _examples(runs, audio_for, prompts, labels, max_examples, seconds) -> list[H.Example]:
    if audio_for is None:
        return []
    from reports import media

    if prompts is None:
        ids = sorted({prompt_of(s.item_id) for r in runs for s in r.items})
        prompts = [Prompt(i, i) for i in ids]
    names = run_labels(runs, labels)
    examples = []
    for p in list(prompts)[:max_examples]:
        clips = []
        for run, name in zip(runs, names, strict=True):
            if run.items and p.id not in {prompt_of(s.item_id) for s in run.items}:
                continue  # this run did not score this prompt (another suite)
            src = audio_for(run, p.id)
            if src is None:
                continue
            x = media.preview(src, seconds)  # (T,) @ 16 kHz
            clips.append(H.Clip(name, media.wav_data_uri(x), media.png_data_uri(media.spectrogram_png(x))))
        if clips:
            examples.append(H.Example(p.id, p.text, p.source_text, tuple(clips)))
    return examples


def _plots(runs: Sequence[RunResult], tables: Sequence[Table], folder: Path, labels) -> Path:
    from reports import plots

    folder.mkdir(parents=True, exist_ok=True)
    for group in group_runs(runs):
        tag = f"{group[0].suite}-{group[0].profile}"
        if any(r.aggregate("fd_pann") and r.aggregate("clap_laion") for r in group):
            plots.clap_vs_fd(group, folder / f"{tag}-clap_vs_fd.png", labels=labels)
        if sum("d" in dict(r.system.parameters) for r in group) >= 2:
            names = [m.name for m in group[0].metrics][:4]
            try:
                plots.d_ablation(group, names, folder / f"{tag}-d_ablation.png")
            except SabenchError:
                pass  # d values not numeric: no ablation curve
    for k, t in enumerate(t for t in tables if t.name == "table6"):
        plots.category_bars(t, folder / f"table6-{k}-delta_clap.png")
    return folder
