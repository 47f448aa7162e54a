"""System contract of `semanticaudio` and `base-model` on tiny trained checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _sa_kit import SPEC

from harness.errors import SabenchError, WeightsError
from harness.records import Audio, EditRequest, GenerationRequest, Prompt, ReconstructRequest
from harness.registry import SYSTEMS, load_catalog
from systems.semanticaudio.pipeline import SemanticAudioPipeline

FAST = dict(encoders=SPEC, edit_steps=6, edit_n_max=5)


def sa(root, **kw):
    from systems.semanticaudio.adapter import SemanticAudioSystem

    params = dict(checkpoint=str(root / "mlp-d4"), d=4, planner_steps=6, synth_steps=4, **FAST)
    return SemanticAudioSystem(**{**params, **kw})


def base(root, **kw):
    from systems.base_model import BaseModelSystem

    return BaseModelSystem(**{**dict(checkpoint=str(root), base_steps=6, **FAST), **kw})


def gen_requests():
    return [GenerationRequest(Prompt("a", "a dog barks", duration=0.4), seed=1),
            GenerationRequest(Prompt("b", "rain falls softly", duration=0.4), seed=2),
            GenerationRequest(Prompt("c", "a siren wails", duration=0.2), seed=3)]


def edit_requests():
    return [EditRequest(Prompt("e1", "a siren wails", source="s.wav", source_text=None), "h", seed=5),
            EditRequest(Prompt("e2", "a bell rings twice", source="s.wav", source_text="a dog barks"), "h", seed=6)]


def _src(n=500, sr=1000, seed=0):
    return Audio((np.random.default_rng(seed).standard_normal((1, n)) * 0.3).astype(np.float32), sr)


def test_registered():
    load_catalog()
    assert "semanticaudio" in SYSTEMS and "base-model" in SYSTEMS


@pytest.mark.parametrize("make", [sa, base])
def test_generate_contract_and_determinism(checkpoints, make):
    sys_ = make(checkpoints)
    out = sys_.generate(gen_requests())
    assert [a.samples.shape for a in out] == [(1, 400), (1, 400), (1, 200)]
    assert all(a.sample_rate == sys_.info.sample_rate == 1000 and a.samples.dtype == np.float32 for a in out)
    again = make(checkpoints).generate(gen_requests())
    assert all(np.array_equal(a.samples, b.samples) for a, b in zip(out, again, strict=True))
    assert not np.array_equal(out[0].samples, out[1].samples)
    other_seed = make(checkpoints).generate([GenerationRequest(gen_requests()[0].prompt, seed=99)])
    assert not np.array_equal(other_seed[0].samples, out[0].samples)


@pytest.mark.parametrize("make", [sa, base])
def test_edit_and_reconstruct_contract(checkpoints, make):
    sys_ = make(checkpoints)
    src = [_src(), _src(seed=1)]
    out = sys_.edit(edit_requests(), src)
    assert [a.samples.shape for a in out] == [(1, 500), (1, 500)] and out[0].sample_rate == 1000
    again = make(checkpoints).edit(edit_requests(), src)
    assert all(np.array_equal(a.samples, b.samples) for a, b in zip(out, again, strict=True))
    rec = sys_.reconstruct([ReconstructRequest(Prompt("r", "", reference="x.wav"), "h")], [_src(450)])
    assert rec[0].samples.shape == (1, 450) and np.isfinite(rec[0].samples).all()


def test_base_reconstruct_is_vae_round_trip(checkpoints):
    """The weightless codec is orthogonal (dim == hop), so its round trip is exact to float error."""
    src = _src(480)
    rec = base(checkpoints).reconstruct([ReconstructRequest(Prompt("r", ""), "h")], [src])[0]
    assert np.abs(rec.samples - src.samples).max() < 1e-5


def test_edit_resamples_and_downmixes_input(checkpoints):
    stereo = Audio(np.stack([_src(1000, 2000).samples[0]] * 2), 2000)
    out = sa(checkpoints).edit(edit_requests()[:1], [stereo])
    assert out[0].samples.shape == (1, 500) and out[0].sample_rate == 1000


def test_info_records_checkpoint_and_knobs(checkpoints):
    a, b = sa(checkpoints).info, sa(checkpoints, planner_cfg=3.0).info
    assert len(a.checkpoint_sha256) == 64 and a.checkpoint_sha256 == b.checkpoint_sha256
    assert a.fingerprint() != b.fingerprint()
    params = dict(a.parameters)
    for k in ("d", "variant", "planner_steps", "planner_cfg", "synth_steps", "synth_cfg", "edit_tar_cfg", "edit_n_max"):
        assert k in params
    assert base(checkpoints).info.checkpoint_sha256 != a.checkpoint_sha256


def test_bad_parameters_refused(checkpoints):
    with pytest.raises(SabenchError, match="unknown parameter 'stepz'"):
        sa(checkpoints, stepz=3)
    with pytest.raises(WeightsError, match="d: checkpoint 4, requested 8"):
        sa(checkpoints, d=8, checkpoint=str(checkpoints / "mlp-d4")).load()


def test_cfg_one_synthesis_matches_pipeline_conditional(checkpoints):
    """Generation = planner sample -> synthesizer sample; recomputed by hand from the models."""
    sys_ = sa(checkpoints)
    sys_.load()
    pipe: SemanticAudioPipeline = sys_._pipe
    req = gen_requests()[:1]
    out = sys_.generate(req)[0].samples
    cond = pipe.text_cond(["a dog barks"])
    from systems.semanticaudio.pipeline import row_generators
    s = pipe.planner.sample(cond, 2 * 5, 6, 4.5, row_generators([1], "planner"))
    cond.frames = s
    z = pipe.synth.sample(cond, 10, 4, 1.0, row_generators([1], "synthesizer"))
    ref = pipe.enc.vae.decode(z)[:, :400]
    assert torch.equal(torch.from_numpy(out), ref)


def test_second_planner_seed_is_a_parameter(checkpoints, data, tmp_path):
    """`planner=planner-seed1` loads another planner subfolder trained on the same head: other
    weights, other outputs and fingerprint; the default planner's info is as before the
    parameter existed (no `planner` key), and a bad name is one line naming the fix."""
    import shutil

    from _sa_kit import tiny_cfg

    from systems.semanticaudio.model import frozen_head
    from systems.semanticaudio.train import Trainer

    root = tmp_path / "mlp-d4"
    shutil.copytree(checkpoints / "mlp-d4", root)
    synth = sa(checkpoints)
    synth.load()
    other = Trainer(tiny_cfg("planner", seed=tiny_cfg("planner").seed + 1), data, head=frozen_head(synth._pipe.synth))
    other.train()
    other.save(root / "planner-seed1")
    a, b = sa(checkpoints, checkpoint=str(root)), sa(checkpoints, checkpoint=str(root), planner="planner-seed1")
    assert "planner" not in dict(a.info.parameters) and dict(b.info.parameters)["planner"] == "planner-seed1"
    assert a.info.checkpoint_sha256 != b.info.checkpoint_sha256
    x, y = a.generate(gen_requests()[:1]), b.generate(gen_requests()[:1])
    assert not np.array_equal(x[0].samples, y[0].samples)
    with pytest.raises(WeightsError, match="no such planner checkpoint.*planner, planner-seed1"):
        sa(checkpoints, checkpoint=str(root), planner="planner-seed7").load()
    with pytest.raises(SabenchError, match="is not a folder name"):
        sa(checkpoints, checkpoint=str(root), planner="../base").load()

