"""Singular covariances (N <= D): how each side's Fréchet distance behaves on the same statistics.

sabench follows pytorch-fid (as audioldm_eval and frechet_audio_distance do): scipy sqrtm, eps
retry when not finite, and a refusal when the diagonal of sqrtm(S1 S2) keeps an imaginary part
above 1e-3 — a one-line SabenchError naming the fix (more samples than dimensions), where
audioldm_eval fails an `assert` and frechet_audio_distance raises ValueError (and its score()
then returns -1). fadtk takes the trace from an eigendecomposition and returns a number; sabench
records that cross-check (`trace_sqrt_eig`) and the `rank_deficient` flag with every FD.
"""

from __future__ import annotations

import numpy as np
import pytest

from harness.errors import SabenchError
from harness.metrics.numerics import frechet_distance

import peers_run

pytestmark = pytest.mark.parity


def _stats(n: int, d: int, seed: int):
    x = np.random.default_rng(seed).standard_normal((n, d)) ** 2  # (n, d), skewed like ReLU features
    return x, x.mean(axis=0), np.cov(x, rowvar=False)


def _audioldm_eval_fd(x1, x2):
    import torch

    _, fid, _, _, _ = peers_run._audioldm_eval_modules()
    return fid.calculate_fid({"f": torch.from_numpy(x1)}, {"f": torch.from_numpy(x2)}, "f")["frechet_distance"]


def _fadtk_fd(m1, c1, m2, c2):
    from fadtk.fad import calc_frechet_distance

    return float(calc_frechet_distance(m1, c1, m2, c2))


def test_well_conditioned_all_agree(need):
    need("audioldm_eval")
    need("fadtk")
    x1, m1, c1 = _stats(200, 8, 0)
    x2, m2, c2 = _stats(200, 8, 1)
    ours = frechet_distance(m1, c1, m2, c2, n1=200, n2=200)
    assert not ours.rank_deficient and ours.eig_crosscheck < 1e-9
    assert ours.value == pytest.approx(_audioldm_eval_fd(x1, x2), rel=1e-9)
    assert ours.value == pytest.approx(_fadtk_fd(m1, c1, m2, c2), rel=1e-9)


@pytest.mark.parametrize("seed", range(6))
def test_singular_sabench_matches_pytorch_fid_or_refuses_like_it(seed, need):
    need("audioldm_eval")
    need("fadtk")
    x1, m1, c1 = _stats(5, 24, 10 + seed)
    x2, m2, c2 = _stats(5, 24, 20 + seed)
    try:
        peer = _audioldm_eval_fd(x1, x2)
    except AssertionError as exc:
        assert "Imaginary component" in str(exc)
        with pytest.raises(SabenchError, match="imaginary component .* use more samples than feature dimensions"):
            frechet_distance(m1, c1, m2, c2, n1=5, n2=5)
    else:
        ours = frechet_distance(m1, c1, m2, c2, n1=5, n2=5)
        assert ours.rank_deficient and any("N <= dim" in w for w in ours.warnings)
        assert ours.value == pytest.approx(peer, rel=1e-9)
    assert np.isfinite(_fadtk_fd(m1, c1, m2, c2))  # fadtk's eigenvalue trace: always a number
