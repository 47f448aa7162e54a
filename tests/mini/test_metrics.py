"""Numerics of the SynthCaps metrics against hand-built posteriors."""

import numpy as np

from suites.synthcaps import metrics as N
from suites.synthcaps.sources import SOURCE_NAMES

S = len(SOURCE_NAMES)


def _probs(spans: dict[str, tuple[int, int]], t: int = 100) -> np.ndarray:
    p = np.full((t, S), 0.1)
    for name, (a, b) in spans.items():
        p[a:b, SOURCE_NAMES.index(name)] = 0.9
    return p


def test_presence_and_order():
    p = _probs({"dog_bark": (5, 30), "bell": (50, 80)})
    p[90, SOURCE_NAMES.index("siren")] = 0.99      # a 1-frame blip is ignored (min_frames=2)
    assert N.detected_sources(p) == {"dog_bark", "bell"}
    assert N.presence_exact(N.detected_sources(p), ("bell", "dog_bark")) == 1.0
    assert N.presence_jaccard({"dog_bark"}, ("dog_bark", "bell")) == 0.5
    assert N.presence_jaccard({"dog_bark", "rain"}, ("dog_bark", "bell")) == 1 / 3
    assert N.onsets(p) == {"dog_bark": 5, "bell": 50}
    assert N.order_accuracy(p, ("dog_bark", "bell")) == 1.0
    assert N.order_accuracy(p, ("bell", "dog_bark")) == 0.0
    assert N.order_accuracy(p, ("dog_bark", "bell", "rain")) == 0.5   # rain missing
    assert N.order_accuracy(p, ("dog_bark",)) is None


def test_distances():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(16000).astype(np.float32) * 0.1
    assert N.logmel_l1(x, x) == 0.0
    assert N.logmel_l1(x, 0.5 * x) > 0.5            # log power drops by ln(4) = 1.386 per bin
    assert abs(N.logmel_l1(x, 0.5 * x) - np.log(4)) < 1e-3
    a = rng.standard_normal((10, 32))
    assert abs(N.latent_l2(a, a + 3.0) - 3.0 * np.sqrt(32)) < 1e-9
