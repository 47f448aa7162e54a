"""Every registered backbone's output for a clip (or a caption) is the same whether it is
embedded alone or inside a batch with longer, shorter and equal-length neighbours.

Backbones are enumerated from the `BACKBONES` registry, so a newly registered backbone fails
`test_every_backbone_has_a_builder` until it is given a builder here (or a skip reason).
Real backbones run on random-weight checkpoints in their published formats (the fixtures
of tests/backbones/conftest.py); mini backbones on the committed mini checkpoints.

Tolerance: max |alone - batched| <= 1e-4 * (1 + max |alone|). Batched and single forward
passes may use different BLAS / conv blockings, so equal results are only guaranteed up to
float32 rounding (measured: <= 2e-6 on these models); the bug class this guards against
(padding leaking into a clip's output, cosine 0.92 for the old mini text tower) is orders
of magnitude larger.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from harness.registry import BACKBONES, load_catalog

_KIT = Path(__file__).resolve().parents[1] / "backbones"
_spec = importlib.util.spec_from_file_location("_backbone_fixtures", _KIT / "conftest.py")
_fx = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fx)
panns_weights, laion_weights, msclap_weights = _fx.panns_weights, _fx.laion_weights, _fx.msclap_weights
aes_weights, vggish_weights = _fx.aes_weights, _fx.vggish_weights
_one_thread = _fx._one_thread  # autouse: one torch thread

REL_TOL = 1e-4

# name -> (weights fixture or None, constructor kwargs, clip seconds, slow)
BUILDERS: dict[str, tuple[str | None, dict, float, bool]] = {
    "panns16k": ("panns_weights", {}, 1.2, True),
    "panns32k": ("panns_weights", {}, 1.2, True),
    "laion_clap": ("laion_weights", {}, 1.5, True),
    "ms_clap": ("msclap_weights", {}, 1.5, True),
    "aesthetics": ("aes_weights", {}, 1.5, True),
    "vggish": ("vggish_weights", {}, 2.0, True),
    "mini_classifier": (None, {}, 1.0, False),
    "mini_clap": (None, {}, 1.0, False),
    "mini_semantic": (None, {}, 1.0, False),
    "mini_vae": (None, {}, 1.0, False),
    "mini_quality": (None, {}, 1.0, False),
}
SKIPS: dict[str, str] = {}
"""name -> why it cannot be tested here (none today)."""

CAPTIONS = ["a dog barks", "rain falls on a tin roof while a dog barks twice and then a car passes slowly",
            "birds", "an engine idles"]


def _names() -> list[str]:
    """Registered production backbones (test kits register helpers such as `test_stats` in
    the same registry during a full test run; those are not benchmark backbones)."""
    load_catalog()
    return sorted(n for n in BACKBONES.names() if _production(n))


def _production(name: str) -> bool:
    module = getattr(BACKBONES.get(name), "__module__", "") or ""
    return module.split(".")[0] in ("harness", "systems", "suites", "reports")


def _params():
    out = []
    for name in _names():
        slow = BUILDERS.get(name, (None, {}, 1.0, False))[3]
        out.append(pytest.param(name, marks=[pytest.mark.slow] if slow else [], id=name))
    return out


def test_every_backbone_has_a_builder():
    missing = [n for n in _names() if n not in BUILDERS and n not in SKIPS]
    assert not missing, f"add a builder (or a skip reason) for {missing} in {__file__}"


def _build(name: str, request):
    if name in SKIPS:
        pytest.skip(SKIPS[name])
    fixture, kwargs, seconds, _ = BUILDERS[name]
    if fixture is not None:
        kwargs = {**kwargs, "weights": request.getfixturevalue(fixture)}
    bb = BACKBONES.get(name)(**kwargs)
    bb.load()
    return bb, seconds


def _clip(sr: int, seconds: float, seed: int) -> np.ndarray:
    """(T,) float32: a seeded noise-plus-tone clip at `sr`."""
    rng = np.random.default_rng(seed)
    n = int(round(seconds * sr))
    t = np.arange(n) / sr
    return (0.1 * rng.standard_normal(n) + 0.3 * np.sin(2 * np.pi * (220 + 40 * seed) * t)).astype(np.float32)


def _valid(out: dict[str, np.ndarray], key: str, row: int) -> np.ndarray:
    """Row `row` of output `key`, trimmed to its n_frames when the output has a time axis."""
    v = np.asarray(out[key])[row]
    counts = out.get("n_frames")
    if counts is not None and key != "n_frames" and v.ndim >= 2:
        v = v[: int(np.asarray(counts)[row])]
    return np.asarray(v, np.float64)


def _assert_close(alone: np.ndarray, batched: np.ndarray, what: str) -> None:
    assert alone.shape == batched.shape, f"{what}: shape {alone.shape} alone, {batched.shape} batched"
    diff = float(np.max(np.abs(alone - batched))) if alone.size else 0.0
    assert diff <= REL_TOL * (1.0 + float(np.max(np.abs(alone)))), f"{what}: max |diff| {diff:.3g}"


@pytest.mark.parametrize("name", _params())
def test_audio_output_is_independent_of_the_batch(name, request):
    bb, seconds = _build(name, request)
    sr = bb.recipe.sample_rate
    x = _clip(sr, seconds, 0)
    batch = [_clip(sr, seconds * 0.7, 1), x, _clip(sr, seconds * 1.6, 2), _clip(sr, seconds, 3)]
    alone, together = bb.embed([x]), bb.embed(batch)
    assert set(alone) == set(together)
    for key in alone:
        _assert_close(_valid(alone, key, 0), _valid(together, key, 1), f"{name} {key!r}")
    # a neighbour of the same length must not leak either (same shapes, one forward pass)
    pair = bb.embed([_clip(sr, seconds, 4), x])
    for key in alone:
        _assert_close(_valid(alone, key, 0), _valid(pair, key, 1), f"{name} {key!r} (equal-length batch)")


def _text_params():
    return [p for p in _params() if _has_text(p.values[0])]


def _has_text(name: str) -> bool:
    from harness.backbones.base import Backbone

    if name in SKIPS or name not in BUILDERS:
        return False
    entry = BACKBONES.get(name)
    cls = entry if isinstance(entry, type) else None
    if cls is None:  # a factory function: text towers are CLAP models
        return "clap" in name
    return cls.embed_text is not Backbone.embed_text


@pytest.mark.parametrize("name", _text_params())
def test_text_output_is_independent_of_the_batch(name, request):
    bb, _ = _build(name, request)
    alone = np.asarray(bb.embed_text([CAPTIONS[0]]))[0]
    together = np.asarray(bb.embed_text(CAPTIONS))[0]
    shuffled = np.asarray(bb.embed_text(CAPTIONS[::-1]))[-1]
    _assert_close(np.asarray(alone, np.float64), np.asarray(together, np.float64), f"{name} text")
    _assert_close(np.asarray(alone, np.float64), np.asarray(shuffled, np.float64), f"{name} text (reordered)")


def test_text_backbones_are_found():
    """The text enumeration itself must see the CLAP towers (else the test above is empty)."""
    names = {p.values[0] for p in _text_params()}
    assert {"mini_clap", "laion_clap", "ms_clap"} <= names


# ------------------------------------------------------------------ mini generation

GEN_TOL = 1e-5
"""Absolute, on clips peaking at 0.01-0.3: each request's noise comes from its own seeded
generators and text states no longer see padding, so the only batch effect left is float
rounding of batched matmuls / masked attention over a longer key length (measured <= 1.3e-6;
the padding leak it replaces moved samples by up to 0.15)."""


@pytest.mark.slow
def test_mini_semanticaudio_generation_is_independent_of_the_batch(tmp_path, monkeypatch):
    from harness.records import GenerationRequest, Prompt
    from harness.registry import SYSTEMS
    from suites.synthcaps import gate

    monkeypatch.setenv("SABENCH_CACHE", str(tmp_path))
    load_catalog()
    system = SYSTEMS.get("semanticaudio")(**gate.system_params("semanticaudio", {"variant": "mlp", "d": 16}))
    texts = ["a dog barks then a car horn honks",
             "rain falls steadily while a dog barks twice and then a car passes by slowly on a wet road",
             "birds chirp", "an engine idles and then a door slams"]
    reqs = [GenerationRequest(Prompt(f"g{i}", t, 1.0), 100 + i) for i, t in enumerate(texts)]
    together = system.generate(reqs)
    for i in (0, 2):
        (alone,) = system.generate([reqs[i]])
        diff = float(np.abs(alone.samples - together[i].samples).max())
        assert diff <= GEN_TOL, f"request {i}: max |alone - batched| = {diff:.3g}"
        assert float(np.abs(alone.samples).max()) > 1e-3                  # not trivially silent
