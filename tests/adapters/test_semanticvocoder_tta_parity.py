"""Optional numeric parity of sabench's SemanticVocoder text-to-audio rewrite with the ORIGINAL
code (zeyuxie29/SemanticVocoder, src/inference): UDiT backbone, T5 text conditioning and the
whole `SingleTaskCrossAttentionAudioFlowMatching.inference` path (flow matching + vocoder).

Skipped unless SABENCH_SEMANTICVOCODER_SRC names a git directory of the original. For each tiny
probe config in systems/semanticvocoder/keys/tta (all but `full`) the original module is built
on the CPU by derive.py's `_target_` importer with the tiny T5 stand-ins, sabench's random
weights (`tiny.random_tta`) are loaded into it strictly, and both run on the same inputs.

Tolerance: max |ours - original| <= 1e-5 * max |original| everywhere. Both sides compute the
same float32 arithmetic; only the order of operations may differ (fused vs. separate matmuls,
attention kernels), which moves results by a few float32 ulps of the largest magnitude.
"""

from __future__ import annotations

import inspect
import json
import os
import sys
from pathlib import Path

import pytest
import torch

from harness.paths import REPO_ROOT

from _adapter_kit import export_original

TTA = REPO_ROOT / "systems" / "semanticvocoder" / "keys" / "tta"
PROBES = ["tiny", "token", "ada", "single"]          # `full` is flan-t5-large sized: too big
ORIGINAL = Path(os.environ.get("SABENCH_SEMANTICVOCODER_SRC", "/nonexistent"))
REL = 1e-5                                           # float32 op-order bound (see docstring)
TEXT = "a dog barks loudly"
SEED = 3
ROOTS = ("models", "utils")                          # the original's top-level packages


@pytest.fixture(scope="module")
def original_root(tmp_path_factory):
    """`src/inference` of `git archive HEAD src`, importable for the module's tests only."""
    dest = export_original("SABENCH_SEMANTICVOCODER_SRC", "SemanticVocoder", ("src",), tmp_path_factory)
    root = dest / "src" / "inference"
    from systems.semanticvocoder.keys.derive import _stub_tensorboard

    _stub_tensorboard()
    _forget_original_modules()                      # another checkout may own `models` already
    sys.path.insert(0, str(root))
    yield root
    sys.path.remove(str(root))
    _forget_original_modules()


def _forget_original_modules() -> None:
    for name in [n for n in sys.modules if n.split(".")[0] in ROOTS]:
        del sys.modules[name]


def _build_pair(root: Path, probe: str):
    """(original flow-matching module, sabench `Published`) with identical weights."""
    import models.content_encoder.text_encoder as text_encoder

    from systems.semanticvocoder.keys.derive import _offline_t5, instantiate
    from systems.semanticvocoder.tiny import random_tta

    assert Path(text_encoder.__file__).resolve().is_relative_to(root.resolve())
    doc = json.loads((TTA / f"{probe}.json").read_text())
    assert doc["t5"] == "tiny"
    ours = random_tta(doc["config"], seed=7)
    before = torch.random.get_rng_state()
    with torch.random.fork_rng(), _offline_t5(text_encoder, "tiny"):
        original = instantiate(doc["config"]["model_config"])
    assert torch.equal(torch.random.get_rng_state(), before)
    state = {k.removeprefix("model."): v for k, v in ours.state_dict().items()}
    original.load_state_dict(state, strict=True)
    return original.eval(), ours.eval(), doc["config"]["model_config"]["backbone"]


@pytest.fixture(scope="module", params=PROBES)
def pair(request, original_root):
    return _build_pair(original_root, request.param)


def _rel_err(ours: torch.Tensor, ref: torch.Tensor) -> float:
    assert ours.shape == ref.shape
    return float((ours - ref).abs().max() / ref.abs().max())


def test_backbone_parity(pair):
    original, ours, b = pair
    g = torch.Generator().manual_seed(11)
    T, L = b["img_size"], 7                          # img_size frames = img_size / patch patches
    x = torch.randn(2, b["in_chans"], T, generator=g)                       # (2, C, T)
    t = torch.tensor([999, 17])                                             # (2,) long
    ctx = torch.randn(2, L, b["context_dim"], generator=g)                  # (2, L, Dc)
    mask = torch.ones(2, L, dtype=torch.bool)
    mask[1, 4:] = False                                                     # row 1 padded
    with torch.no_grad():
        ref = original.backbone(x=x, timesteps=t, context=ctx, context_mask=mask)
        got = ours.model.backbone(x, t, ctx, mask)
    err = _rel_err(got, ref)
    print(f"backbone rel err {err:.3g}")
    assert ref.abs().max() > 0 and err <= REL


def test_text_condition_parity(pair):
    from systems.adapterkit import tiny_tokenizer
    from systems.semanticvocoder.tta import TextToAudio

    original, ours, _ = pair
    with torch.no_grad():
        out = original.content_encoder.encode_content([TEXT], ["text_to_audio"], "cpu")
    states, mask = TextToAudio(ours, tiny_tokenizer(), "x").condition(TEXT)
    assert torch.equal(mask, out["content_mask"].bool())
    err = _rel_err(states, out["content"])
    print(f"text rel err {err:.3g}")
    assert err <= REL


@pytest.mark.parametrize("w", [3.5, 1.0])
def test_end_to_end_parity(pair, w):
    """Same seed: the original draws its start noise and the vocoder noise from the global RNG,
    sabench from one generator in the same order. The original's diffusers scheduler runs one
    more (zero-length) step than sabench; the waveforms must still agree."""
    from systems.adapterkit import tiny_tokenizer
    from systems.semanticvocoder.tta import TextToAudio

    original, ours, b = pair
    assert "kwargs" in inspect.signature(original.inference).parameters
    C, T = b["in_chans"], b["img_size"]
    with torch.random.fork_rng():
        torch.manual_seed(SEED)
        ref = original.inference(content=[TEXT], condition=None, task=["text_to_audio"],
                                 latent_shape=[C, T], num_steps=6, guidance_scale=w,
                                 vocoder_steps=3)                           # (1, 1, T * 960)
    got = TextToAudio(ours, tiny_tokenizer(), "x").render(
        [TEXT], seconds=T / 25, gens=[torch.Generator().manual_seed(SEED)], steps=6, w=w,
        sway=-1.0, vocoder_steps=3)                                         # (1, T * 960)
    err = _rel_err(got, ref[:, 0])
    print(f"end-to-end (w={w}) rel err {err:.3g}")
    assert err <= REL
