"""SemanticVocoder text-to-audio and FlowEdit at a tiny size (random weights written in the
published HF layout and loaded through the real path), independent checks of the sampler and
UDiT pieces, key compatibility with lists derived from the original, and refusals.
(Parity with the original code: test_semanticvocoder_tta_parity.py, optional.)"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from harness.errors import WeightsError
from harness.paths import REPO_ROOT
from harness.records import Audio

from _adapter_kit import edit_req, gen

KEYS = REPO_ROOT / "systems" / "semanticvocoder" / "keys" / "tta"


@pytest.fixture(scope="module")
def system():
    from systems.semanticvocoder.adapter import SemanticVocoderSystem

    return SemanticVocoderSystem(variant="tiny", steps=4, vocoder_steps=2, edit_steps=6,
                                 edit_n_max=5, edit_n_min=2)


def tone(seconds: float, rate: int = 24000) -> Audio:
    t = np.arange(int(seconds * rate)) / rate
    return Audio((0.3 * np.sin(2 * np.pi * 330 * t))[None].astype(np.float32), rate)


def test_generate_shapes_rate_duration(system):
    out = system.generate([gen("a dog barks", 1, duration=1.0), gen("rain falls", 2, duration=0.5)])
    assert [o.sample_rate for o in out] == [24000, 24000] and all(o.channels == 1 for o in out)
    assert [o.frames for o in out] == [24000, 12000]                    # trimmed to the duration
    for o in out:
        assert o.samples.dtype == np.float32 and np.isfinite(o.samples).all()
        assert np.abs(o.samples).max() <= 1.0 and o.samples.std() > 1e-3


def test_generate_seeded_and_global_rng_untouched(system):
    torch.manual_seed(5)
    before = torch.random.get_rng_state()
    a, b = (system.generate([gen("a dog barks", 7)])[0] for _ in range(2))
    c = system.generate([gen("a dog barks", 8)])[0]
    d = system.generate([gen("a siren wails", 7)])[0]
    np.testing.assert_array_equal(a.samples, b.samples)                 # same seed: bit-identical
    assert np.abs(a.samples - c.samples).max() > 1e-3                   # other seed
    assert np.abs(a.samples - d.samples).max() > 1e-4                   # other text
    assert torch.equal(before, torch.random.get_rng_state())


def test_too_long_refused_naming_the_limit(system):
    with pytest.raises(Exception, match=r"duration 10.5 s outside \(0, 10.0\]"):
        system.generate([gen("a dog barks", 1, duration=10.5)])         # tiny table: 250 frames


def test_sigma_grid_is_the_cosine_schedule():
    """Independent: with sway -1, t' = t - (cos(pi t / 2) - 1 + t) = 1 - cos(pi t / 2), so
    sigma_i = cos(pi i / 2N). Tolerance 1e-6: float32 evaluation of the original's formula."""
    from systems.semanticvocoder.tta import sigma_grid

    N = 100
    s = sigma_grid(N).double().numpy()
    ref = np.cos(np.pi * np.arange(N + 1) / (2 * N))
    assert s.shape == (N + 1,) and s[0] == 1.0 and s[-1] == 0.0
    assert np.abs(s - ref).max() < 1e-6 and np.all(np.diff(s) < 0)
    plain = sigma_grid(4, sway=None).numpy()                             # no sway: linspace(1, 1/N) + 0
    np.testing.assert_allclose(plain, [1.0, 0.75, 0.5, 0.25, 0.0], rtol=0, atol=1e-7)


def test_timesteps_are_truncated_float32_products(system):
    tta = system.tta
    for sigma, want in [(1.0, 1000), (0.5, 500), (0.9999, 999), (0.0, 0)]:
        assert tta.timestep(sigma, 3).tolist() == [want] * 3
    s = float(np.float32(math.cos(math.pi / 200)))                        # sigma_1 at N = 100
    assert tta.timestep(s, 1).item() == int(np.float32(s) * np.float32(1000))


def test_euler_with_a_constant_velocity(system, monkeypatch):
    """Independent: ds sums to -1, so a constant v carries the noise to noise - v exactly."""
    tta = system.tta
    v = torch.linspace(-1, 1, 32 * 10).reshape(1, 32, 10)
    monkeypatch.setattr(tta, "velocity", lambda x, s, c, w: v)
    noise = torch.randn(1, 32, 10, generator=torch.Generator().manual_seed(0))
    out = tta.sample(None, noise, 7, 3.5, -1.0)
    torch.testing.assert_close(out, noise - v, rtol=0, atol=1e-6)


def test_guidance_combines_separate_branches(system):
    """v_u + w (v_c - v_u) from one batched pass equals the two branches run alone (the zero
    content under the prompt's mask is the unconditional branch). Tolerance 1e-5: batching."""
    tta = system.tta
    cond = tta.condition("a dog barks loudly")
    x = torch.randn(1, 32, 20, generator=torch.Generator().manual_seed(1))
    v_c = tta.velocity(x, 0.7, cond, 1.0)
    v_u = tta.velocity(x, 0.7, (torch.zeros_like(cond[0]), cond[1]), 1.0)
    torch.testing.assert_close(tta.velocity(x, 0.7, cond, 4.0), v_u + 4.0 * (v_c - v_u),
                               rtol=1e-5, atol=1e-5)
    assert (v_c - v_u).abs().max() > 1e-4                                 # the text matters


def test_edit_contract(system):
    src = tone(1.0)
    out = system.edit([edit_req("a tone", "a dog barks", seed=3)], [src])[0]
    again = system.edit([edit_req("a tone", "a dog barks", seed=3)], [src])[0]
    other = system.edit([edit_req(None, "a dog barks", seed=3)], [src])[0]
    assert out.sample_rate == 24000 and out.channels == 1
    assert out.frames == 25 * 960                                         # 1 s -> 25 frames x 960
    np.testing.assert_array_equal(out.samples, again.samples)
    assert np.abs(out.samples - other.samples).max() > 1e-5              # source caption matters
    assert system.edit_config().network_calls() == 2 * (5 - 2) + 2


def test_unpatchify_order_patch_two():
    """Independent: the final linear emits (p, C) per token, p outer: sample n p + j, channel c
    comes from output feature j C + c of token n."""
    from systems.semanticvocoder.udit import FinalBlock, UDiTConfig

    cfg = UDiTConfig(patch_size=2, in_chans=3, embed_dim=4, time_fusion="token", use_conv=False)
    fb = FinalBlock(cfg)
    with torch.no_grad():
        fb.norm.weight.fill_(1.0), fb.norm.bias.zero_()
        fb.linear.bias.copy_(torch.arange(6.0)), fb.linear.weight.zero_()
    y = fb(torch.randn(1, 5, 4), None, extras=0)                           # (1, 3, 10)
    for n in range(5):
        for j in range(2):
            for c in range(3):
                assert y[0, c, n * 2 + j] == j * 3 + c


def test_rotary_is_a_complex_rotation_of_halves():
    """Independent: pairs (x_i, x_{i + d/2}) rotate by angle pos * 10000 ** (-2i / d)."""
    from systems.semanticvocoder.udit_layers import Rotary

    d, L = 8, 5
    x = torch.randn(1, 1, L, d, generator=torch.Generator().manual_seed(2))
    got = Rotary(d).rotate(x)[0, 0].double().numpy()
    xs = x[0, 0].double().numpy()
    z = xs[:, : d // 2] + 1j * xs[:, d // 2:]
    ang = np.arange(L)[:, None] * 10000.0 ** (-np.arange(0, d, 2) / d)[None]
    rz = z * np.exp(1j * ang)
    np.testing.assert_allclose(got, np.concatenate([rz.real, rz.imag], 1), rtol=0, atol=1e-5)


def test_timestep_embedding_against_numpy():
    from systems.semanticvocoder.udit import TimestepEmbedder

    emb = TimestepEmbedder(4)
    captured = {}
    emb.mlp[0].register_forward_pre_hook(lambda m, i: captured.update(x=i[0]))
    emb(torch.tensor([0, 17, 999]))
    f = np.exp(-np.log(10000) * np.arange(128) / 128)
    args = np.array([0, 17, 999])[:, None] * f[None]
    ref = np.concatenate([np.cos(args), np.sin(args)], 1)
    np.testing.assert_allclose(captured["x"].double().numpy(), ref, rtol=0, atol=2e-4)  # float32 args ~1e3


@pytest.mark.parametrize("path", sorted(KEYS.glob("*.json")), ids=lambda p: p.stem)
def test_keys_match_lists_derived_from_the_original(path):
    from systems.adapterkit import diff_keys, flan_t5_large_config, key_shapes, tiny_t5_config
    from systems.semanticvocoder.tta import Published, parse_tta_config

    doc = json.loads(path.read_text())
    t5 = flan_t5_large_config() if doc["t5"] == "flan-t5-large" else tiny_t5_config(32)
    with torch.device("meta"):
        net = Published(parse_tta_config(doc["config"], path.name), t5)
    assert diff_keys(doc["keys"], key_shapes(net.state_dict())) == ([], [], [])
    assert len(doc["keys"]) == doc["count"]


def _tiny_tree(tmp_path):
    from systems.semanticvocoder.tiny import write_tiny_tta

    write_tiny_tta(tmp_path)
    return tmp_path / "semanticvocoder" / "tta", tmp_path / "flan-t5-large"


def test_either_tied_t5_name_loads_and_ties(tmp_path):
    from safetensors.torch import load_file, save_file

    from systems.semanticvocoder import tta_loading
    from systems.semanticvocoder.tta import TIED

    folder, t5 = _tiny_tree(tmp_path)
    state = load_file(str(folder / "model.safetensors"))
    state[TIED[1]] = state.pop(TIED[0])                                   # the other name only
    save_file(state, str(folder / "model.safetensors"))
    m = tta_loading.build(folder / "config.json", folder, t5)
    enc = m.fm.content_encoder.text_encoder.model
    assert enc.encoder.embed_tokens.weight is enc.shared.weight
    torch.testing.assert_close(enc.shared.weight, state[TIED[1]])


def test_partial_checkpoint_and_shards(tmp_path):
    from safetensors.torch import load_file, save_file

    from systems.semanticvocoder import tta_loading

    folder, t5 = _tiny_tree(tmp_path)
    state = load_file(str(folder / "model.safetensors"))
    names = sorted(state)
    half = len(names) // 2
    (folder / "model.safetensors").unlink()
    for i, part in enumerate((names[:half], names[half:])):
        save_file({k: state[k] for k in part}, str(folder / f"model-0000{i + 1}-of-00002.safetensors"))
    index = {"weight_map": {k: f"model-0000{1 + (k in names[half:])}-of-00002.safetensors" for k in names}}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))
    tta_loading.build(folder / "config.json", folder, t5)                 # sharded: loads
    (folder / "model-00002-of-00002.safetensors").unlink()
    with pytest.raises(WeightsError, match="shards missing"):
        tta_loading.build(folder / "config.json", folder, t5)
    save_file({k: state[k] for k in names if k != "model.backbone.final_block.linear.weight"},
              str(folder / "model.safetensors"))
    (folder / "model.safetensors.index.json").unlink()
    with pytest.raises(WeightsError, match=r"1 missing keys: model\.backbone\.final_block\.linear\.weight"):
        tta_loading.build(folder / "config.json", folder, t5)


@pytest.mark.parametrize("edit,match", [
    (lambda m: m["backbone"].update(context_fusion="concat"), "context_fusion='concat'"),
    (lambda m: m["backbone"].update(cls_dim=8), "cls_dim"),
    (lambda m: m["backbone"].update(_target_="models.dit.mask_dit.MaskDiT"), "only mask_dit.UDiT"),
    (lambda m: m["backbone"].update(new_knob=1), r"new_knob"),
    (lambda m: m["backbone"].update(context_dim=99), "inconsistent widths"),
    (lambda m: m.update(_target_="models.flow_matching.Other"), "SingleTaskCrossAttention"),
    (lambda m: m["content_encoder"].update(audio_encoder={"_target_": "x"}), "other than text"),
])
def test_config_refusals_name_the_problem(edit, match):
    from systems.semanticvocoder.tiny import TINY_BACKBONE, TINY_CONTENT_DIM, TINY_VOCODER, tta_config
    from systems.semanticvocoder.tta import parse_tta_config

    doc = tta_config(TINY_BACKBONE, TINY_VOCODER, TINY_CONTENT_DIM)
    parse_tta_config(doc, "ok")
    edit(doc["model_config"])
    with pytest.raises(WeightsError, match=match):
        parse_tta_config(doc, "config.json")


def test_missing_text_model_named_with_source(tmp_path):
    from systems.semanticvocoder.adapter import SemanticVocoderSystem

    with pytest.raises(WeightsError, match="semanticvocoder/tta/config.json.*ZeyuXie/SemanticVocoder"):
        SemanticVocoderSystem(weights=str(tmp_path)).generate([gen("a dog barks", 1)])


def test_all_three_capabilities_through_the_harness(tmp_path):
    """`sabench run` with the tiny SemanticVocoder on the mini generation, editing and
    reconstruction suites: every metric scores all 10 items and the stored audio is what the
    system declared (mono 24 kHz)."""
    import soundfile as sf

    from harness.cli import main

    spec = "semanticvocoder:variant=tiny,steps=3,vocoder_steps=2,edit_steps=4,edit_n_max=3,edit_n_min=1"
    code = main(["run", "--suite", "mini-generation", "--suite", "mini-editing", "--suite",
                 "mini-reconstruction", "--system", spec, "--limit", "10", "--out", str(tmp_path),
                 "--quiet"])
    assert code == 0
    runs = json.loads((tmp_path / "report.json").read_text())["runs"]
    assert sorted(r["suite"] for r in runs) == ["mini-editing", "mini-generation", "mini-reconstruction"]
    for r in runs:
        assert r["failures"] == [] and r["system"]["sample_rate"] == 24000
        assert r["aggregates"] and all(a["n"] == 10 for a in r["aggregates"])
    wavs = sorted((tmp_path / "artifacts").rglob("*.wav"))
    assert len(wavs) == 30
    assert {(sf.info(str(w)).samplerate, sf.info(str(w)).channels) for w in wavs} == {(24000, 1)}


def test_batched_rendering_equals_one_at_a_time(system):
    """Prompts of different token lengths in one batch (padded text, False mask) give what each
    gives alone, and a row does not depend on its neighbours. Tolerance 1e-5 of the peak:
    float32 op order of batched matmuls. Without the mask the padded row changes (checked)."""
    from harness.seeding import torch_generator

    tta = system.tta
    texts = ["a dog barks", "rain falls on the roof while a siren wails in the distance"]
    alone = [tta.render([t], 0.4, [torch_generator(s)], 3, 3.5, -1.0, 2) for t, s in zip(texts, (5, 6), strict=True)]
    both = tta.render(texts, 0.4, [torch_generator(5), torch_generator(6)], 3, 3.5, -1.0, 2)
    for row, one in enumerate(alone):
        assert (both[row] - one[0]).abs().max() <= 1e-5 * one.abs().max()
    states, mask = tta.conditions(texts)
    assert mask.sum(1).tolist()[0] < mask.shape[1] and states[0, ~mask[0]].abs().max() == 0
    x = torch.randn(2, 32, 10, generator=torch.Generator().manual_seed(0))
    v_masked = tta.velocity(x, 0.5, (states, mask), 3.5)
    v_unmasked = tta.velocity(x, 0.5, (states, torch.ones_like(mask)), 3.5)
    assert (v_masked[0] - v_unmasked[0]).abs().max() > 1e-4


def test_prompt_longer_than_the_text_table_is_refused(system):
    """The tiny model's sinusoidal text table holds 64 tokens; 70 words is a clear error."""
    from harness.errors import SabenchError

    with pytest.raises(SabenchError, match="text tokens, but the model's text position table has 64"):
        system.generate([gen(" ".join(["dog"] * 70), 1)])
