"""`--score-device`: metric backbones on a chosen device, recorded where numbers could differ."""

from __future__ import annotations

from pathlib import Path

import torch

from harness import cli
from harness.artifacts import EmbeddingCache
from harness.backbones.common import make_info
from harness.hashing import sha256_json
from harness.records import AudioRecipe
from harness.results import ResultsStore

import _kit


class SpyBackbone:
    """Records the device it was built with (the RunContext only needs load())."""

    built: list[str] = []

    def __init__(self, device: str = "cpu"):
        self.device = device
        SpyBackbone.built.append(device)

    def load(self) -> None:
        pass


class NoDeviceBackbone:
    def __init__(self, width: int = 3):
        self.width = width

    def load(self) -> None:
        pass


def test_context_passes_the_device_only_where_accepted():
    from harness.context import RunContext
    from harness.registry import BACKBONES

    for name, cls in (("test-spy-device", SpyBackbone), ("test-no-device", NoDeviceBackbone)):
        if name not in BACKBONES:
            BACKBONES.register(name)(cls)
    ctx = RunContext("mini", device="cuda:1")
    assert ctx.backbone("test-spy-device").device == "cuda:1"              # injected
    assert ctx.backbone("test-no-device").width == 3                       # not offered a device
    explicit = RunContext("mini", device="cuda:1", backbone_args={"test-spy-device": {"device": "cpu"}})
    assert explicit.backbone("test-spy-device").device == "cpu"            # backbone_args win
    assert RunContext("mini").backbone("test-spy-device").device == "cpu"  # no device: the default


def test_embedding_key_keeps_cpu_keys_and_separates_other_devices():
    recipe = AudioRecipe(sample_rate=16000)
    cpu = make_info("x", "abc", recipe, "1")
    old_formula = sha256_json({"audio": "f" * 64, "backbone": "x", "version": "1", "checkpoint": "abc",
                               "sample_rate": 16000, "recipe": recipe.id(),
                               "schema": __import__("harness").SCHEMA_VERSION})
    assert EmbeddingCache.key("f" * 64, cpu) == old_formula                 # existing caches stay valid
    gpu = make_info("x", "abc", recipe, "1", device="cuda")
    assert gpu.device == "cuda" and EmbeddingCache.key("f" * 64, gpu) != old_formula


def test_cli_score_device(tmp_path, tmp_cache, capsys):
    _kit.register()
    suite = str(_kit.write_suite(tmp_path / "s", n=2, metrics=("test_rms",)))
    base = ["run", "--suite", suite, "--system", "sine", "--quiet", "--no-report"]
    assert cli.main(base + ["--out", str(tmp_path / "a")]) == 0
    assert cli.main(base + ["--out", str(tmp_path / "b"), "--score-device", "cpu"]) == 0
    (a,), (b,) = (ResultsStore(Path(tmp_path / d) / "results.sqlite").runs() for d in "ab")
    assert a.run_id == b.run_id                                             # cpu = the default
    if not torch.cuda.is_available():
        assert cli.main(base + ["--out", str(tmp_path / "c"), "--score-device", "cuda"]) == 2
        assert "CUDA is not available" in capsys.readouterr().err
