"""Suite loaders write the rendered audio to the cache and tag prompts with the scene."""

import numpy as np

from harness import audio as haudio
from harness.records import Prompt
from suites.synthcaps.editing import CATEGORIES
from suites.synthcaps.render import render
from suites.synthcaps.scene import Scene
from suites.synthcaps.suite_loaders import editing_prompts, generation_prompts, reconstruction_prompts


def test_generation_prompts_reference_is_the_rendered_clip(tmp_path):
    rows = generation_prompts("test", n=3, seed=2, cache_dir=str(tmp_path))
    assert [type(r) for r in rows] == [Prompt] * 3 and len({r.id for r in rows}) == 3
    for r in rows:
        scene = Scene.from_json(r.tag("scene"))
        a = haudio.read(r.reference)
        assert a.sample_rate == 16000 and a.channels == 1
        np.testing.assert_array_equal(a.samples[0], render(scene).audio)  # float32 WAV is lossless
        assert r.tag("events") == scene.sources() and len(r.tag("paraphrases")) == 2
        assert r.duration == 4.0
    again = generation_prompts("test", n=3, seed=2, cache_dir=str(tmp_path))
    assert again == rows


def test_reconstruction_and_editing_rows(tmp_path):
    rec = reconstruction_prompts(n=2, cache_dir=str(tmp_path))
    assert all(r.tag("split") == "reconstruction" for r in rec)
    rows = editing_prompts(per_category=1, cache_dir=str(tmp_path))
    assert [r.tag("category") for r in rows] == list(CATEGORIES)
    for r in rows:
        assert r.source and r.reference and r.source_text and r.text != r.source_text
        src = haudio.read(r.source).samples[0]
        tgt = haudio.read(r.reference).samples[0]
        np.testing.assert_array_equal(tgt, render(Scene.from_json(r.tag("scene"))).audio)
        np.testing.assert_array_equal(src, render(Scene.from_json(r.tag("source_scene"))).audio)
