"""Listening results for reports: MOS cells (with CI and n) by run id, and the study summaries
behind the HTML listening section. Reads through the report's own (possibly read-only)
results-store connection; a store without listening tables gives nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.listen.analysis import StudySummary, summarize
from harness.listen.store import ListenReader, listen_tables_exist


@dataclass(frozen=True)
class MosValue:
    """A MOS cell for a report table."""

    value: float
    ci_low: float
    ci_high: float
    n_raters: int
    n_items: int
    note: str
    """How the number was obtained (study, raters x items, CI method, screening)."""


def summaries(results: Any) -> list[StudySummary]:
    """Summaries of every study in a `ResultsStore` (empty when it has no listening tables)."""
    conn = results._db()
    if not listen_tables_exist(conn):
        return []
    reader = ListenReader(conn, results.path)
    return [s for s in (summarize(reader, st) for st in reader.studies()) if s.mos or s.preference is not None]


def study_note(s: StudySummary) -> str:
    sizes = {(m.n_raters, m.n_items) for m in s.mos if not m.condition.startswith("@")}
    if len(sizes) == 1:
        (r, i), = sizes
        n = f"{r} raters x {i} items per system"
    else:
        n = "; ".join(f"{m.label}: {m.n_raters} raters x {m.n_items} items" for m in s.mos
                      if not m.condition.startswith("@"))
    sc = s.screening
    kind = "overall edit quality and naturalness" if s.type == "mos-edit" else "overall audio quality"
    return (f"MOS: listening study {s.study} ({kind}, 1-5), {n}; 95% CI: two-way bootstrap over raters "
            f"and items; {sc.kept} of {sc.raters} raters kept by screening")


def report_mos(sums: list[StudySummary]) -> dict[str, MosValue]:
    """Run id -> MOS cell (a later study of the same run replaces an earlier one)."""
    out: dict[str, MosValue] = {}
    for s in sums:
        note = study_note(s)
        for m in s.mos:
            if not m.condition.startswith("@"):
                out[m.condition] = MosValue(m.mean, m.ci_low, m.ci_high, m.n_raters, m.n_items, note)
    return out


__all__ = ["MosValue", "report_mos", "study_note", "summaries"]
