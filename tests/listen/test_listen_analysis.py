"""Listening-test numerics against closed forms and hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from harness.listen.analysis import clopper_pearson, krippendorff_alpha, screen, sign_test, two_way_bootstrap
from harness.listen.store import Rating, Trial

NAN = math.nan


def test_two_way_bootstrap_variance_matches_the_closed_form():
    """y_ri = a_r + b_i on a full grid: the bootstrap mean is mean(a*) + mean(b*), so its
    variance is var(a)/R + var(b)/I (plug-in variances) exactly; checked to Monte Carlo error."""
    a = np.array([0.9, -0.4, 0.3, -1.1, 0.6, 0.0, -0.2, 1.3])        # rater effects, R = 8
    b = np.array([0.5, -0.5, 0.25, 0.0, -0.25, 0.8, -0.8, 0.1, 0.2, -0.3])  # item effects, I = 10
    y = 3.0 + a[:, None] + b[None, :]
    mean, lo, hi, means = two_way_bootstrap(y, b=40_000, seed=3)
    assert mean == pytest.approx(3.0 + a.mean() + b.mean(), abs=1e-12)
    want = math.sqrt(a.var() / len(a) + b.var() / len(b))
    assert means.std() == pytest.approx(want, rel=0.02)
    assert lo < mean < hi and (hi - lo) == pytest.approx(2 * 1.96 * want, rel=0.08)


def test_one_way_cases_reduce_to_the_ordinary_bootstrap():
    """Ratings that differ only by rater: the item resampling changes nothing, the variance is
    var(a)/R; ratings equal everywhere: a zero-width interval."""
    a = np.array([1.0, 2.0, 4.0, 5.0, 3.0])
    y = np.repeat(a[:, None], 6, axis=1)
    _, _, _, means = two_way_bootstrap(y, b=40_000, seed=1)
    assert means.std() == pytest.approx(math.sqrt(a.var() / 5), rel=0.02)
    assert two_way_bootstrap(np.full((4, 3), 4.0), b=500)[:3] == (4.0, 4.0, 4.0)


def test_missing_cells_are_left_out_of_the_mean():
    y = np.array([[5, NAN, 3], [NAN, 1, NAN]], dtype=float)
    mean, lo, hi, means = two_way_bootstrap(y, b=2000, seed=0)
    assert mean == pytest.approx(3.0)                                 # (5 + 3 + 1) / 3
    assert 1.0 <= lo <= mean <= hi <= 5.0 and means.min() >= 1.0 and means.max() <= 5.0
    assert math.isnan(two_way_bootstrap(np.full((2, 2), NAN))[0])


def test_krippendorff_alpha_published_example():
    """Krippendorff (2011), 'Computing Krippendorff's alpha-reliability': 4 observers x 12 units;
    published alpha: nominal 0.743, ordinal 0.815, interval 0.849."""
    data = np.array([
        [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
        [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN]])
    assert krippendorff_alpha(data, "nominal") == pytest.approx(0.743, abs=5e-4)
    assert krippendorff_alpha(data, "ordinal") == pytest.approx(0.815, abs=5e-4)
    assert krippendorff_alpha(data, "interval") == pytest.approx(0.849, abs=5e-4)


def test_krippendorff_alpha_hand_computed():
    """2 coders, units (1,1), (2,2), (1,2): o11 = o22 = 2, o12 = o21 = 1, n1 = n2 = 3, n = 6;
    ordinal d(1,2)^2 = (6 - 3)^2 = 9; alpha = 1 - (n-1) * 18 / (2 * 3 * 3 * 9) = 4/9.
    Perfect agreement: 1; one coder only: nothing pairable (NaN)."""
    assert krippendorff_alpha(np.array([[1, 2, 1], [1, 2, 2]], float)) == pytest.approx(4 / 9)
    assert krippendorff_alpha(np.array([[1, 4, 5], [1, 4, 5]], float)) == 1.0
    assert math.isnan(krippendorff_alpha(np.array([[1, 4, NAN], [NAN, NAN, 5]], float)))


def test_preference_interval_and_sign_test_by_hand():
    # 8 of 10: two-sided exact p = 2 * (C(10,8) + C(10,9) + C(10,10)) / 2^10 = 112 / 1024
    assert sign_test(8, 10) == pytest.approx(112 / 1024)
    assert sign_test(5, 10) == pytest.approx(1.0)
    lo, hi = clopper_pearson(8, 10)
    assert (lo, hi) == pytest.approx((0.4439045376, 0.9747892736), abs=1e-6)  # Clopper-Pearson 95%
    assert clopper_pearson(0, 5)[0] == 0.0 and clopper_pearson(5, 5)[1] == 1.0
    assert clopper_pearson(0, 5)[1] == pytest.approx(1 - 0.025 ** (1 / 5))      # closed form at k = 0


def _t(tid, control, expect=None):
    return Trial(tid, "mos", control, "@x", None, "i", "c", None, None, "t", None, expect)


def _r(rater, tid, value):
    return Rating("s", rater, tid, value, 1000, True, None, "", "", 1)


def test_screening_rule_and_counts():
    trials = {"ref": _t("ref", "reference"), "anc": _t("anc", "anchor"), "att": _t("att", "attention", 2),
              "m": _t("m", "")}
    ratings = [
        _r(1, "ref", 5), _r(1, "anc", 1), _r(1, "att", 2), _r(1, "m", 3),   # kept
        _r(2, "ref", 5), _r(2, "anc", 1), _r(2, "att", 4), _r(2, "m", 3),   # failed attention
        _r(3, "ref", 3), _r(3, "anc", 3), _r(3, "m", 3),            # reference only 0 above anchor
        _r(4, "ref", 4), _r(4, "anc", 3), _r(4, "m", 4),                    # exactly 1 above: kept
        _r(5, "m", 2),                                                      # no controls: kept, unscreened
    ]
    kept, s = screen(ratings, trials, "mos")
    assert kept == {1, 4, 5}
    assert (s.raters, s.kept, s.excluded_attention, s.excluded_controls, s.unscreened) == (5, 3, 1, 1, 1)
