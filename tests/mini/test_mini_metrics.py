"""The SynthCaps metrics wired through a minimal MetricContext on ground-truth audio.

Scoring a prompt's own reference must beat scoring another prompt's reference: that is what
makes the metrics informative (the values themselves depend on the trained checkpoints).
"""

import numpy as np
import pytest

from harness import audio as haudio
from harness.metrics.base import EvalItem
from suites.synthcaps.backbones import backbones as B
from suites.synthcaps.mini_metrics import make_edit_latent_l2, make_edit_mel_l1, make_event_order, make_event_presence
from suites.synthcaps.suite_loaders import editing_prompts, generation_prompts


class Ctx:
    profile = "mini"

    def __init__(self):
        self._bb = {"mini_semantic": B.MiniSemantic(), "mini_vae": B.MiniVAE()}

    def backbone(self, name):
        self._bb[name].load()
        return self._bb[name]

    def load_audio(self, path, recipe):
        return haudio.load(path, recipe)

    def embed_audio(self, name, paths):
        bb = self.backbone(name)
        for i, p in enumerate(paths):
            yield [i], bb.embed([self.load_audio(p, bb.recipe)])


@pytest.mark.slow
def test_presence_and_order_prefer_the_matching_audio(tmp_path):
    rows = generation_prompts("test", n=24, cache_dir=str(tmp_path))
    own = [EvalItem(r.id, r, output=r.reference) for r in rows]
    other = [EvalItem(r.id, r, output=rows[(k + 1) % len(rows)].reference)
             for k, r in enumerate(rows)]
    ctx = Ctx()
    pres = make_event_presence()
    good = np.mean(list(pres.compute(ctx, own).per_item.values()))
    bad = np.mean(list(pres.compute(ctx, other).per_item.values()))
    assert good >= 0.6 and bad <= 0.2, (good, bad)
    from harness.plan import bind

    bound = bind(pres, ctx.backbone("mini_semantic").info, "sabench")
    assert bound.backbone_checkpoint_sha256 == ctx.backbone("mini_semantic").info.checkpoint_sha256
    order = make_event_order().compute(ctx, own)
    n_multi = sum(len(r.tag("order")) >= 2 for r in rows)
    assert len(order.per_item) == n_multi > 0
    assert np.mean(list(order.per_item.values())) >= 0.6


@pytest.mark.slow
def test_edit_distances_are_zero_for_the_target_and_positive_for_the_source(tmp_path):
    rows = editing_prompts(per_category=1, cache_dir=str(tmp_path))[:6]
    exact = [EvalItem(r.id, r, output=r.reference, reference=r.reference) for r in rows]
    unedited = [EvalItem(r.id, r, output=r.source, reference=r.reference) for r in rows]
    ctx = Ctx()
    for make in (make_edit_mel_l1, make_edit_latent_l2):
        m = make()
        assert all(v == 0.0 for v in m.compute(ctx, exact).per_item.values())
        assert all(v > 0.0 for v in m.compute(ctx, unedited).per_item.values())
        assert m.info.higher_is_better is False
