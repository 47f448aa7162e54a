"""Renderers for `reports.tables.Table`: Markdown, LaTeX (booktabs), CSV and JSON.

Conventions: ↑/↓ after each column label from the metric's direction; "—" for a missing
value; signed columns show "+"; optional CIs as `value ± half-width` (`ci="pm"`) or
`value [lo, hi]` (`ci="interval"`); "(n=…)" after a value whose n differs from the suite's.
LaTeX and HTML bold the true best of each directional column (full precision; nothing when
all rows tie, or when the table marks the column unranked). Footnote markers: "[1,2]" after
the row label in every format. Every rendering names the profile (and mini backbones in a
real-profile table).

Text that comes from users (prompts, labels, suite and metric names, footnotes) is escaped
for each format: Markdown HTML-escapes `<`, `>`, `&` and backslash-escapes `|`, `[`, `]` and
backticks (a `<script>` label must not become live HTML, nor a label a link, in a Markdown
viewer), CSV prefixes text cells starting with `=`, `+`, `-`, `@`, tab or CR with a single
quote (OWASP CSV injection; numbers are written unprefixed).
"""

from __future__ import annotations

import csv
import html
import io
import json
import math

from reports.tables import Cell, Column, Table

MINI_NOTE = "embedded SynthCaps world with mini backbones; not comparable with paper numbers"
DASH = "\u2014"


def profile_line(table: Table) -> str:
    """'Profile: real · suite: audiocaps v1.0.0' (mini, or mini backbones, add a warning)."""
    note = f" ({MINI_NOTE})" if table.profile == "mini" else ""
    if table.profile != "mini" and table.mini_backbones:
        note = (f" (but scored in part with mini backbones: {', '.join(table.mini_backbones)}; "
                "not comparable with paper numbers)")
    return f"Profile: {table.profile}{note} \u00b7 suite: {table.suite}"


def arrow(col: Column) -> str:
    return "" if col.higher_is_better is None else ("\u2191" if col.higher_is_better else "\u2193")


def fmt_value(col: Column, value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return DASH
    text = f"{value:.{col.decimals}f}"
    if col.signed and value > 0:
        text = "+" + text
    return text


def fmt_cell(col: Column, cell: Cell, ci: str | None = None) -> str:
    if cell.value is None and cell.text is not None:
        return cell.text
    text = fmt_value(col, cell.value)
    n = f" (n={cell.n})" if cell.show_n and cell.value is not None else ""
    ci = ci or ("interval" if getattr(col, "always_ci", False) else None)
    if ci is None or cell.value is None or cell.ci_low is None or cell.ci_high is None:
        return text + n
    d = col.decimals
    if ci == "pm":
        return f"{text} \u00b1 {(cell.ci_high - cell.ci_low) / 2:.{d}f}{n}"
    if ci == "interval":
        return f"{text} [{cell.ci_low:.{d}f}, {cell.ci_high:.{d}f}]{n}"
    raise ValueError(f"ci must be None, 'pm' or 'interval', not {ci!r}")


def markers(notes: tuple[int, ...]) -> str:
    """Footnote markers of a row, separated: " [1,2]" ("" without notes)."""
    return f" [{','.join(str(n) for n in notes)}]" if notes else ""


def best_rows(table: Table, j: int) -> set[int]:
    """Indices of the rows holding the best value of column j, compared at full precision.

    Empty when the column has no direction, is unranked (`Table.unranked`), has fewer than two
    values, or when every row ties (nothing is better)."""
    col = table.columns[j]
    if col.higher_is_better is None or col.key in table.unranked:
        return set()
    vals: dict[int, float] = {}
    for i, row in enumerate(table.rows):
        v = row.cells[j].value
        if v is not None and math.isfinite(v):
            vals[i] = v
    if len(vals) < 2:
        return set()
    best = max(vals.values()) if col.higher_is_better else min(vals.values())
    out = {i for i, v in vals.items() if v == best}
    return set() if len(out) == len(vals) else out


def markdown(table: Table, ci: str | None = None) -> str:
    head = [md_text(table.row_header)] + [md_text(c.label) + arrow(c) for c in table.columns]
    lines = [f"### {md_text(table.title)}", "", md_text(profile_line(table)), "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in table.rows:
        label = md_text(row.label) + markers(row.notes)
        cells = [md_text(x.text) if x.value is None and x.text is not None else fmt_cell(c, x, ci)
                 for c, x in zip(table.columns, row.cells, strict=True)]  # numbers need no escaping
        lines.append("| " + " | ".join([label] + cells) + " |")
    if table.footnotes:
        lines.append("")
        lines += [f"[{i}] {md_text(t)}" for i, t in enumerate(table.footnotes, 1)]
    if table.notes:
        lines.append("")
        lines += [f"Note: {md_text(t)}" for t in table.notes]
    return "\n".join(lines) + "\n"


_MD_SPECIAL = str.maketrans({"|": "\\|", "[": "\\[", "]": "\\]", "`": "\\`"})


def md_text(text: str) -> str:
    """User text made inert in Markdown: HTML-escaped (<, >, &), one line, and `|` (table
    cells), `[`/`]` (links and images) and backticks escaped with a backslash."""
    one_line = str(text).replace("\r\n", " ").replace("\r", " ").replace("\n", " ")
    return html.escape(one_line, quote=False).translate(_MD_SPECIAL)


CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""First characters a spreadsheet reads as a formula (OWASP CSV injection)."""


def csv_text_cell(value: object) -> str:
    """A user text cell for CSV: prefixed with ' when a spreadsheet would evaluate it."""
    text = "" if value is None else str(value)
    if text.startswith(CSV_TRIGGERS):
        text = "'" + text
    return text.replace("\r\n", "\n").replace("\r", "\n")  # a bare CR is not quoted by csv (lineterminator \n)


md_cell = md_text
"""Public alias: text made safe for a Markdown table cell (the report's Failures section)."""


_TEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
        "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
        "\u0394": r"$\Delta$", "\u00b1": r"$\pm$", "\u00b7": r"\textperiodcentered{}", "\u2014": "---",
        "\u2191": r"$\uparrow$", "\u2193": r"$\downarrow$"}


def tex_escape(text: str) -> str:
    return "".join(_TEX.get(ch, ch) for ch in text)


def latex(table: Table, ci: str | None = None) -> str:
    """A booktabs `table` environment; best value per directional column in bold."""
    arrows = {"\u2191": r"$\uparrow$", "\u2193": r"$\downarrow$", "": ""}
    head = [tex_escape(table.row_header)] + [tex_escape(c.label) + arrows[arrow(c)] for c in table.columns]
    bold = [best_rows(table, j) for j in range(len(table.columns))]
    body = []
    for i, row in enumerate(table.rows):
        label = tex_escape(row.label + markers(row.notes))
        cells = []
        for j, (c, x) in enumerate(zip(table.columns, row.cells, strict=True)):
            text = tex_escape(fmt_cell(c, x, ci)).replace(DASH, "---")
            cells.append(f"\\textbf{{{text}}}" if i in bold[j] else text)
        body.append(" & ".join([label] + cells) + r" \\")
    caption = tex_escape(f"{table.title}. {profile_line(table)}.")
    lines = [f"% sabench {table.name}: profile {table.profile}, suite {table.suite}",
             r"\begin{table}[t]", r"\centering", f"\\caption{{{caption}}}",
             f"\\begin{{tabular}}{{l{'r' * len(table.columns)}}}", r"\toprule",
             " & ".join(head) + r" \\", r"\midrule", *body, r"\bottomrule", r"\end{tabular}"]
    if table.footnotes or table.notes:
        lines.append(r"\par\smallskip\footnotesize")
    lines += [f"{{[}}{i}{{]}} {tex_escape(t)}\\\\" for i, t in enumerate(table.footnotes, 1)]  # {[}: not \\[len]
    lines += [f"Note: {tex_escape(t)}\\\\" for t in table.notes]
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


def csv_text(table: Table) -> str:
    """Wide CSV: one row per table row; value (+ CI bounds when any) per metric key."""
    with_ci = any(x.ci_low is not None for r in table.rows for x in r.cells)
    with_n = any(x.show_n for r in table.rows for x in r.cells)
    header = ["profile", "suite", csv_text_cell(table.row_header)]
    for c in table.columns:
        key = csv_text_cell(c.key)
        header += [key] + ([f"{key}_ci_low", f"{key}_ci_high"] if with_ci else [])
        header += [f"{key}_n"] if with_n else []
    header.append("notes")
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for row in table.rows:
        out = [csv_text_cell(table.profile), csv_text_cell(table.suite), csv_text_cell(row.label)]
        for x in row.cells:
            shown = csv_text_cell(x.text) if x.value is None and x.text is not None else _num(x.value)
            out += [shown] + ([_num(x.ci_low), _num(x.ci_high)] if with_ci else [])
            out += ["" if x.n is None else str(x.n)] if with_n else []
        out.append(csv_text_cell("; ".join(table.footnotes[n - 1] for n in row.notes)))
        w.writerow(out)
    return buf.getvalue()


def _num(v: float | None) -> str:
    return "" if v is None else repr(float(v))


def to_dict(table: Table) -> dict:
    best = [best_rows(table, j) for j in range(len(table.columns))]
    return {
        "name": table.name, "title": table.title, "profile": table.profile, "suite": table.suite,
        "row_header": table.row_header,
        "columns": [{"key": c.key, "label": c.label, "higher_is_better": c.higher_is_better,
                     "decimals": c.decimals} for c in table.columns],
        "rows": [{"label": r.label, "notes": list(r.notes),
                  "values": {c.key: {"value": x.value, "ci_low": x.ci_low, "ci_high": x.ci_high, "n": x.n,
                                     "best": i in best[j],
                                     **({"text": x.text} if x.text is not None else {})}
                             for j, (c, x) in enumerate(zip(table.columns, r.cells, strict=True))}}
                 for i, r in enumerate(table.rows)],
        "footnotes": list(table.footnotes), "notes": list(table.notes), "unranked": list(table.unranked),
        "mini_backbones": list(table.mini_backbones),
    }


def json_text(table: Table) -> str:
    return json.dumps(to_dict(table), indent=2, ensure_ascii=False) + "\n"


RENDERERS = {"md": markdown, "tex": latex, "csv": csv_text, "json": json_text}
