"""The peers' offline environment: their checkpoints where they would download them, and the two
library gaps of this venv bridged in the way the peers themselves expect.

- **Checkpoints** (random-init, published formats, written by `write_weights`):
  audioldm_eval reads `ckpt/Cnn14_16k_mAP=0.438.pth` and `ckpt/Cnn14_mAP=0.431.pth` relative to
  the working directory; frechet_audio_distance reads `<torch hub dir>/<name>.pth`; kadtk reads
  `kadtk/.model-checkpoints/<name>.pth` inside its package; the VGGish hub entry reads
  `<torch hub dir>/checkpoints/vggish-10086976.pth` (+ the PCA file).
- **torch.hub `harritaylor/torchvggish`**: the hub repository is not on the package registry.
  `hub_repo()` writes a `hubconf.py` whose `vggish()` builds the hub's VGGish from the registry's
  `torchvggish==0.2`, whose `vggish_input.py`, `mel_features.py` and `vggish_params.py` are
  byte-identical to the hub repository's (commit f3f9096, checked when this file was written);
  the module (`VGG` layers, final ReLU, `forward(x, fs)` -> `waveform_to_examples`) follows the
  hub's `torchvggish/vggish.py`. `offline_hub()` makes torch.hub skip its GitHub branch probe.
- **torchaudio.load/save**: torchaudio 2.9 moved file I/O to torchcodec (not installed);
  `soundfile_torchaudio()` restores the `backend="soundfile"` behaviour of torchaudio < 2.9
  (float32 (C, T) in [-1, 1); `save(..., encoding="PCM_S", bits_per_sample=16)` = libsndfile
  PCM_16), which fadtk explicitly asks for (TORCHAUDIO_BACKEND=soundfile).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

FEATURE_RANK = 8
"""Active fc1 rows of the random Cnn14 checkpoints: the 2048-d embedding spans 8 dimensions
(the other 2040 are exactly 0 after ReLU on both sides), so FD on 20 clips per set is well
conditioned. Both sides read the same checkpoint; nothing else is projected."""

CNN14_FILES = {16000: ("Cnn14_16k_mAP=0.438.pth", (16000, 512, 160, 64, 50, 8000, 527)),
               32000: ("Cnn14_mAP=0.431.pth", (32000, 1024, 320, 64, 50, 14000, 527))}
VGGISH_FILE = "vggish-10086976.pth"
VGGISH_PCA_FILE = "vggish_pca_params-970ea276.pth"


def _seeded(factory, seed: int):
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return factory()


def cnn14_state(sample_rate: int, seed: int) -> dict:
    """A random Cnn14 state dict in the Zenodo layout, fc1 limited to FEATURE_RANK rows."""
    import torch

    from harness.backbones.offline import import_panns_models

    models = import_panns_models()
    _, args = CNN14_FILES[sample_rate]
    net = _seeded(lambda: models.Cnn14(*args), seed)
    gen = torch.Generator().manual_seed(seed + 100)
    with torch.no_grad():
        net.bn0.running_mean.uniform_(-20, -5, generator=gen)
        net.bn0.running_var.uniform_(5, 50, generator=gen)
        # Default init shrinks the pooled 2048-d conv features to ~4e-3 (std ~1e-3 across clips),
        # which makes every clip look alike. fc1: FEATURE_RANK active rows scaled so the
        # embedding varies by ~1 around ~10 (all units alive after ReLU); fc_audioset scaled so
        # logits differ across clips by a few units (IS well above 1, KL well above 0).
        net.fc1.weight.zero_()
        net.fc1.weight[:FEATURE_RANK] = torch.randn(FEATURE_RANK, 2048, generator=gen) * 25.0
        net.fc1.bias.zero_()
        net.fc1.bias[:FEATURE_RANK] = 10.0
        net.fc_audioset.weight.copy_(torch.randn(527, 2048, generator=gen) * 0.5)
        net.fc_audioset.bias.copy_(torch.randn(527, generator=gen))
    return net.state_dict()


def vggish_state(seed: int = 7) -> dict:
    """A random VGGish state dict (torchvggish key names). Default init leaves the last hidden
    layer at ~4e-3 (std ~4e-4 across frames); the 128-d output layer is drawn with std 50 so
    frames differ by ~1 and FAD is far from 0."""
    import torch

    from harness.backbones.vggish import build_vggish

    net = _seeded(build_vggish, seed)
    gen = torch.Generator().manual_seed(seed + 100)
    with torch.no_grad():
        net.embeddings[4].weight.copy_(torch.randn(128, 4096, generator=gen) * 50.0)
    return net.state_dict()


def write_weights(root: Path) -> dict[str, Path]:
    """sabench's weights directory (panns/, vggish/) plus every peer cache path, same bytes."""
    import shutil

    import torch

    paths: dict[str, Path] = {}
    for i, (sr, (name, _)) in enumerate(CNN14_FILES.items()):
        p = root / "sabench" / "panns" / name
        p.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"model": cnn14_state(sr, seed=i)}, p)
        paths[f"cnn14_{sr}"] = p
        (root / "audioldm_eval" / "ckpt").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(p, root / "audioldm_eval" / "ckpt" / name)
        (root / "torch_hub").mkdir(parents=True, exist_ok=True)  # frechet_audio_distance keeps the URL's %3D
        shutil.copyfile(p, root / "torch_hub" / name.replace("=", "%3D"))
    vg = root / "sabench" / "vggish" / VGGISH_FILE
    vg.parent.mkdir(parents=True, exist_ok=True)
    torch.save(vggish_state(), vg)
    ck = root / "torch_hub" / "checkpoints"
    ck.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(vg, ck / VGGISH_FILE)
    rng = np.random.default_rng(3)
    torch.save({"pca_eigen_vectors": torch.from_numpy(rng.standard_normal((128, 128))),
                "pca_means": torch.from_numpy(rng.standard_normal((128, 1)))}, ck / VGGISH_PCA_FILE)
    paths["vggish"] = vg
    hub_repo(root / "torch_hub")
    return paths


HUBCONF = '''\
"""harritaylor/torchvggish hub entry, built from the registry's torchvggish==0.2 (see
tests/parity/peer_env.py): same preprocessing modules, same VGGish module interface."""
dependencies = ["torch", "numpy", "resampy", "soundfile"]

import numpy as np
import torch
from torch import hub, nn
from torchvggish import torchvggish as _tv, vggish_input, vggish_params

model_urls = {
    "vggish": "https://github.com/harritaylor/torchvggish/releases/download/v0.1/vggish-10086976.pth",
    "pca": "https://github.com/harritaylor/torchvggish/releases/download/v0.1/vggish_pca_params-970ea276.pth",
}


class _Postprocessor(nn.Module):
    def __init__(self, params):
        super().__init__()
        self.pca_eigen_vectors = nn.Parameter(torch.as_tensor(params["pca_eigen_vectors"], dtype=torch.float),
                                              requires_grad=False)
        self.pca_means = nn.Parameter(torch.as_tensor(params["pca_means"], dtype=torch.float).reshape(-1, 1),
                                      requires_grad=False)

    def forward(self, x):
        pca = torch.mm(self.pca_eigen_vectors, (x.t() - self.pca_means)).t()
        clipped = torch.clamp(pca, vggish_params.QUANTIZE_MIN_VAL, vggish_params.QUANTIZE_MAX_VAL)
        return torch.squeeze(torch.round((clipped - vggish_params.QUANTIZE_MIN_VAL)
                                         * (255.0 / (vggish_params.QUANTIZE_MAX_VAL - vggish_params.QUANTIZE_MIN_VAL))))


class VGGish(_tv.VGG):
    def __init__(self, urls, device=None, pretrained=True, preprocess=True, postprocess=True, progress=True):
        super().__init__(_tv.make_layers(), postprocess=False)
        if pretrained:
            self.load_state_dict(hub.load_state_dict_from_url(urls["vggish"], progress=progress))
        self.device = device or torch.device("cpu")
        self.preprocess, self.postprocess = preprocess, postprocess
        if postprocess:
            self.pproc = _Postprocessor(hub.load_state_dict_from_url(urls["pca"], progress=progress))
        self.to(self.device)

    def forward(self, x, fs=None):
        if self.preprocess:
            x = (vggish_input.waveform_to_examples(x, fs) if isinstance(x, np.ndarray)
                 else vggish_input.wavfile_to_examples(x))
        x = _tv.VGG.forward(self, x.to(self.device))  # features -> (N, 6*4*512) HWC -> embeddings
        return self.pproc(x) if self.postprocess else x


def vggish(**kwargs):
    return VGGish(urls=model_urls, **kwargs)
'''


def hub_repo(hub_dir: Path) -> Path:
    repo = hub_dir / "harritaylor_torchvggish_master"
    repo.mkdir(parents=True, exist_ok=True)
    (repo / "hubconf.py").write_text(HUBCONF)
    return repo


@contextlib.contextmanager
def offline_hub(hub_dir: Path) -> Iterator[None]:
    """torch.hub reads `hub_dir`; its GitHub branch probe fails at once (as offline), so the
    cached `_master` repository is used; `trust_repo` lists it as trusted."""
    import urllib.error

    import torch.hub as th

    old_dir = th.get_dir()
    th.set_dir(str(hub_dir))
    (hub_dir / "trusted_list").write_text("harritaylor_torchvggish\n")
    real = th.urlopen

    def refuse(url, *a, **k):
        raise urllib.error.URLError(f"offline test: refused {url}")

    th.urlopen = refuse
    try:
        yield
    finally:
        th.urlopen = real
        th.set_dir(old_dir)
        sys.modules.pop("hubconf", None)


@contextlib.contextmanager
def soundfile_torchaudio() -> Iterator[None]:
    """torchaudio.load/save as torchaudio < 2.9's soundfile backend did them."""
    import soundfile as sf
    import torch
    import torchaudio

    def load(path, *args, **kwargs):
        x, sr = sf.read(str(path), dtype="float32", always_2d=True)  # (T, C)
        return torch.from_numpy(np.ascontiguousarray(x.T)), sr  # (C, T) float32

    def save(path, src, sample_rate, *args, encoding=None, bits_per_sample=None, **kwargs):
        subtype = {("PCM_S", 16): "PCM_16", ("PCM_S", 24): "PCM_24", ("PCM_S", 32): "PCM_32"}.get(
            (encoding, bits_per_sample), "FLOAT")
        sf.write(str(path), src.detach().cpu().numpy().T, int(sample_rate), subtype=subtype)

    old = torchaudio.load, torchaudio.save
    torchaudio.load, torchaudio.save = load, save
    try:
        yield
    finally:
        torchaudio.load, torchaudio.save = old


@contextlib.contextmanager
def keep_grad_mode() -> Iterator[None]:
    """fadtk's FrechetAudioDistance() calls torch.autograd.set_grad_enabled(False) for the whole
    process; the caller's grad mode is put back on exit."""
    import torch

    was = torch.is_grad_enabled()
    try:
        yield
    finally:
        torch.set_grad_enabled(was)


@contextlib.contextmanager
def chdir(path: Path) -> Iterator[None]:
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)
