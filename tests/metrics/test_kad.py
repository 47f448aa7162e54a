"""KAD numerics (harness.metrics.kad) against closed forms and an independent loop."""

from __future__ import annotations

import math

import numpy as np
import pytest

from harness.errors import SabenchError
from harness.metrics.kad import KAD_SCALE, kernel_audio_distance, median_pairwise_distance


def _loop_kad(x, y, h):
    """Textbook unbiased MMD^2 with k = exp(-|a-b|^2 / (2 h^2 + 1e-8)), plain loops."""
    g = 1.0 / (2 * h * h + 1e-8)
    k = lambda a, b: math.exp(-g * float(((a - b) ** 2).sum()))  # noqa: E731
    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(a, b) for a in x for b in y) / (m * n)
    return KAD_SCALE * (xx + yy - 2 * xy)


def test_matches_the_definition():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((7, 3)), rng.standard_normal((9, 3)) + 0.5
    value, h = kernel_audio_distance(x, y)
    assert h == pytest.approx(median_pairwise_distance(y))
    assert value == pytest.approx(_loop_kad(x, y, h), rel=1e-12)
    assert kernel_audio_distance(x, y, bandwidth=2.0)[0] == pytest.approx(_loop_kad(x, y, 2.0), rel=1e-12)


def test_two_points_closed_form():
    # x = {0, 2}, y = {0, 2} (1-D), h = 1: xx = yy = exp(-4 g), xy = (2 + 2 exp(-4 g)) / 4.
    x = y = np.array([[0.0], [2.0]])
    g = 1 / (2 + 1e-8)
    want = KAD_SCALE * (2 * math.exp(-4 * g) - 2 * (2 + 2 * math.exp(-4 * g)) / 4)
    assert kernel_audio_distance(x, y, bandwidth=1.0)[0] == pytest.approx(want, rel=1e-12)


def test_lower_median_as_torch():
    # distances 1, 2, 3, 4, 5, 6 (4 points on a line at 0, 1, 3, 6): torch.median -> 3, numpy -> 3.5
    y = np.array([[0.0], [1.0], [3.0], [6.0]])
    assert median_pairwise_distance(y) == 3.0


def test_identical_sets_are_near_zero_and_shift_grows():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((40, 4))
    same = kernel_audio_distance(x, x.copy())[0]
    far = kernel_audio_distance(x, x + 3.0)[0]
    assert abs(same) < 5.0 and far > 50.0  # unbiased: ~0 for equal sets (can be slightly negative)


def test_float32_close_to_float64():
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((30, 16)), rng.standard_normal((30, 16)) + 0.3
    v64 = kernel_audio_distance(x, y)[0]
    v32 = kernel_audio_distance(x, y, precision="float32")[0]
    assert v32 != v64 and v32 == pytest.approx(v64, rel=1e-4)


def test_bad_input_named():
    with pytest.raises(SabenchError, match="two"):
        kernel_audio_distance(np.zeros((1, 3)), np.zeros((4, 3)))
    with pytest.raises(SabenchError, match="precision"):
        kernel_audio_distance(np.zeros((3, 3)), np.zeros((4, 3)), precision="half")
