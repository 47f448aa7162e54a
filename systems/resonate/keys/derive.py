"""Derive Resonate's published checkpoint key list from the ORIGINAL network code.

Usage (the original code lives in a temporary folder, never in this repository):

    git --git-dir <mirror of xiquan-li/Resonate> archive HEAD resonate | tar -x -C <rs_src>
    python systems/resonate/keys/derive.py <rs_src> <commit> systems/resonate/keys

It imports the original `resonate/model/networks.py` and builds
`get_model("fluxaudio_m_44k", use_rope=True, text_dim=1024, text_c_dim=1024)` (the call in
the original inference scripts) on the `meta` device, then writes the state-dict names and
shapes. `FluxAudio.load_weights` loads the released `Resonate_GRPO.pth` / `Resonate_PT.pth`
with `strict=True` after dropping only non-persistent names, so this list is the file's
key set. RoPE tables and timestep frequencies are non-persistent buffers (not in the list).

It also writes `mel_vae_44k.json` (the original `get_my_vae("44k")`, whose state dict is what
`v1-44.pth` holds - the original loads it strictly) and `bigvgan_v2_44khz_128band_512x.json`
(the original `BigVGAN(h)` with the published config values below, in the original's
weight-norm parametrization naming; sabench folds g/v pairs before comparing).
The original package imports `omegaconf` (for the unused 16 kHz vocoder); a stub stands in.
"""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import torch

BIGVGAN_V2_44K_128_512X = dict(
    resblock="1", upsample_rates=[8, 4, 2, 2, 2, 2], upsample_kernel_sizes=[16, 8, 4, 4, 4, 4],
    upsample_initial_channel=1536, resblock_kernel_sizes=[3, 7, 11],
    resblock_dilation_sizes=[[1, 3, 5], [1, 3, 5], [1, 3, 5]], use_tanh_at_final=False,
    use_bias_at_final=False, activation="snakebeta", snake_logscale=True, num_mels=128,
    n_fft=2048, hop_size=512, win_size=2048, sampling_rate=44100, fmin=0, fmax=None)
"""nvidia/bigvgan_v2_44khz_128band_512x config.json (generator-relevant values)."""


def _write(path: Path, source: str, keys: dict) -> None:
    path.write_text(json.dumps({"source": source, "count": len(keys), "keys": keys}, indent=0) + "\n")
    print(f"{path}: {len(keys)} keys, {sum(torch.Size(s).numel() for s in keys.values()) / 1e6:.1f} M values")


def derive(orig: Path, commit: str, out: Path) -> None:
    sys.path.insert(0, str(orig))
    stub = types.ModuleType("omegaconf")
    stub.OmegaConf = None
    sys.modules.setdefault("omegaconf", stub)
    from resonate.ext.autoencoder.vae import get_my_vae  # the original modules
    from resonate.ext.bigvgan_v2.bigvgan import BigVGAN
    from resonate.ext.bigvgan_v2.env import AttrDict
    from resonate.model.networks import get_model

    with torch.device("meta"):
        vae = get_my_vae("44k")
        voc = BigVGAN(AttrDict(dict(BIGVGAN_V2_44K_128_512X)), use_cuda_kernel=False)
    _write(out / "mel_vae_44k.json", f"xiquan-li/Resonate@{commit} resonate/ext/autoencoder/vae.py "
           "get_my_vae('44k') on meta", {k: list(v.shape) for k, v in vae.state_dict().items()})
    _write(out / "bigvgan_v2_44khz_128band_512x.json", f"xiquan-li/Resonate@{commit} "
           "resonate/ext/bigvgan_v2/bigvgan.py BigVGAN(published config) on meta",
           {k: list(v.shape) for k, v in voc.state_dict().items()})

    with torch.device("meta"):
        net = get_model("fluxaudio_m_44k", use_rope=True, text_dim=1024, text_c_dim=1024)
    keys = {k: list(v.shape) for k, v in net.state_dict().items()}
    src = (f"xiquan-li/Resonate@{commit} resonate/model/networks.py "
           f"fluxaudio_m_44k(use_rope=True, text_dim=1024, text_c_dim=1024) on meta")
    _write(out / "fluxaudio_m_44k.json", src, keys)


if __name__ == "__main__":
    derive(Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]))
