"""Tables built from `RunResult`s: the SemanticAudio paper's layouts and a generic leaderboard.

A `Table` is plain data (columns with direction and precision, rows of cells with optional
CIs, footnotes, the profile and suite it comes from); `reports.render` turns it into
Markdown, LaTeX, CSV or JSON.

Rows are only put side by side when they are comparable: same suite and suite version, same
profile, and for every metric the same backbone checkpoint, preset, recipe and metric
version. Otherwise the table is refused (`mixing="refuse"`, the default) or the odd rows are
footnoted (`mixing="footnote"`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np

from harness.errors import SabenchError
from harness.item_ids import prompt_of
from harness.records import RunResult


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


@dataclass(frozen=True)
class Cell:
    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    text: str | None = None
    """Shown instead of a number when `value` is None (verdicts, labels in paired tables)."""


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
    Column("clap_laion", "CLAP", True, 3), Column("mos", "MOS", True, 2)), optional=("mos",))
TABLE2 = TableSpec("table2", "Table 2: TTA-Bench (accuracy prompts)", "Model", (
    Column("clap_ms", "CLAP", True, 3), Column("aes_cu", "AES-CU", True, 3), Column("aes_pq", "AES-PQ", True, 3)))
TABLE3 = TableSpec("table3", "Table 3: Acoustic reconstruction", "Config", (
    Column("mel_loss", "Mel Loss", False, 3), Column("stft_loss", "STFT Loss", False, 3)))
TABLE4 = TableSpec("table4", "Table 4: Training-free editing", "Method", (
    Column("clap_target", "CLAP", True, 3), Column("delta_clap", f"{DELTA}CLAP", True, 3, signed=True),
    Column("mos", "MOS", True, 2)), optional=("mos",))
TABLE6_COLUMNS = (Column("n", "N", None, 0), Column("clap_target", "CLAP", True, 3),
                  Column("delta_clap", f"{DELTA}CLAP", True, 3, signed=True))
PAPER_TABLES = {"audiocaps": TABLE1, "ttabench": TABLE2, "reconstruction": TABLE3, "editing": TABLE4}
"""Suite name -> its paper table."""

Labels = Mapping[str, str] | Callable[[RunResult], str] | None


def _identity(run: RunResult) -> dict[str, str]:
    """What must agree between rows of one table (label -> value)."""
    out = {"suite": f"{run.suite} v{run.suite_version}", "profile": run.profile}
    for m in run.metrics:
        out[f"{m.name} backbone"] = f"{m.backbone} @ {(m.backbone_checkpoint_sha256 or 'none')[:12]}"
        out[f"{m.name} preset"] = m.preset
        out[f"{m.name} recipe"] = str(m.recipe)
        out[f"{m.name} version"] = m.version
    return out


def check_mixing(runs: Sequence[RunResult], mixing: str = "refuse", labels: Sequence[str] = ()
                 ) -> tuple[list[tuple[int, ...]], list[str]]:
    """Compare every run with the first. Returns (footnote numbers per run, footnotes).

    Raises:
        SabenchError: with `mixing="refuse"` when any run differs, naming rows and fields.
    """
    if mixing not in ("refuse", "footnote"):
        raise SabenchError(mixing, "unknown mixing policy", "use 'refuse' or 'footnote'")
    if not runs:
        return [], []
    ref = _identity(runs[0])
    notes: list[str] = []
    per_run: list[tuple[int, ...]] = []
    for i, run in enumerate(runs):
        ident = _identity(run)
        diffs = [f"{k}: {ident[k]} (vs {ref[k]})" for k in ident if k in ref and ident[k] != ref[k]]
        if diffs and mixing == "refuse":
            who = labels[i] if i < len(labels) else run.run_id
            first = labels[0] if labels else runs[0].run_id
            raise SabenchError(f"row {who!r} vs {first!r}", "not comparable: " + "; ".join(diffs),
                               "put runs of one suite version, profile, backbone checkpoint, preset and "
                               "recipe in a table, or pass mixing='footnote'")
        nums = []
        for d in diffs:
            if d not in notes:
                notes.append(d)
            nums.append(notes.index(d) + 1)
        per_run.append(tuple(nums))
    return per_run, notes


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


def _cell(run: RunResult, key: str, extra: Mapping[str, float] | None, label: str) -> Cell:
    agg = run.aggregate(key)
    if agg is not None:
        return Cell(float(agg.value), agg.ci_low, agg.ci_high)
    if extra is not None:
        for k in (run.run_id, label, run.system.name):
            if k in extra:
                return Cell(float(extra[k]))
    return Cell(None)


def build_table(runs: Sequence[RunResult], spec: TableSpec, labels: Labels = None, mixing: str = "refuse",
                mos: Mapping[str, float] | None = None) -> Table:
    """One row per run (in the given order), one column per `spec` column.

    Args:
        mos: optional human ratings keyed by run_id, row label or system name (a run's own
            "mos" aggregate wins); the MOS column appears only when some row has one.
    """
    if not runs:
        raise SabenchError(spec.name, "no runs to tabulate", "pass at least one RunResult")
    names = run_labels(runs, labels)
    notes, footnotes = check_mixing(runs, mixing, names)
    rows = [[_cell(r, c.key, mos if c.key == "mos" else None, n) for c in spec.columns] for r, n in zip(runs, names)]
    keep = [j for j, c in enumerate(spec.columns)
            if c.key not in spec.optional or any(row[j].value is not None for row in rows)]
    return Table(spec.name, spec.title, spec.row_header, tuple(spec.columns[j] for j in keep),
                 tuple(TableRow(n, tuple(row[j] for j in keep), nt) for n, row, nt in zip(names, rows, notes)),
                 runs[0].profile, f"{runs[0].suite} v{runs[0].suite_version}", tuple(footnotes))


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
    return Table("table6", f"Table 6: Editing per category ({run_labels([run])[0]})", "Edit Type",
                 TABLE6_COLUMNS, tuple(rows), run.profile, f"{run.suite} v{run.suite_version}")


def _cat_row(label: str, scores: dict[str, list[float]], n: int) -> TableRow:
    def mean(k: str) -> Cell:
        v = scores.get(k)
        return Cell(float(np.mean(v)) if v else None)
    return TableRow(label, (Cell(float(n)), mean("clap_target"), mean("delta_clap")))


def leaderboard(runs: Sequence[RunResult], labels: Labels = None, mixing: str = "refuse",
                title: str | None = None) -> Table:
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
    spec = TableSpec("leaderboard", title or f"Leaderboard: {runs[0].suite} v{runs[0].suite_version}",
                     "System", tuple(cols))
    return build_table(runs, spec, labels, mixing)
