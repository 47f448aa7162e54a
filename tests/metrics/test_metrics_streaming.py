"""GaussianStats streamed in uneven batches equals np.mean / np.cov of the full array."""

import numpy as np
import pytest

from harness.errors import SabenchError
from harness.metrics.streaming import GaussianStats


def _data(n=61, d=9, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, d)) * 5 + 100).astype(np.float32)  # large offset stresses merging


def test_uneven_batches_match_numpy():
    x = _data()
    st = GaussianStats()
    for lo, hi in [(0, 1), (1, 8), (8, 8), (8, 58), (58, 61)]:
        st.update(x[lo:hi])
    # float64 accumulation of float32 inputs; the parallel merge is exact up to rounding.
    np.testing.assert_allclose(st.mean, x.astype(np.float64).mean(0), atol=1e-10, rtol=0)
    np.testing.assert_allclose(st.cov, np.cov(x.astype(np.float64), rowvar=False), atol=1e-10, rtol=0)
    assert st.count == 61


def test_merge_of_shards_equals_single_pass():
    x = _data(seed=1)
    a, b = GaussianStats().update(x[:17]), GaussianStats().update(x[17:])
    whole = GaussianStats().update(x)
    a.merge(b)
    np.testing.assert_allclose(a.cov, whole.cov, atol=1e-10, rtol=0)
    np.testing.assert_allclose(a.mean, whole.mean, atol=1e-10, rtol=0)
    assert GaussianStats().merge(a).count == 61  # merging into an empty accumulator


def test_save_load_roundtrip_and_mu_sigma_files(tmp_path):
    x = _data(seed=2)
    st = GaussianStats(meta={"backbone": "fake", "recipe_id": "r1"}).update(x)
    st.save(tmp_path / "ref.npz")
    back = GaussianStats.load(tmp_path / "ref.npz")
    assert back.count == st.count and back.meta == st.meta
    np.testing.assert_array_equal(back.cov, st.cov)
    np.savez(tmp_path / "mu.npz", mu=st.mean, sigma=st.cov, n=st.count)
    other = GaussianStats.load(tmp_path / "mu.npz")
    np.testing.assert_allclose(other.cov, st.cov, rtol=1e-12)
    np.savez(tmp_path / "bad.npz", foo=np.zeros(3))
    with pytest.raises(SabenchError, match="not a statistics file"):
        GaussianStats.load(tmp_path / "bad.npz")


def test_errors_on_too_few_rows_dim_mismatch_and_nan():
    st = GaussianStats().update(np.ones((1, 3)))
    with pytest.raises(SabenchError, match=">= 2 rows"):
        _ = st.cov
    with pytest.raises(SabenchError, match="dimension"):
        st.update(np.ones((2, 4)))
    with pytest.raises(SabenchError, match="non-finite"):
        GaussianStats().update(np.array([[np.nan, 1.0]]))
