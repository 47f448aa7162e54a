"""Fixtures for the real-backbone tests: temporary weights directories in the published
file formats, filled with randomly initialised weights (no real weights exist here).

Every checkpoint is built by constructing the same model class the loader builds, with a
seeded torch generator, and saved in the published container format; the backbone under
test then goes through its real loading path (`require` -> `torch.load(weights_only=True)`
-> `load_state_dict`).
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))

import backbone_testkit as testkit  # noqa: E402
from backbone_testkit import build_seeded  # noqa: E402


@pytest.fixture(autouse=True)
def _one_thread():
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="session")
def panns_weights(tmp_path_factory) -> Path:
    """panns/Cnn14_16k_mAP=0.438.pth and panns/Cnn14_mAP=0.431.pth as {"model": state_dict}."""
    import torch

    from harness.backbones.offline import import_panns_models
    from harness.backbones.panns import VARIANTS

    root = tmp_path_factory.mktemp("weights_panns")
    models = import_panns_models()
    for i, v in enumerate(VARIANTS.values()):
        net = build_seeded(partial(models.Cnn14, v.sample_rate, v.window_size, v.hop_size, v.mel_bins,
                                   v.fmin, v.fmax, v.classes), seed=i)
        # random BN statistics so bn0 is not the identity
        with torch.no_grad():
            net.bn0.running_mean.uniform_(-20, -5)
            net.bn0.running_var.uniform_(5, 50)
        path = root / v.relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"model": net.state_dict()}, path)
    return root


@pytest.fixture(scope="session")
def laion_weights(tmp_path_factory) -> Path:
    """laion_clap/630k-audioset-best.pt ({"state_dict": {"module."+k: v}, numpy scalars}) + tokenizers."""
    import torch

    from harness.backbones.laion_clap import CHECKPOINTS, _build_module

    root = tmp_path_factory.mktemp("weights_laion")
    testkit.write_laion_tokenizers(root)
    for name in ("630k-audioset-best", "630k-audioset-fusion-best"):
        ck = CHECKPOINTS[name]
        clap = build_seeded(partial(_build_module, ck, root / "laion_clap" / "tokenizers", "cpu"))
        state = {"module." + k: v for k, v in clap.model.state_dict().items()}
        state["module.text_branch.embeddings.position_ids"] = torch.arange(514)[None]
        # the published files pickle numpy scalars next to the weights
        torch.save({"state_dict": state, "epoch": np.int64(45), "best_score": np.float64(0.5)},
                   root / ck.relpath)
    return root


@pytest.fixture(scope="session")
def msclap_weights(tmp_path_factory) -> Path:
    import torch

    from harness.backbones.ms_clap import build_model

    root = tmp_path_factory.mktemp("weights_msclap")
    testkit.write_gpt2(root / "ms_clap" / "gpt2")
    model = build_seeded(lambda: build_model(root / "ms_clap" / "gpt2"))
    torch.save({"model": model.state_dict()}, root / "ms_clap" / "CLAP_weights_2023.pth")
    return root


AES_CFG = dict(proj_num_layer=1, proj_ln=False, proj_act_fn="gelu", proj_dropout=0.0, nth_layer=13,
               use_weighted_layer_sum=True, precision="32", normalize_embed=True, output_dim=1)
AES_TT = {a: {"mean": 5.0 + i, "std": 1.5} for i, a in enumerate(("CE", "CU", "PC", "PQ"))}


@pytest.fixture(scope="session")
def aes_weights(tmp_path_factory) -> Path:
    import torch
    from audiobox_aesthetics.model.aes import AesMultiOutput

    root = tmp_path_factory.mktemp("weights_aes")
    model = build_seeded(lambda: AesMultiOutput(**AES_CFG, target_transform=AES_TT))
    state = {"model." + k: v for k, v in model.state_dict().items()}
    (root / "audiobox_aesthetics").mkdir()
    torch.save({"state_dict": state, "model_cfg": AES_CFG, "target_transform": AES_TT},
               root / "audiobox_aesthetics" / "checkpoint.pt")
    return root


@pytest.fixture(scope="session")
def vggish_weights(tmp_path_factory) -> Path:
    import torch

    from harness.backbones.vggish import build_vggish

    root = tmp_path_factory.mktemp("weights_vggish")
    net = build_seeded(build_vggish)
    (root / "vggish").mkdir()
    torch.save(net.state_dict(), root / "vggish" / "vggish-10086976.pth")
    return root
