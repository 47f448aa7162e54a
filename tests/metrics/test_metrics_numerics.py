"""Numerics against closed forms and independent float64 computations."""

import math

import numpy as np
import pytest

from harness.errors import SabenchError
from harness.metrics import numerics
from harness.metrics.numerics import cosine, frechet_distance, inception_score, kl_divergence, kl_softmax


def _spd(rng, d, n=None):
    """Sample covariance of n Gaussian rows (SPD when n > d)."""
    x = rng.standard_normal((n or 4 * d, d)) @ rng.standard_normal((d, d))
    return np.cov(x, rowvar=False)


def _fd_symmetric(mu1, s1, mu2, s2):
    """Independent FD: Tr sqrt(S1^1/2 S2 S1^1/2) from symmetric eigendecompositions."""
    w, v = np.linalg.eigh(s1)
    r = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    m = r @ s2 @ r
    tr = np.sqrt(np.clip(np.linalg.eigvalsh((m + m.T) / 2), 0, None)).sum()
    d = mu1 - mu2
    return d @ d + np.trace(s1) + np.trace(s2) - 2 * tr


# ------------------------------------------------------------------ Fréchet distance

def test_fd_isotropic_shift_is_squared_norm():
    mu = np.array([1.0, -2.0, 0.5, 3.0])
    r = frechet_distance(np.zeros(4), np.eye(4), mu, np.eye(4))
    # Closed form ||mu||^2 = 14.25; sqrtm(I) is exact, so only rounding remains.
    assert r.value == pytest.approx(14.25, abs=1e-12)
    assert r.imag_residue == 0.0 and not r.used_eps and not r.rank_deficient


def test_fd_diagonal_closed_form():
    rng = np.random.default_rng(1)
    a, b = rng.uniform(0.1, 4, 6), rng.uniform(0.1, 4, 6)
    mu1, mu2 = rng.standard_normal(6), rng.standard_normal(6)
    expect = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    r = frechet_distance(mu1, np.diag(a), mu2, np.diag(b))
    # Diagonal sqrtm is exact up to float64 rounding of sqrt: 1e-10 absolute on values ~10.
    assert r.value == pytest.approx(expect, abs=1e-10)


def test_fd_identical_stats_is_zero():
    rng = np.random.default_rng(2)
    s = _spd(rng, 16)
    mu = rng.standard_normal(16)
    r = frechet_distance(mu, s, mu, s, n1=64, n2=64)
    scale = np.trace(s)
    # 2 Tr sqrtm(S^2) cancels Tr S + Tr S up to sqrtm's relative error (~1e-12 here).
    assert abs(r.value) <= 1e-6 * scale
    assert r.eig_crosscheck < 1e-8


def test_fd_matches_symmetric_eigen_form_on_random_spd():
    rng = np.random.default_rng(3)
    for d in (3, 12, 40):
        s1, s2 = _spd(rng, d), _spd(rng, d)
        mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
        r = frechet_distance(mu1, s1, mu2, s2)
        ref = _fd_symmetric(mu1, s1, mu2, s2)
        # Both are float64 on well-conditioned SPD matrices: agree to 1e-8 relative.
        assert r.value == pytest.approx(ref, rel=1e-8, abs=1e-9)
        assert r.trace_sqrt == pytest.approx(r.trace_sqrt_eig, rel=1e-9)


def test_fd_rank_deficient_is_finite_and_flagged():
    rng = np.random.default_rng(4)
    d = 32
    x1, x2 = rng.standard_normal((20, d)), rng.standard_normal((20, d)) + 0.3
    s1, s2 = np.cov(x1, rowvar=False), np.cov(x2, rowvar=False)
    r = frechet_distance(x1.mean(0), s1, x2.mean(0), s2, n1=20, n2=20)
    assert np.isfinite(r.value)
    # Singular covariances: sqrtm error ~1e-7 of the trace scale is tolerated, not more.
    assert r.value >= -1e-6 * (np.trace(s1) + np.trace(s2))
    assert r.rank_deficient and any("N <= dim" in w for w in r.warnings)
    # The symmetric eigen form is robust for PSD matrices: sqrtm agrees to 1e-5 relative.
    assert r.value == pytest.approx(_fd_symmetric(x1.mean(0), s1, x2.mean(0), s2), rel=1e-5)


def test_fd_small_imaginary_residue_is_dropped_and_reported():
    # sqrtm(diag(-1e-8, 1)) = diag(1e-4 i, 1): |imag| 1e-4 < 1e-3, so the real part is kept.
    r = frechet_distance(np.zeros(2), np.diag([-1e-8, 1.0]), np.zeros(2), np.eye(2))
    assert r.imag_residue == pytest.approx(1e-4, rel=1e-6)
    assert r.value == pytest.approx((1 - 1e-8) + 2 - 2 * 1.0, abs=1e-12)


def test_fd_large_imaginary_residue_fails():
    with pytest.raises(SabenchError, match="imaginary component"):
        frechet_distance(np.zeros(2), np.diag([-1.0, 1.0]), np.zeros(2), np.eye(2))


def test_fd_non_finite_sqrtm_retries_with_eps(monkeypatch):
    calls = []
    real = numerics._sqrtm

    def flaky(a):
        calls.append(a.copy())
        return np.full_like(a, np.nan) if len(calls) == 1 else real(a)

    monkeypatch.setattr(numerics, "_sqrtm", flaky)
    r = frechet_distance(np.zeros(3), np.eye(3), np.ones(3), np.eye(3))
    assert r.used_eps and len(calls) == 2
    np.testing.assert_allclose(calls[1], (1 + 1e-6) ** 2 * np.eye(3))
    assert r.value == pytest.approx(3.0 + 6 - 2 * 3 * (1 + 1e-6), abs=1e-12)


def test_fd_shape_mismatch_is_an_error():
    with pytest.raises(SabenchError):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))


# ------------------------------------------------------------------ Inception Score

def test_is_identical_predictions_is_one():
    logits = np.tile(np.random.default_rng(0).standard_normal(527), (50, 1))
    mean, std = inception_score(logits)
    assert mean == pytest.approx(1.0, abs=1e-12) and std == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("k", [1, 3, 7])
def test_is_even_one_hot_gives_k(k):
    # Each contiguous split holds every one of k classes twice; logit 60 makes the softmax
    # one-hot to within 527 * e^-60 ~ 1e-24, far below the 1e-9 tolerance.
    splits = 10
    labels = np.tile(np.arange(k), 2 * splits)
    logits = np.zeros((labels.size, 527))
    logits[np.arange(labels.size), labels] = 60.0
    mean, std = inception_score(logits, splits=splits, shuffle_seed=None)
    assert mean == pytest.approx(k, rel=1e-9) and std == pytest.approx(0.0, abs=1e-9)


def test_is_hand_computed_case():
    p = np.array([[0.5, 0.5], [0.9, 0.1], [0.2, 0.8], [0.2, 0.8]])
    # split 1: q = (0.7, 0.3)
    kl1 = 0.5 * math.log(0.5 / 0.7) + 0.5 * math.log(0.5 / 0.3)
    kl2 = 0.9 * math.log(0.9 / 0.7) + 0.1 * math.log(0.1 / 0.3)
    s1, s2 = math.exp((kl1 + kl2) / 2), 1.0  # split 2: identical rows
    mean, std = inception_score(np.log(p), splits=2, shuffle_seed=None)
    assert mean == pytest.approx((s1 + s2) / 2, rel=1e-12)
    assert std == pytest.approx(abs(s1 - s2) / 2, rel=1e-12)  # population std of two values


def test_is_shuffle_uses_randomstate_permutation():
    logits = np.random.default_rng(5).standard_normal((40, 527)) * 3
    perm = np.random.RandomState(2020).permutation(40)
    assert inception_score(logits) == inception_score(logits[perm], shuffle_seed=None)
    assert inception_score(logits) != inception_score(logits, shuffle_seed=None)


# ------------------------------------------------------------------ KL

P8 = np.array([.05, .1, .2, .05, .15, .25, .08, .12])
Q8 = np.array([.3, .1, .2, .1, .1, .02, .08, .1])
P3, Q3 = np.array([.1, .4, .5]), np.array([.8, .15, .05])


def test_kl_reference_values_stable_audio_metrics():
    # reference/metrics.md §11; the eps values were printed by torch in float32, so 1e-6 abs.
    assert kl_divergence(P8, Q8)[0] == pytest.approx(0.589885181619163, abs=1e-12)
    assert kl_divergence(P8, Q8, eps=1e-6)[0] == pytest.approx(0.5898663401603699, abs=1e-6)
    assert kl_divergence(P3, Q3)[0] == pytest.approx(1.3356800935337299, abs=1e-12)
    assert kl_divergence(P3, Q3, eps=1e-6)[0] == pytest.approx(1.335667371749878, abs=1e-6)


def test_kl_softmax_direction_is_explicit():
    gen, ref = np.log(Q8)[None], np.log(P8)[None]
    ref_to_gen = kl_softmax(gen, ref, "ref_to_gen")[0]
    gen_to_ref = kl_softmax(gen, ref, "gen_to_ref")[0]
    assert ref_to_gen == pytest.approx(0.589885181619163, abs=1e-12)  # KL(P || Q)
    assert gen_to_ref == pytest.approx(np.sum(Q8 * np.log(Q8 / P8)), abs=1e-12)  # KL(Q || P)
    # swapping the arguments swaps the direction
    assert kl_softmax(ref, gen, "gen_to_ref")[0] == pytest.approx(ref_to_gen, abs=1e-12)
    assert kl_softmax(gen, ref, "ref_to_gen", eps=1e-6)[0] == pytest.approx(0.5898663401603699, abs=1e-6)
    with pytest.raises(SabenchError):
        kl_softmax(gen, ref, "forward")


def test_kl_softmax_per_pair_rows():
    rng = np.random.default_rng(6)
    g, r = rng.standard_normal((5, 527)), rng.standard_normal((5, 527))
    out = kl_softmax(g, r, "ref_to_gen")
    assert out.shape == (5,) and np.all(out > 0)
    assert out[2] == pytest.approx(kl_softmax(g[2:3], r[2:3], "ref_to_gen")[0], rel=1e-12)


# ------------------------------------------------------------------ cosine, bootstrap

def test_cosine_rowwise_and_zero_safe():
    a = np.array([[1.0, 0, 0], [1, 1, 0], [0, 0, 0]])
    b = np.array([[2.0, 0, 0], [1, -1, 0], [1, 2, 3]])
    np.testing.assert_allclose(cosine(a, b), [1.0, 0.0, 0.0], atol=1e-15)
    assert cosine([3.0, 4.0], [4.0, 3.0])[0] == pytest.approx(24 / 25)


def test_bootstrap_ci_seeded_and_sane():
    """The one bootstrap (harness.scoring.bootstrap_ci, also used by reports.paired)."""
    from harness.scoring import bootstrap_ci

    v = np.random.default_rng(7).normal(2.0, 1.0, 200)
    lo, hi = bootstrap_ci(v, seed=11, resamples=500)
    assert (lo, hi) == bootstrap_ci(v, seed=11, resamples=500)
    assert lo < v.mean() < hi
    # The CI half-width is about 1.96 * sd / sqrt(N) ~ 0.14 here; allow a factor of 1.5.
    assert 0.09 < (hi - lo) / 2 < 0.21
    assert bootstrap_ci(np.full(10, 5.0), seed=0, resamples=50) == (5.0, 5.0)
