"""Tables built from `RunResult`s: the SemanticAudio paper's layouts and a generic leaderboard.

A `Table` is plain data (columns with direction and precision, rows of cells with optional
CIs and n, footnotes, notes, the profile and suite it comes from); `reports.render` turns it
into Markdown, LaTeX, CSV or JSON.

Rows share a table when they come from one suite version and profile and, metric by metric,
over the runs that have that metric, the same backbone checkpoint, preset, recipe, metric
version and backbone version (`reports.provenance`). Otherwise the table is refused
(`mixing="refuse"`, the default) or the odd rows are footnoted (`mixing="footnote"`). A metric
missing from a run (failed, or dropped by its plan) leaves an empty cell and a footnote.

Honesty about n: a cell shows its n when it differs from the suite's item count; a row run
with `--limit`, with failures, or with a mini backbone in a real-profile suite is footnoted;
a column whose rows scored different items is never ranked (no bold best), with a note why.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from harness.errors import SabenchError
from harness.item_ids import prompt_of
from harness.records import RunResult
from reports import provenance as P

if TYPE_CHECKING:
    from harness.listen.report import MosValue


@dataclass(frozen=True)
class Column:
    key: str
    """Metric name in the runs (or "n" / "mos")."""
    label: str
    higher_is_better: bool | None
    """None: no direction (counts); no arrow, never bold."""
    decimals: int = 3
    signed: bool = False
    """Show a leading "+" on positive values (ΔCLAP)."""
    always_ci: bool = False
    """Show the CI even when the report shows none (MOS: human ratings always carry theirs)."""


@dataclass(frozen=True)
class Cell:
    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    text: str | None = None
    """Shown instead of a number when `value` is None (verdicts, labels in paired tables)."""
    n: int | None = None
    """Items behind the value (`Aggregate.n`; None: unknown, or not a metric cell)."""
    show_n: bool = False
    """Render "(n=…)": n differs from the suite's item count (or, that unknown, from other rows)."""


@dataclass(frozen=True)
class TableRow:
    label: str
    cells: tuple[Cell, ...]
    notes: tuple[int, ...] = ()
    """Footnote numbers (1-based) attached to this row."""


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    row_header: str
    columns: tuple[Column, ...]
    rows: tuple[TableRow, ...]
    profile: str
    suite: str
    """"<name> v<version>" of the suite the rows come from."""
    footnotes: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    """Table-wide notes (columns not ranked and why, rows whose n is unknown)."""
    unranked: tuple[str, ...] = ()
    """Keys of columns whose best value must not be marked."""
    mini_backbones: tuple[str, ...] = ()
    """Mini (SynthCaps) backbones behind some column of a real-profile table."""


@dataclass(frozen=True)
class TableSpec:
    name: str
    title: str
    row_header: str
    columns: tuple[Column, ...]
    optional: tuple[str, ...] = ()
    """Columns dropped when no row has a value (MOS without ratings)."""


DELTA = "\u0394"
TABLE1 = TableSpec("table1", "Table 1: Text-to-audio generation on AudioCaps", "Model", (
    Column("fd_pann", "FD", False, 1), Column("is_pann", "IS", True, 2),
    Column("clap_laion", "CLAP", True, 3), Column("mos", "MOS", True, 2, always_ci=True)), optional=("mos",))
TABLE2 = TableSpec("table2", "Table 2: TTA-Bench (accuracy prompts)", "Model", (
    Column("clap_ms", "CLAP", True, 3), Column("aes_cu", "AES-CU", True, 3), Column("aes_pq", "AES-PQ", True, 3)))
TABLE3 = TableSpec("table3", "Table 3: Acoustic reconstruction", "Config", (
    Column("mel_loss", "Mel Loss", False, 3), Column("stft_loss", "STFT Loss", False, 3)))
TABLE4 = TableSpec("table4", "Table 4: Training-free editing", "Method", (
    Column("clap_target", "CLAP", True, 3), Column("delta_clap", f"{DELTA}CLAP", True, 3, signed=True),
    Column("mos", "MOS", True, 2, always_ci=True)), optional=("mos",))
TABLE6_COLUMNS = (Column("n", "N", None, 0), Column("clap_target", "CLAP", True, 3),
                  Column("delta_clap", f"{DELTA}CLAP", True, 3, signed=True))
PAPER_TABLES = {"audiocaps": TABLE1, "ttabench": TABLE2, "reconstruction": TABLE3, "editing": TABLE4}
"""Suite name -> its paper table."""

Labels = Mapping[str, str] | Callable[[RunResult], str] | None
MosCells = Mapping[str, "float | MosValue"]
"""Human ratings by run_id, row label or system name: a number, or a listening-test MOS with its CI."""


def _refuse(runs: Sequence[RunResult], labels: Sequence[str], i: int, diffs: Sequence[str]) -> SabenchError:
    who = labels[i] if i < len(labels) else runs[i].run_id
    first = labels[0] if labels else runs[0].run_id
    return SabenchError(f"row {who!r} vs {first!r}", "not comparable: " + "; ".join(diffs),
                        "put runs of one suite version, profile, backbone checkpoint, preset and "
                        "recipe in a table, or pass mixing='footnote'")


def _check_policy(mixing: str) -> None:
    if mixing not in ("refuse", "footnote"):
        raise SabenchError(mixing, "unknown mixing policy", "use 'refuse' or 'footnote'")


def check_mixing(runs: Sequence[RunResult], mixing: str = "refuse", labels: Sequence[str] = ()
                 ) -> tuple[list[tuple[int, ...]], list[str]]:
    """Compare runs (suite version and profile with the first run; each metric of `run.metrics`
    over the runs that have it). Returns (footnote numbers per run, footnotes).

    Raises:
        SabenchError: with `mixing="refuse"` when any run differs, naming rows and fields.
    """
    _check_policy(mixing)
    notes: list[str] = []
    per_run: list[tuple[int, ...]] = []
    for i, diffs in enumerate(P.differences(runs, lambda r, m: True)):
        texts = [t for _, t in diffs]
        if texts and mixing == "refuse":
            raise _refuse(runs, labels, i, texts)
        per_run.append(tuple(_note(notes, t) for t in texts))
    return per_run, notes


def _note(notes: list[str], text: str) -> int:
    """Footnote number (1-based) of `text`, added once."""
    if text not in notes:
        notes.append(text)
    return notes.index(text) + 1


def run_labels(runs: Sequence[RunResult], labels: Labels = None) -> list[str]:
    """Row labels: from `labels` (by run_id or system name, or a callable), else the system
    name plus the parameters that tell same-named systems apart."""
    out = []
    for run in runs:
        if callable(labels):
            out.append(labels(run))
        elif labels and run.run_id in labels:
            out.append(labels[run.run_id])
        elif labels and run.system.name in labels:
            out.append(labels[run.system.name])
        else:
            same = [r for r in runs if r.system.name == run.system.name]
            params = dict(run.system.parameters)
            varying = [k for k in sorted(params) if len({str(dict(r.system.parameters).get(k)) for r in same}) > 1]
            extra = ", ".join(f"{k}={params[k]}" for k in varying)
            out.append(f"{run.system.name} ({extra})" if extra else run.system.name)
    return out


def _cell(run: RunResult, key: str, extra: MosCells | None, label: str) -> Cell:
    agg = run.aggregate(key)
    if agg is not None:
        return Cell(float(agg.value), agg.ci_low, agg.ci_high, n=P.cell_n(run, key))
    if extra is not None:
        for k in (run.run_id, label, run.system.name):
            if k in extra:
                v: Any = extra[k]  # a number or a MosValue, told apart by duck typing (no harness.listen import)
                if hasattr(v, "value"):       # a listening-test MOS with its CI (harness.listen.report)
                    return Cell(float(v.value), v.ci_low, v.ci_high)
                return Cell(float(v))
    return Cell(None)


def _mos_notes(runs, names, mos) -> list[str]:
    """The notes (study, raters x items, CI method) of the MOS values a table shows."""
    notes = []
    for run, name in zip(runs, names, strict=True):
        for k in (run.run_id, name, run.system.name):
            v = (mos or {}).get(k)
            if v is not None:
                if getattr(v, "note", None) and v.note not in notes:
                    notes.append(v.note)
                break
    return notes


def _with_n(rows: list[list[Cell]], runs: Sequence[RunResult]) -> list[list[Cell]]:
    """Mark the cells whose n differs from their suite's item count (unknown: from the column's)."""
    out = [list(r) for r in rows]
    for j in range(len(rows[0]) if rows else 0):
        ns = {r[j].n for r in rows if r[j].value is not None and r[j].n is not None}
        for i, run in enumerate(runs):
            c, full = rows[i][j], P.full_count(run)
            if c.value is None or c.n is None:
                continue
            if (full is not None and c.n != full) or (full is None and len(ns) > 1):
                out[i][j] = replace(c, show_n=True)
    return out


def _row_notes(runs, names, keys, diffs, notes: list[str], profile: str) -> list[tuple[int, ...]]:
    """Footnote numbers per row: mixing, --limit, failures, missing metrics, mini backbones."""
    per_row = []
    for run, name, dif in zip(runs, names, diffs, strict=True):
        texts = [t for _, t in dif]
        texts += [P.limit_note(run), P.failures_note(run)]
        texts += [P.missing_note(run, name, k) for k in keys if not P.has_value(run, k)]
        if profile == "real":
            texts.append(P.mini_note(run, keys))
        per_row.append(tuple(dict.fromkeys(_note(notes, t) for t in texts if t)))
    return per_row


def _unranked(spec_cols, rows, runs, names, diffs) -> tuple[list[str], list[str]]:
    """(keys of directional columns that must not be ranked, a note for each)."""
    keys, why = [], []
    for j, col in enumerate(spec_cols):
        if col.higher_is_better is None:
            continue
        held = [(names[i], runs[i], rows[i][j].n) for i in range(len(runs))
                if rows[i][j].value is not None and math.isfinite(rows[i][j].value)]
        mixed = any(m in (col.key, "") for d in diffs for m, _ in d)  # "": suite version / profile
        reason = P.rank_blocker(col.label, held, col.key, mixed)
        if reason:
            keys.append(col.key)
            why.append(reason)
    return keys, why


def build_table(runs: Sequence[RunResult], spec: TableSpec, labels: Labels = None, mixing: str = "refuse",
                mos: MosCells | None = None) -> Table:
    """One row per run (in the given order), one column per `spec` column.

    Args:
        mos: optional human ratings keyed by run_id, row label or system name (a run's own
            "mos" aggregate wins); the MOS column appears only when some row has one.
    """
    if not runs:
        raise SabenchError(spec.name, "no runs to tabulate", "pass at least one RunResult")
    _check_policy(mixing)
    names = run_labels(runs, labels)
    keys = [c.key for c in spec.columns]
    diffs = P.differences(runs, lambda r, m: m in keys and P.has_value(r, m))
    for i, d in enumerate(diffs):
        if d and mixing == "refuse":
            raise _refuse(runs, names, i, [t for _, t in d])
    rows = [[_cell(r, c.key, mos if c.key == "mos" else None, n) for c in spec.columns]
            for r, n in zip(runs, names, strict=True)]
    keep = [j for j, c in enumerate(spec.columns)
            if c.key not in spec.optional or any(row[j].value is not None for row in rows)]
    cols = [spec.columns[j] for j in keep]
    rows = _with_n([[row[j] for j in keep] for row in rows], runs)
    profile = runs[0].profile
    footnotes: list[str] = []
    row_notes = _row_notes(runs, names, [c.key for c in cols], diffs, footnotes, profile)
    unranked, notes = _unranked(cols, rows, runs, names, diffs)
    if any(c.key == "mos" for c in cols):
        notes += _mos_notes(runs, names, mos)
    unplanned = [n for r, n in zip(runs, names, strict=True) if r.plan is None]
    if unplanned:
        notes.append(f"n planned unknown (no run plan stored with the result): {', '.join(unplanned)}")
    col_keys = [c.key for c in cols]
    minis = sorted({b for r in runs for _, b in P.mini_backbones(r, col_keys)}) if profile == "real" else []
    return Table(spec.name, spec.title, spec.row_header, tuple(cols),
                 tuple(TableRow(n, tuple(row), nt) for n, row, nt in zip(names, rows, row_notes, strict=True)),
                 profile, f"{runs[0].suite} v{runs[0].suite_version}", tuple(footnotes), tuple(notes),
                 tuple(unranked), tuple(minis))


def table1(runs, labels: Labels = None, mixing: str = "refuse", mos=None) -> Table:
    """AudioCaps: FD↓, IS↑, CLAP↑ (+ MOS↑ when ratings exist)."""
    return build_table(runs, TABLE1, labels, mixing, mos)


def table2(runs, labels: Labels = None, mixing: str = "refuse") -> Table:
    """TTA-Bench: CLAP↑ (MS-CLAP), AES-CU↑, AES-PQ↑."""
    return build_table(runs, TABLE2, labels, mixing)


def table3(runs, labels: Labels = None, mixing: str = "refuse") -> Table:
    """Reconstruction: Mel Loss↓, STFT Loss↓."""
    return build_table(runs, TABLE3, labels, mixing)


def table4(runs, labels: Labels = None, mixing: str = "refuse", mos=None) -> Table:
    """Editing: CLAP↑ (edited vs target), ΔCLAP↑ (+ MOS↑ when ratings exist)."""
    return build_table(runs, TABLE4, labels, mixing, mos)


def _base_id(item_id: str) -> str:
    return prompt_of(item_id)


def table6(run: RunResult, categories: Mapping[str, str] | None = None,
           order: Sequence[str] | None = None, total: bool = False) -> Table:
    """Editing per category for one run: N (prompts), mean CLAP↑, mean ΔCLAP↑.

    Args:
        categories: prompt id -> category; default: read from the id
            (`suites.editing.loader.category_of`, ids `<category_slug>-<NNN>`).
        order: row order; default the paper's category order, then any others sorted.
        total: add a "Total" row (all items).
    """
    from suites.editing.loader import category_of
    from suites.editing.rules import CATEGORIES

    def cat(item_id: str) -> str | None:
        base = _base_id(item_id)
        return categories.get(base) if categories is not None else category_of(base)

    groups: dict[str, dict[str, list[float]]] = {}
    prompts: dict[str, set[str]] = {}
    for s in run.items:
        c = cat(s.item_id)
        if c is None:
            raise SabenchError(s.item_id, "has no editing category",
                               "pass categories={prompt id: category} or use editing-suite ids")
        groups.setdefault(c, {}).setdefault(s.metric, []).append(s.value)
        prompts.setdefault(c, set()).add(_base_id(s.item_id))
    seen = [c for c in (order or CATEGORIES) if c in groups] + sorted(set(groups) - set(order or CATEGORIES))
    rows = [_cat_row(c, groups[c], len(prompts[c])) for c in seen]
    if total:
        merged: dict[str, list[float]] = {}
        for g in groups.values():
            for k, v in g.items():
                merged.setdefault(k, []).extend(v)
        rows.append(_cat_row("Total", merged, sum(len(p) for p in prompts.values())))
    label = run_labels([run])[0]
    notes = [P.limit_note(run), P.failures_note(run),
             P.mini_note(run, [c.key for c in TABLE6_COLUMNS]) if run.profile == "real" else None]
    return Table("table6", f"Table 6: Editing per category ({label})", "Edit Type",
                 TABLE6_COLUMNS, tuple(rows), run.profile, f"{run.suite} v{run.suite_version}",
                 notes=tuple(f"{label}: {t}" for t in notes if t),
                 unranked=tuple(c.key for c in TABLE6_COLUMNS))  # categories are not competitors


def _cat_row(label: str, scores: dict[str, list[float]], n: int) -> TableRow:
    def mean(k: str) -> Cell:
        v = scores.get(k)
        return Cell(float(np.mean(v)) if v else None)
    return TableRow(label, (Cell(float(n)), mean("clap_target"), mean("delta_clap")))


def leaderboard(runs: Sequence[RunResult], labels: Labels = None, mixing: str = "refuse",
                title: str | None = None, mos: MosCells | None = None) -> Table:
    """Any suite: one column per metric found in the runs (first-seen order), direction from
    each metric's `higher_is_better`, precision from the values' magnitude."""
    if not runs:
        raise SabenchError("leaderboard", "no runs to tabulate", "pass at least one RunResult")
    infos: dict[str, bool] = {}
    for r in runs:
        for m in r.metrics:
            infos.setdefault(m.name, m.higher_is_better)
    cols = []
    for name, hib in infos.items():
        vals = [abs(a.value) for r in runs if (a := r.aggregate(name)) is not None and np.isfinite(a.value)]
        big = max(vals, default=0.0)
        cols.append(Column(name, name, hib, 1 if big >= 100 else 2 if big >= 10 else 3))
    if "mos" not in infos:
        cols.append(Column("mos", "MOS", True, 2, always_ci=True))       # listening-test ratings, when there are any
    spec = TableSpec("leaderboard", title or f"Leaderboard: {runs[0].suite} v{runs[0].suite_version}",
                     "System", tuple(cols), optional=("mos",))
    return build_table(runs, spec, labels, mixing, mos)
