"""Tests written for mutants that survived a review (issue 11, item 8): each one fails if the
named line is mutated in the way described."""

from __future__ import annotations

import numpy as np
import pytest

from harness.metrics import numerics
from harness.scoring import bootstrap_ci


def test_fd_eps_retry_uses_both_covariances(monkeypatch):
    """Non-finite sqrtm -> retry with eps on BOTH diagonals. With S1 != S2 (diagonal, so the answer
    is closed-form), a retry that used S1 twice (or S2 twice) gives 14 or 21 instead of 16."""
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 16.0])
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    real = numerics._sqrtm
    calls = []

    def first_fails(m):
        calls.append(m.copy())
        return np.full_like(m, np.nan) if len(calls) == 1 else real(m)
    monkeypatch.setattr(numerics, "_sqrtm", first_fails)
    eps = 1e-3  # large enough that the eps terms are visible at 1e-12
    r = numerics.frechet_distance(mu1, np.diag(a), mu2, np.diag(b), eps=eps)
    tr = float(np.sum(np.sqrt((a + eps) * (b + eps))))  # tr sqrt((S1 + eps I)(S2 + eps I)) for diagonals
    want = float(np.sum((mu1 - mu2) ** 2) + a.sum() + b.sum() - 2.0 * tr)
    assert r.used_eps and len(calls) == 2
    assert r.value == pytest.approx(want, rel=0, abs=1e-9)  # float64 sqrtm of a diagonal: ~1e-15
    np.testing.assert_allclose(calls[1], np.diag((a + eps) * (b + eps)), atol=1e-12)


@pytest.mark.parametrize("n", [2, 5, 17])
def test_bootstrap_resamples_every_item_uniformly(n, monkeypatch):
    """Every index 0..n-1 is drawn, each with frequency 1/n (binomial: 5 sd over 1000 x n draws),
    and the CI is the percentile interval of exactly those resampled means. A resampler that skips
    the first or the last item, or draws fewer than n per resample, fails here."""
    import harness.scoring as scoring

    drawn = []

    class Spy:
        def __init__(self, seed):
            self.rng = np.random.default_rng(seed)

        def integers(self, low, high, size):
            idx = self.rng.integers(low, high, size=size)
            drawn.append(idx)
            return idx
    monkeypatch.setattr(scoring, "numpy_rng", Spy)
    values = np.arange(n, dtype=np.float64) ** 2
    lo, hi = bootstrap_ci(values, seed=99, resamples=1000)
    idx = np.concatenate(drawn)  # (1000, n)
    assert idx.shape == (1000, n) and idx.min() == 0 and idx.max() == n - 1
    freq = np.bincount(idx.ravel(), minlength=n) / idx.size
    sd = np.sqrt((1 / n) * (1 - 1 / n) / idx.size)
    assert np.all(np.abs(freq - 1 / n) < 5 * sd), freq
    means = values[idx].mean(axis=1)
    assert (lo, hi) == tuple(np.percentile(means, [2.5, 97.5]))
