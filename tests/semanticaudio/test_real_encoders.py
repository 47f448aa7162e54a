"""Real encoder wrappers at tiny configs with random weights saved in the published formats."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from harness.errors import WeightsError
from harness.seeding import torch_generator
from systems.semanticaudio.dacvae import DacVae, DacVaeConfig, load_dacvae

TINY_VAE = DacVaeConfig(encoder_dim=4, encoder_rates=(2, 4), latent_dim=16, decoder_dim=16, decoder_rates=(4, 2),
                        codebook_dim=4, sample_rate=200)


class FakeClap:
    """Any backbone with embed_text works; this one hashes text length (independent of T5)."""

    def embed_text(self, texts):
        return np.stack([np.full(6, len(t), np.float32) for t in texts])


def test_t5_clap_text_from_local_folder(tmp_path):
    from transformers import T5EncoderModel

    from systems.adapterkit import local_t5, seeded_construction, tiny_t5_config, tiny_tokenizer
    from systems.semanticaudio.real_encoders import T5ClapText

    with seeded_construction(0):
        T5EncoderModel(tiny_t5_config(32)).save_pretrained(tmp_path)
    tok = tiny_tokenizer()
    tok.save_pretrained(tmp_path)
    enc = T5ClapText(local_t5(tmp_path), FakeClap())
    feats = enc.encode(["a dog barks", "rain falls on the roof"])
    assert feats.tokens.shape == (2, 6, 32) and feats.mask.tolist()[0] == [True] * 4 + [False] * 2
    assert enc.token_dim == 32 and enc.global_dim == 6 and feats.glob[1, 0] == len("rain falls on the roof")
    ref = T5EncoderModel.from_pretrained(tmp_path).eval()
    ids = tok(["a dog barks"], return_tensors="pt")
    with torch.no_grad():
        direct = ref(**ids).last_hidden_state[0]
    assert torch.allclose(feats.tokens[0, :4], direct, atol=1e-5)   # padding-free row: same up to float order


def test_pe_frames_from_local_folder(tmp_path):
    from transformers import PeAudioConfig, PeAudioFrameLevelModel

    from systems.adapterkit import seeded_construction
    from systems.semanticaudio.real_encoders import load_pe_frame

    text = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2, vocab_size=100,
                pad_token_id=0, bos_token_id=1, eos_token_id=2, cls_token_id=1, sep_token_id=2)
    audio = dict(dac_config=dict(downsampling_ratios=[2, 4], encoder_hidden_size=4, codebook_dim=8), hidden_size=32,
                 intermediate_size=64, num_hidden_layers=1, num_attention_heads=2, head_dim=16)
    with seeded_construction(0):
        PeAudioFrameLevelModel(PeAudioConfig(text_config=text, audio_config=audio)).save_pretrained(tmp_path)
    pe = load_pe_frame(tmp_path)
    assert (pe.hop, pe.dim) == (8, 32)
    x = torch.randn(2, 43, generator=torch_generator(0))
    frames = pe.encode(x)
    assert frames.shape == (2, 6, 32)
    padded = torch.from_numpy(np.pad(x.numpy(), ((0, 0), (0, 5)), mode="reflect"))[:, None]  # (2, 1, 48)
    with torch.no_grad():
        ref = pe.model.get_audio_embeds(padded, padding_mask=torch.ones(2, 48, dtype=torch.long))
    assert torch.allclose(frames, ref, atol=1e-6)


def _published_layout(state: dict, n_blocks: int) -> dict:
    """Our keys -> the published dacvae names, plus watermark-branch tensors that must be dropped."""
    inv = {"0": "0", "1": "1", "2": "4", "3": "5", "4": "8"}
    out = {}
    for k, v in state.items():
        parts = k.split(".")
        if k.startswith(("in_proj.", "out_proj.")):
            out["quantizer." + k] = v
        elif k.startswith("decoder.model.") and parts[2] == str(n_blocks + 1):
            out["decoder.wm_model.encoder_block.pre.0." + parts[-1]] = v
        elif k.startswith("decoder.model.") and parts[2] == str(n_blocks + 2):
            out["decoder.wm_model.encoder_block.pre.1." + parts[-1]] = v
        elif k.startswith("decoder.model.") and parts[2] != "0":
            parts[4] = inv[parts[4]]
            out[".".join(parts)] = v
        else:
            out[k] = v
    out["decoder.model.1.block.3.weight"] = torch.zeros(3)            # watermark ConvT
    out["decoder.wm_model.msg_processor.msg_processor.weight"] = torch.zeros(32, 4)
    out["decoder.wm_model.encoder_block.pre.3.weight"] = torch.zeros(2)
    return out


def test_dacvae_shapes_mean_and_published_loading(tmp_path):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        vae = DacVae(TINY_VAE).eval()
    assert vae.hop == 8
    x = torch.randn(2, 43, generator=torch_generator(1)) * 0.3
    z = vae.encode(x)
    assert z.shape == (2, 6, 4)
    with torch.no_grad():
        h = vae.encoder(torch.nn.functional.pad(x[:, None], (0, 5), mode="reflect"))
        assert torch.equal(z, vae.in_proj(h)[:, :4].transpose(1, 2))   # posterior mean = first half
    y = vae.decode(z)
    assert y.shape == (2, 48) and y.abs().max() <= 1.0                  # tanh output
    torch.save({"state_dict": _published_layout(vae.state_dict(), 2), "metadata": {"kwargs": {"sample_rate": 200}}},
               tmp_path / "weights.pth")
    loaded = load_dacvae(tmp_path / "weights.pth", TINY_VAE)
    for k, v in vae.state_dict().items():
        assert torch.equal(v, loaded.state_dict()[k]), k
    assert torch.equal(loaded.decode(z), y)


def test_dacvae_refuses_wrong_file(tmp_path):
    torch.save({"state_dict": {"encoder.block.0.bias": torch.zeros(4)}}, tmp_path / "weights.pth")
    with pytest.raises(WeightsError, match="missing"):
        load_dacvae(tmp_path / "weights.pth", TINY_VAE)
    with pytest.raises(WeightsError, match="dacvae-watermarked"):
        load_dacvae(tmp_path / "absent.pth", TINY_VAE)


def test_real_encoders_need_weights_root():
    from systems.semanticaudio.real_encoders import real_encoders

    with pytest.raises(WeightsError, match="weights directory"):
        real_encoders(None)
