"""The HTML report's "Listening tests" section: per study, MOS bars with 95% CIs (inline SVG),
a table of the numbers, rater screening counts, agreement and A/B preference.

Every text (study names, row labels) is escaped; the SVG holds only numbers and escaped text.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

WIDTH, ROW, LEFT = 640, 26, 280
"""SVG geometry in px: total width, row height, label column."""


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _x(v: float) -> float:
    """MOS (1..5) -> x in px."""
    return LEFT + (min(5.0, max(1.0, v)) - 1.0) / 4.0 * (WIDTH - LEFT - 20)


def bars_svg(rows: Sequence[Any]) -> str:
    """Horizontal MOS bars (1-5 axis) with CI whiskers, one per `ConditionMos`."""
    h = ROW * len(rows) + 30
    parts = [f'<svg class="mos-bars" role="img" width="{WIDTH}" height="{h}" viewBox="0 0 {WIDTH} {h}" '
             'xmlns="http://www.w3.org/2000/svg"><title>MOS with 95% confidence intervals</title>']
    for k, m in enumerate(rows):
        y = 8 + ROW * k
        parts.append(f'<text x="{LEFT - 8}" y="{y + 14}" text-anchor="end" font-size="12">{_esc(m.label)}</text>')
        if math.isfinite(m.mean):
            fill = "#9aa" if str(m.condition).startswith("@") else "#4a78c2"
            parts.append(f'<rect class="bar" x="{LEFT}" y="{y + 3}" width="{_x(m.mean) - LEFT:.1f}" '
                         f'height="{ROW - 10}" '
                         f'fill="{fill}" data-mos="{m.mean:.4f}"/>')
        if math.isfinite(m.ci_low) and math.isfinite(m.ci_high):
            lo, hi, mid = _x(m.ci_low), _x(m.ci_high), y + ROW / 2 - 2
            parts.append(f'<path class="ci" d="M{lo:.1f} {mid}H{hi:.1f}M{lo:.1f} {mid - 5}V{mid + 5}M{hi:.1f} {mid - 5}'
                         f'V{mid + 5}" stroke="#111" stroke-width="1.5" fill="none"/>')
    axis_y = ROW * len(rows) + 12
    for v in range(1, 6):
        parts.append(f'<text x="{_x(v):.1f}" y="{axis_y + 12}" text-anchor="middle" font-size="11">{v}</text>')
    parts.append(f'<path d="M{LEFT} {axis_y}H{_x(5):.1f}" stroke="#555"/></svg>')
    return "".join(parts)


def study_html(s: Any) -> str:
    sc = s.screening
    rows = "".join(f"<tr><td>{_esc(m.label)}</td><td class=\"num\">{m.mean:.2f}</td>"
                   f"<td class=\"num\">[{m.ci_low:.2f}, {m.ci_high:.2f}]</td>"
                   f"<td class=\"num\">{m.n_raters} x {m.n_items}</td></tr>" for m in s.mos)
    kind = {"mos": "overall audio quality", "mos-edit": "overall edit quality and naturalness",
            "ab": "A/B preference"}.get(s.type, s.type)
    parts = [f"<h3>{_esc(s.study)} ({_esc(kind)}; suite {_esc(s.suite)})</h3>"]
    if s.mos:
        parts.append(bars_svg(s.mos))
        parts.append("<table><thead><tr><th scope=\"col\">Condition</th><th scope=\"col\">MOS</th>"
                     "<th scope=\"col\">95% CI</th><th scope=\"col\">raters x items</th></tr></thead>"
                     f"<tbody>{rows}</tbody></table>")
    if s.preference is not None:
        p = s.preference
        parts.append(f"<p>{_esc(p.label_a)} preferred over {_esc(p.label_b)} in {p.rate_a:.1%} of {p.n} "
                     f"answers (95% CI [{p.ci_low:.1%}, {p.ci_high:.1%}], Clopper-Pearson; sign test p = "
                     f"{p.p_value:.3g}).</p>")
    alpha = "" if s.alpha is None else f" Krippendorff's alpha (ordinal): {s.alpha:.3f}."
    parts.append(f'<p class="foot">Raters: {sc.raters} with answers, {sc.kept} kept ({sc.excluded_attention} '
                 f"failed an attention check, {sc.excluded_controls} failed the reference/anchor check, "
                 f"{sc.unscreened} unscreened). Rule: {_esc(sc.rule)}.{_esc(alpha)} CIs: two-way bootstrap "
                 "over raters and items.</p>")
    return "\n".join(parts)


def listening_html(summaries: Sequence[Any]) -> str:
    """The whole section ("" when there are no studies with answers)."""
    shown = [s for s in summaries if s.mos or s.preference is not None]
    if not shown:
        return ""
    return "<h2>Listening tests</h2>\n" + "\n".join(study_html(s) for s in shown) + "\n"


__all__ = ["bars_svg", "listening_html", "study_html"]
