"""Guards made explicit while typing harness/metrics: each bad input is a one-line SabenchError."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from harness.errors import SabenchError
from harness.metrics.base import MetricOutput
from harness.metrics.classifier import make_is, make_kl
from harness.metrics.presets import get_preset
from harness.metrics.recon import MEL_DAC_DEFAULT, STFT_DAC_DEFAULT, SpectralLossConfig, spectral_loss
from harness.metrics.streaming import GaussianStats
from harness.scoring import aggregate


def test_an_empty_accumulator_is_not_saved(tmp_path):
    with pytest.raises(SabenchError, match="no rows accumulated"):
        GaussianStats().save(tmp_path / "s.npz")
    assert not list(tmp_path.iterdir())
    st = GaussianStats().update(np.eye(3))                     # (3, 3) rows
    st.save(tmp_path / "s.npz")
    np.testing.assert_allclose(GaussianStats.load(tmp_path / "s.npz").mean, np.full(3, 1 / 3))


def test_preset_sentinel_is_the_only_string_accepted():
    p = get_preset("audioldm_eval")
    assert make_is(seed="preset", preset="audioldm_eval").seed == p.is_seed
    assert make_is(seed=7).seed == 7 and make_kl("ref_to_gen", eps=None).eps is None
    assert make_kl("ref_to_gen", preset="audioldm_eval").eps == p.kl_eps
    with pytest.raises(SabenchError, match=r"metric is: seed 'abc' is not a number"):
        make_is(seed="abc")
    with pytest.raises(SabenchError, match=r"metric kl_gen_to_ref: eps 'tiny' is not a number"):
        make_kl("gen_to_ref", eps="tiny")


def test_mel_loss_needs_band_edges():
    assert MEL_DAC_DEFAULT.mel_band(1) == (80, 0.0, None)
    assert STFT_DAC_DEFAULT.mel_band(0) is None
    torch = pytest.importorskip("torch")
    x = torch.zeros(1, 4096)
    with pytest.raises(SabenchError, match="spectral loss half: mel bands need mel_fmin and mel_fmax"):
        spectral_loss(x, x, 16000, SpectralLossConfig("half", (512,), (40,)))


def test_a_set_metric_without_a_value_is_named():
    metric = SimpleNamespace(name="fd_x", info=SimpleNamespace(kind="set"))
    with pytest.raises(SabenchError, match="fd_x: set metric returned no value"):
        aggregate("run", metric, MetricOutput(value=None), 4)
    assert aggregate("run", metric, MetricOutput(value=2.5), 4).value == 2.5
