"""Listening-test analysis: MOS with two-way bootstrap CIs, rater screening, A/B preference,
inter-rater agreement. The method is documented in docs/listening.md.

- MOS per condition (system, hidden reference, low anchor, unedited source): the mean of its
  ratings. 95% CI: a two-way bootstrap that resamples raters and items independently, with
  replacement, and recomputes the mean over every (resampled rater, resampled item) cell that
  has a rating, weighted by how often each was drawn; percentile interval. Resampling both
  ways makes the interval reflect both sources of variation (a one-way bootstrap over
  ratings is too narrow when raters or items differ). For ratings y_ri = a_r + b_i on a full
  grid the bootstrap variance is exactly var_R(a)/R + var_I(b)/I (plug-in variances), which
  the tests check.
- Screening (`screen`): a rater is excluded who (1) answered any attention check otherwise
  than asked, or (2) MOS tests: rated the hidden reference less than 1 point above the low
  anchor on average (when they rated both); A/B tests: preferred the anchor in more than
  half of the reference/anchor control pairs. Raters without both kinds of control are kept
  and counted as unscreened. Analysis uses kept raters only; counts are reported.
- A/B: the rate at which system A is preferred, with a Clopper-Pearson 95% interval, and a
  two-sided exact sign (binomial) test against 0.5; all kept ratings pooled.
- Agreement: Krippendorff's alpha (ordinal metric by default) over main trials x kept raters.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.listen.design import condition_label
from harness.listen.store import ListenStore, Rating, Trial
from harness.seeding import derive_seed, numpy_rng

BOOTSTRAP = 2000
MIN_REF_ANCHOR_GAP = 1.0
SCREENING_RULE = ("excluded: any attention check answered otherwise than asked; MOS: hidden reference rated "
                  f"< {MIN_REF_ANCHOR_GAP:g} point above the low anchor on average; A/B: anchor preferred in more "
                  "than half of the reference/anchor pairs")


@dataclass(frozen=True)
class ConditionMos:
    condition: str
    """Run id, or "@reference" / "@anchor" / "@source"."""
    label: str
    mean: float
    ci_low: float
    ci_high: float
    n_raters: int
    n_items: int
    n_ratings: int


@dataclass(frozen=True)
class Screening:
    raters: int
    """Raters with at least one rating."""
    kept: int
    excluded_attention: int
    excluded_controls: int
    unscreened: int
    """Kept without having rated both control kinds."""
    rule: str = SCREENING_RULE


@dataclass(frozen=True)
class Preference:
    a: str
    b: str
    label_a: str
    label_b: str
    n: int
    wins_a: int
    rate_a: float
    ci_low: float
    ci_high: float
    p_value: float


@dataclass(frozen=True)
class StudySummary:
    study: str
    type: str
    suite: str
    mos: tuple[ConditionMos, ...]
    preference: Preference | None
    alpha: float | None
    """Krippendorff's alpha (ordinal) over main trials, kept raters; None with < 2 raters."""
    screening: Screening
    items_drawn: int


def two_way_bootstrap(y: np.ndarray, b: int = BOOTSTRAP, seed: int = 0, level: float = 0.95
                      ) -> tuple[float, float, float, np.ndarray]:
    """(mean, ci_low, ci_high, bootstrap means) of a (R raters, I items) matrix with NaN where
    a rater did not rate an item. Raters and items are resampled independently."""
    y = np.asarray(y, dtype=np.float64)                        # (R, I)
    have = np.isfinite(y)
    if not have.any():
        return math.nan, math.nan, math.nan, np.empty(0)
    y0 = np.where(have, y, 0.0)
    r, i = y.shape
    rng = numpy_rng(seed)
    wr = rng.multinomial(r, np.full(r, 1.0 / r), size=b).astype(np.float64)  # (B, R) draw counts
    wi = rng.multinomial(i, np.full(i, 1.0 / i), size=b).astype(np.float64)  # (B, I)
    sums = np.einsum("bi,bi->b", wr @ y0, wi)                  # (B,)
    counts = np.einsum("bi,bi->b", wr @ have.astype(np.float64), wi)  # (B,)
    means = sums[counts > 0] / counts[counts > 0]
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(means, [alpha, 1.0 - alpha])
    return float(y0.sum() / have.sum()), float(lo), float(hi), means


def krippendorff_alpha(data: np.ndarray, metric: str = "ordinal") -> float:
    """Krippendorff's alpha of a (coders, units) matrix of values (NaN = missing); metric
    "nominal", "ordinal" or "interval". Units with fewer than two values are not pairable."""
    data = np.asarray(data, dtype=np.float64)
    values = np.unique(data[np.isfinite(data)])
    if values.size < 2:
        return math.nan if values.size == 0 else 1.0
    index = {v: k for k, v in enumerate(values)}
    o = np.zeros((values.size, values.size))                  # coincidence matrix
    for unit in data.T:
        vals = unit[np.isfinite(unit)]
        m = vals.size
        if m < 2:
            continue
        counts = np.zeros(values.size)
        for v in vals:
            counts[index[v]] += 1
        o += (np.outer(counts, counts) - np.diag(counts)) / (m - 1)
    n_c = o.sum(axis=1)
    n = n_c.sum()
    if n <= 1:
        return math.nan
    d2 = _distance(values, n_c, metric)
    observed = (o * d2).sum()
    expected = (np.outer(n_c, n_c) * d2).sum() / (n - 1)
    return 1.0 if expected == 0 else float(1.0 - observed / expected)


def _distance(values: np.ndarray, n_c: np.ndarray, metric: str) -> np.ndarray:
    k = values.size
    if metric == "nominal":
        return 1.0 - np.eye(k)
    if metric == "interval":
        return np.subtract.outer(values, values) ** 2
    if metric == "ordinal":
        cum = np.concatenate([[0.0], np.cumsum(n_c)])
        d = np.zeros((k, k))
        for c in range(k):
            for g in range(c, k):
                d[c, g] = d[g, c] = (cum[g + 1] - cum[c] - (n_c[c] + n_c[g]) / 2.0) ** 2
        return d
    raise ValueError(f"unknown metric {metric!r}")


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    from scipy.stats import beta

    a = (1.0 - level) / 2.0
    lo = 0.0 if k == 0 else float(beta.ppf(a, k, n - k + 1))
    hi = 1.0 if k == n else float(beta.ppf(1.0 - a, k + 1, n - k))
    return lo, hi


def sign_test(k: int, n: int) -> float:
    """Two-sided exact binomial test of k successes in n against p = 0.5."""
    from scipy.stats import binomtest

    return float(binomtest(k, n, 0.5).pvalue) if n else math.nan


def screen(ratings: Sequence[Rating], trials: Mapping[str, Trial], kind: str) -> tuple[set[int], Screening]:
    """Kept rater ids and the counts (rule: `SCREENING_RULE`)."""
    by_rater: dict[int, list[tuple[Trial, int]]] = {}
    for r in ratings:
        by_rater.setdefault(r.rater_id, []).append((trials[r.trial_id], r.value))
    kept, bad_att, bad_ctl, unscreened = set(), 0, 0, 0
    for rid, rows in by_rater.items():
        if any(t.control == "attention" and v != t.expect for t, v in rows):
            bad_att += 1
            continue
        if kind == "ab":
            pairs = [v for t, v in rows if t.control == "pair"]
            if pairs and sum(v == 2 for v in pairs) > len(pairs) / 2:
                bad_ctl += 1
                continue
            unscreened += not pairs
        else:
            ref = [v for t, v in rows if t.control == "reference"]
            anc = [v for t, v in rows if t.control == "anchor"]
            if ref and anc and np.mean(ref) - np.mean(anc) < MIN_REF_ANCHOR_GAP:
                bad_ctl += 1
                continue
            unscreened += not (ref and anc)
        kept.add(rid)
    return kept, Screening(len(by_rater), len(kept), bad_att, bad_ctl, unscreened)


def _matrix(rows: Iterable[tuple[int, str, int]]) -> tuple[np.ndarray, int, int]:
    """(R, I) matrix of (rater, item, value) rows, NaN where missing."""
    rows = list(rows)
    raters = sorted({r for r, _, _ in rows})
    items = sorted({i for _, i, _ in rows})
    ri, ii = {r: k for k, r in enumerate(raters)}, {i: k for k, i in enumerate(items)}
    y = np.full((len(raters), len(items)), np.nan)
    for r, i, v in rows:
        y[ri[r], ii[i]] = v
    return y, len(raters), len(items)


def summarize(store: ListenStore, study: str, b: int = BOOTSTRAP) -> StudySummary:
    design = store.design_json(study) or {}
    trials = {t.trial_id: t for t in store.trials(study)}
    ratings = store.ratings(study)
    kept, screening = screen(ratings, trials, design.get("type", "mos"))
    used = [r for r in ratings if r.rater_id in kept]
    mos, pref = [], None
    if design.get("type") == "ab":
        pref = _preference(design, [(trials[r.trial_id], r.value) for r in used])
    else:
        by_cond: dict[str, list[tuple[int, str, int]]] = {}
        for r in used:
            t = trials[r.trial_id]
            if t.control in ("", "reference", "anchor"):
                by_cond.setdefault(t.condition_a, []).append((r.rater_id, t.item_id, r.value))
        order = list(design.get("runs", [])) + ["@source", "@reference", "@anchor"]
        for cond in sorted(by_cond, key=lambda c: (order.index(c) if c in order else len(order), c)):
            y, nr, ni = _matrix(by_cond[cond])
            mean, lo, hi, _ = two_way_bootstrap(y, b, derive_seed(design.get("seed", 0), study, "mos", cond))
            mos.append(ConditionMos(cond, condition_label(design, cond), mean, lo, hi, nr, ni, len(by_cond[cond])))
    main = [(r.rater_id, r.trial_id, r.value) for r in used if trials[r.trial_id].control == ""]
    alpha = None
    if len({r for r, _, _ in main}) >= 2:
        y, _, _ = _matrix(main)
        alpha = krippendorff_alpha(y, "ordinal")
        alpha = None if math.isnan(alpha) else alpha
    return StudySummary(study, design.get("type", "mos"), design.get("suite_name", ""), tuple(mos), pref, alpha,
                        screening, len(design.get("draw", [])))


def _preference(design: Mapping[str, Any], rows: Sequence[tuple[Trial, int]]) -> Preference | None:
    a, b = design["runs"]
    votes = [v for t, v in rows if t.control == ""]
    if not votes:
        return None
    k, n = sum(v == 1 for v in votes), len(votes)
    lo, hi = clopper_pearson(k, n)
    return Preference(a, b, condition_label(design, a), condition_label(design, b), n, k, k / n, lo, hi,
                      sign_test(k, n))


def format_summary(s: StudySummary) -> str:
    """Plain-text summary for the terminal."""
    sc = s.screening
    lines = [f"study {s.study} ({s.type}, suite {s.suite}, {s.items_drawn} items drawn)",
             f"  raters: {sc.raters} with ratings, {sc.kept} kept ({sc.excluded_attention} failed attention, "
             f"{sc.excluded_controls} failed reference/anchor, {sc.unscreened} unscreened)"]
    for m in s.mos:
        lines.append(f"  {m.label:<32} MOS {m.mean:.2f} [{m.ci_low:.2f}, {m.ci_high:.2f}]  "
                     f"{m.n_raters} raters x {m.n_items} items ({m.n_ratings} ratings)")
    if s.preference is not None:
        p = s.preference
        lines.append(f"  {p.label_a} preferred over {p.label_b}: {p.rate_a:.1%} [{p.ci_low:.1%}, {p.ci_high:.1%}] "
                     f"of {p.n}; sign test p = {p.p_value:.3g}")
    if s.alpha is not None:
        lines.append(f"  Krippendorff's alpha (ordinal): {s.alpha:.3f}")
    return "\n".join(lines)


__all__ = ["BOOTSTRAP", "ConditionMos", "Preference", "SCREENING_RULE", "Screening", "StudySummary",
           "clopper_pearson", "format_summary", "krippendorff_alpha", "screen", "sign_test", "summarize",
           "two_way_bootstrap"]
