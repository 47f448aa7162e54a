"""A self-contained HTML report: sortable tables, per-prompt audio players and spectrograms.

Self-contained: no external assets, no CDN; audio and images are base64 data URIs.
Safety: every piece of text that comes from prompts, system names, labels or footnotes goes
through `html.escape(quote=True)` and only into element content or quoted attributes; no
such text is ever placed inside the `<script>` element, whose content is a fixed constant.
A Content-Security-Policy allows only that script (by its sha256), data: media and inline
styles, as a second line of defence.
"""

from __future__ import annotations

import base64
import hashlib
import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

from reports.render import arrow, best_rows, fmt_cell, markers, profile_line
from reports.tables import Table

SORT_JS = """
(function () {
  function key(cell) {
    var v = cell.getAttribute('data-value');
    if (v !== null && v !== '') { return parseFloat(v); }
    return cell.textContent.trim().toLowerCase();
  }
  function sortBy(table, col, th) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var asc = th.getAttribute('aria-sort') !== 'ascending';
    rows.sort(function (a, b) {
      var x = key(a.cells[col]), y = key(b.cells[col]);
      var xn = typeof x === 'number' && !isNaN(x), yn = typeof y === 'number' && !isNaN(y);
      if (xn !== yn) { return xn ? -1 : 1; }
      var r = x < y ? -1 : (x > y ? 1 : 0);
      return asc ? r : -r;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) { h.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
  }
  document.querySelectorAll('table.sortable').forEach(function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      th.addEventListener('click', function () { sortBy(table, col, th); });
    });
  });
  document.body.setAttribute('data-sort-ready', 'yes');
})();
"""

CSS = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}
.profile{background:#fff4d6;border:1px solid #e0c060;padding:.4em .8em;display:inline-block}
.profile.real{background:#e6f2ff;border-color:#6aa0d8}
table{border-collapse:collapse;margin:1em 0}th,td{padding:.3em .7em;border-bottom:1px solid #ccc}
th{cursor:pointer;background:#f3f3f3;user-select:none}th[aria-sort=ascending]::after{content:" \\25B2"}
th[aria-sort=descending]::after{content:" \\25BC"}td.num{text-align:right;font-variant-numeric:tabular-nums}
td.best{font-weight:bold}.foot{font-size:.9em;color:#555}
.example{border-top:1px solid #ddd;margin-top:1em}.prompt{font-style:italic}
.systems{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0}figcaption{font-size:.9em}
figure img{display:block;width:240px;height:100px}audio{width:240px}
"""


@dataclass(frozen=True)
class Clip:
    """One system's media for one prompt."""

    label: str
    audio_uri: str | None
    spectrogram_uri: str | None


@dataclass(frozen=True)
class RunFailures:
    """The failures of one run, as the report lists them (capped; `more` left out)."""

    label: str
    """Row label, suite and run id."""
    rows: tuple[tuple[str, str, str], ...]
    """(item id, stage, message)."""
    more: int = 0


@dataclass(frozen=True)
class Example:
    prompt_id: str
    text: str
    source_text: str | None
    clips: tuple[Clip, ...]


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def table_html(table: Table, ci: str | None = None) -> str:
    """One sortable table; numbers carry `data-value` for numeric sorting."""
    bold = [best_rows(table, j) for j in range(len(table.columns))]
    head = [f'<th scope="col">{esc(table.row_header)}</th>']
    for c in table.columns:
        tip = {True: "higher is better", False: "lower is better", None: ""}[c.higher_is_better]
        head.append(f'<th scope="col" title="{esc(tip)}">{esc(c.label + arrow(c))}</th>')
    rows = []
    for i, row in enumerate(table.rows):
        notes = f"<sup>{esc(markers(row.notes).strip())}</sup>" if row.notes else ""
        cells = [f"<td>{esc(row.label)} {notes}</td>" if notes else f"<td>{esc(row.label)}</td>"]
        for j, (c, x) in enumerate(zip(table.columns, row.cells, strict=True)):
            value = "" if x.value is None or not math.isfinite(x.value) else repr(float(x.value))
            cls = "num best" if i in bold[j] else "num"
            cells.append(f'<td class="{cls}" data-value="{esc(value)}">{esc(fmt_cell(c, x, ci))}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    foot = "".join(f'<p class="foot">[{i}] {esc(t)}</p>' for i, t in enumerate(table.footnotes, 1))
    foot += "".join(f'<p class="foot note">Note: {esc(t)}</p>' for t in table.notes)
    return (f"<h2>{esc(table.title)}</h2>\n<p class=\"foot\">{esc(profile_line(table))}</p>\n"
            f'<table class="sortable"><thead><tr>{"".join(head)}</tr></thead>\n<tbody>\n'
            + "\n".join(rows) + "\n</tbody></table>\n" + foot)


def failures_html(runs: Sequence[RunFailures]) -> str:
    """A "Failures" section: one table per run with failures (item, stage, message)."""
    if not runs:
        return ""
    parts = ["<h2>Failures</h2>"]
    for f in runs:
        body = "\n".join(f"<tr><td>{esc(i)}</td><td>{esc(s)}</td><td>{esc(m)}</td></tr>" for i, s, m in f.rows)
        more = f'<p class="foot">\u2026 and {f.more} more (all in report.json)</p>' if f.more else ""
        parts.append(f"<h3>{esc(f.label)}</h3>\n<table><thead><tr><th scope=\"col\">Item</th>"
                     f"<th scope=\"col\">Stage</th><th scope=\"col\">Message</th></tr></thead>\n"
                     f"<tbody>\n{body}\n</tbody></table>{more}")
    return "\n".join(parts) + "\n"


def example_html(ex: Example) -> str:
    src = f'<p>source: <span class="prompt">{esc(ex.source_text)}</span></p>' if ex.source_text else ""
    figs = []
    for clip in ex.clips:
        audio = f'<audio controls preload="none" src="{esc(clip.audio_uri)}"></audio>' if clip.audio_uri else ""
        img = (f'<img alt="spectrogram of {esc(clip.label)}" src="{esc(clip.spectrogram_uri)}">'
               if clip.spectrogram_uri else "")
        figs.append(f"<figure><figcaption>{esc(clip.label)}</figcaption>{audio}{img}</figure>")
    return (f'<section class="example"><h3>{esc(ex.prompt_id)}</h3>{src}'
            f'<p class="prompt">{esc(ex.text)}</p><div class="systems">{"".join(figs)}</div></section>')


def _csp() -> str:
    digest = base64.b64encode(hashlib.sha256(SORT_JS.encode("utf-8")).digest()).decode("ascii")
    return (f"default-src 'none'; img-src data:; media-src data:; style-src 'unsafe-inline'; "
            f"script-src 'sha256-{digest}'")


def page(title: str, profiles: Sequence[str], tables: Sequence[Table], examples: Sequence[Example] = (),
         ci: str | None = None, notes: Sequence[str] = (), failures: Sequence[RunFailures] = (),
         listening: str = "") -> str:
    """The whole document as a string (`listening`: the escaped listening-test section, if any)."""
    minis = sorted({b for t in tables if t.profile != "mini" for b in t.mini_backbones})
    kind = "real" if set(profiles) == {"real"} and not minis else "mini"
    banner = ("Profile: " + ", ".join(profiles) +
              (" \u2014 mini numbers come from the embedded SynthCaps world and are not comparable "
               "with paper numbers" if "mini" in profiles else "") +
              (f" \u2014 some real-profile columns were scored with mini backbones ({', '.join(minis)}); "
               "those are not comparable with paper numbers" if minis else ""))
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{esc(_csp())}">',
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{esc(title)}</h1>", f'<p class="profile {kind}">{esc(banner)}</p>',
        *[f'<p class="foot">{esc(n)}</p>' for n in notes],
        '<p class="foot">Click a column header to sort.</p>',
        *[table_html(t, ci) for t in tables],
    ]
    if listening:
        parts.append(listening)
    if failures:
        parts.append(failures_html(failures))
    if examples:
        parts.append("<h2>Examples</h2>")
        parts += [example_html(e) for e in examples]
    parts.append(f"<script>{SORT_JS}</script></body></html>")
    return "\n".join(parts) + "\n"
