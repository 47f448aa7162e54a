"""The mini encoders (SemanticAudio's interfaces over the committed mini backbones): shapes,
rates, and agreement with the backbones' own harness paths (an independent route to the
same weights: `Backbone.embed` / `decode` / `embed_text`)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from suites.synthcaps.mini_encoders import HOP, SPEC, SR, mini_encoders


@pytest.fixture(scope="module")
def enc():
    return mini_encoders()


@pytest.fixture(scope="module")
def wave():
    from suites.synthcaps.corpus import CorpusConfig, render_split

    _, audio, _ = render_split(CorpusConfig(), "test", 2)                # (2, 64000) @ 16 kHz
    return torch.from_numpy(audio)


def test_bundle_identity(enc):
    assert enc.spec == SPEC
    assert len(enc.sha256) == 64
    assert enc.vae.sample_rate == enc.semantic.sample_rate == SR == 16000
    assert enc.vae.hop == HOP and enc.semantic.frame_rate == SR / HOP == 25.0
    assert enc.frames_for(4.0) == 100


def test_text_shapes_and_mask(enc):
    f = enc.text.encode(["a dog barks", "a loud siren wails then rain falls quietly"])
    B, L, Dt = f.tokens.shape
    assert (B, Dt) == (2, enc.text.token_dim) and f.mask.shape == (2, L) and f.mask.dtype == torch.bool
    assert f.mask[0].sum() == 3 and f.mask[1].all()                     # word-level tokens
    assert torch.all(f.tokens[0, 3:] == 0)                              # padding rows zeroed
    assert f.glob.shape == (2, enc.text.global_dim)
    # independent path: the mini CLAP backbone's text tower (unit-norm, float32 round-off)
    ref = enc.text.bb.embed_text(["a dog barks", "a loud siren wails then rain falls quietly"])
    np.testing.assert_allclose(f.glob.numpy(), ref, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(ref, axis=1), 1.0, atol=1e-5)


def test_semantic_frames_match_backbone(enc, wave):
    frames = enc.semantic.encode(wave)                                  # (2, 100, 64)
    assert frames.shape == (2, 100, enc.semantic.dim)
    ref = enc.semantic.bb.embed([w.numpy() for w in wave])["frames"]    # harness Backbone path
    np.testing.assert_allclose(frames.numpy(), ref, atol=1e-5)          # same weights, same maths


def test_vae_encode_decode(enc, wave):
    z = enc.vae.encode(wave)                                            # (2, 100, 32)
    assert z.shape == (2, 100, enc.vae.dim)
    ref = enc.vae.bb.embed([w.numpy() for w in wave])["latents"]
    np.testing.assert_allclose(z.numpy(), ref, atol=1e-5)
    y = enc.vae.decode(z)                                               # (2, 64000) @ 16 kHz
    assert y.shape == wave.shape
    np.testing.assert_allclose(y.numpy(), enc.vae.bb.decode(ref), atol=1e-4)
    # a trained autoencoder: each round trip is closer (log-magnitude STFT L1) to its own
    # input than to the other clip (the VAE is not phase-exact, so no waveform comparison)
    def logmag(x):
        return torch.log(torch.stft(x, 512, 128, window=torch.hann_window(512), return_complex=True).abs() + 1e-4)

    own = (logmag(y) - logmag(wave)).abs().mean((1, 2))                 # (2,)
    other = (logmag(y) - logmag(wave.flip(0))).abs().mean((1, 2))
    assert torch.all(own < other), (own, other)


def test_odd_length_pads_to_frames(enc):
    x = torch.zeros(1, HOP * 10 + 7)
    assert enc.vae.encode(x).shape[1] == 11 and enc.semantic.encode(x).shape[1] == 11
