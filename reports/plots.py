"""Report figures (matplotlib, Agg canvas; no pyplot global state): CLAP vs FD per system,
per-category ΔCLAP bars, and the semantic-dimension ablation curves (metric vs d).

Every figure's title names the profile, as every table does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from harness.errors import SabenchError
from harness.records import Aggregate, RunResult
from reports.tables import Labels, Table, run_labels


def _figure(w: float, h: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w, h), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, format="png")
    return path


def _profiles(runs: Sequence[RunResult]) -> str:
    return ", ".join(sorted({r.profile for r in runs}))


def clap_vs_fd(runs: Sequence[RunResult], path: str | Path, fd: str = "fd_pann", clap: str = "clap_laion",
               labels: Labels = None) -> Path:
    """Scatter of CLAP (↑) against FD (↓), one labelled point per run that has both."""
    names = run_labels(runs, labels)
    pts = []
    for n, r in zip(names, runs, strict=True):
        a_fd, a_clap = r.aggregate(fd), r.aggregate(clap)
        if a_fd is not None and a_clap is not None:
            pts.append((n, a_fd.value, a_clap.value))
    if not pts:
        raise SabenchError(f"{fd} / {clap}", "no run has both metrics", "plot runs of a suite with both")
    fig = _figure(5, 4)
    ax = fig.add_subplot(1, 1, 1)
    ax.scatter([p[1] for p in pts], [p[2] for p in pts])
    for n, x, y in pts:
        ax.annotate(n, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax.set_xlabel(f"{fd} \u2193")
    ax.set_ylabel(f"{clap} \u2191")
    ax.set_title(f"{clap} vs {fd} (profile: {_profiles(runs)})", fontsize=9)
    return _save(fig, path)


def category_bars(table: Table, path: str | Path, column: str = "delta_clap") -> Path:
    """Horizontal bars of one column of a Table 6 (per-category) table."""
    j = [c.key for c in table.columns].index(column)
    rows = [(r.label, r.cells[j].value) for r in table.rows if r.cells[j].value is not None]
    fig = _figure(6, 0.3 * len(rows) + 1.2)
    ax = fig.add_subplot(1, 1, 1)
    ax.barh([r[0] for r in rows][::-1], [r[1] for r in rows][::-1])
    ax.axvline(0.0, color="k", linewidth=0.8)
    ax.set_xlabel(table.columns[j].label)
    ax.set_title(f"{table.title} (profile: {table.profile})", fontsize=9)
    return _save(fig, path)


def d_ablation(runs: Sequence[RunResult], metrics: Sequence[str], path: str | Path, param: str = "d",
               d_of: Callable[[RunResult], float | None] | None = None) -> Path:
    """One panel per metric: value against the semantic dimension d (log2 axis).

    `d_of(run)` gives a run's d; default: the system parameter `param` (runs without it are
    skipped; non-numeric values such as "1024-rawPE" are skipped too).
    """
    def default(run: RunResult) -> float | None:
        v = dict(run.system.parameters).get(param)
        try:
            return float(v) if v is not None else None
        except (TypeError, ValueError):
            return None

    get = d_of or default
    fig = _figure(3.2 * len(metrics), 3)
    plotted = 0
    for k, metric in enumerate(metrics, 1):
        pts: list[tuple[float, Aggregate]] = []
        for r in runs:
            d, agg = get(r), r.aggregate(metric)
            if d is not None and d > 0 and agg is not None:
                pts.append((d, agg))
        pts.sort(key=lambda p: p[0])
        ax = fig.add_subplot(1, len(metrics), k)
        if pts:
            plotted += 1
            xs, aggs = [p[0] for p in pts], [p[1] for p in pts]
            ax.plot(xs, [a.value for a in aggs], marker="o")
            lo = [a.value - a.ci_low if a.ci_low is not None else 0.0 for a in aggs]
            hi = [a.ci_high - a.value if a.ci_high is not None else 0.0 for a in aggs]
            ax.errorbar(xs, [a.value for a in aggs], yerr=[lo, hi], fmt="none", capsize=3)
            ax.set_xscale("log", base=2)
            ax.set_xticks(xs, [f"{x:g}" for x in xs])
        hib = next((m.higher_is_better for r in runs for m in r.metrics if m.name == metric), None)
        ax.set_title(metric + {True: " \u2191", False: " \u2193", None: ""}[hib], fontsize=9)
        ax.set_xlabel(param)
    if plotted == 0:
        raise SabenchError(f"d ablation ({param})", "no run has the parameter and the metrics",
                           "pass runs whose system parameters include d, or d_of=")
    fig.suptitle(f"ablation over {param} (profile: {_profiles(runs)})", fontsize=9)
    return _save(fig, path)
