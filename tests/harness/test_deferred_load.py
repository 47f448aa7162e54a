"""A run whose clips are all cached never builds a deferring backbone's model
(`Backbone.defers_load`, `RunContext._load_or_defer`), and FD's linear algebra shortcuts give
the same bits as before (`harness.metrics.numerics`)."""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from harness.backbones.base import Backbone
from harness.backbones.common import make_info
from harness.context import RunContext
from harness.errors import WeightsError
from harness.records import AudioRecipe, BackboneInfo
from harness.registry import BACKBONES

RECIPE = AudioRecipe(sample_rate=16000)


class FileBackbone(Backbone):
    """Identity = sha256 of a weights file; `load` counts builds and refuses a file starting with
    b"bad" (a corrupt checkpoint); embedding = [mean, first byte of the file]."""

    name = "test_file_bb"
    defers_load = True
    loads: list[str] = []

    def __init__(self, path: str = ""):
        self.path = Path(path)
        self._recipe = RECIPE
        self._sha: str | None = None
        self._built = False

    @property
    def info(self) -> BackboneInfo:
        return make_info(self.name, self._sha, RECIPE, version="1")

    def identify(self) -> None:
        if not self.path.exists():
            raise WeightsError(str(self.path), "missing", "bring the file")
        self._sha = hashlib.sha256(self.path.read_bytes()).hexdigest()

    def load(self) -> None:
        if self._built:
            return
        data = self.path.read_bytes()
        if data.startswith(b"bad"):
            raise WeightsError(str(self.path), "corrupt checkpoint", "bring the published file")
        FileBackbone.loads.append(str(self.path))
        self._sha = hashlib.sha256(data).hexdigest()
        self._built = True

    def embed(self, batch: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
        self.load()
        first = float(self.path.read_bytes()[0])
        return {"embedding": np.asarray([[float(x.mean()), first] for x in batch])}  # (B, 2)


class EagerFileBackbone(FileBackbone):
    defers_load = False


@pytest.fixture
def registered():
    for name, cls in (("test_file_bb", FileBackbone), ("test_file_bb_eager", EagerFileBackbone)):
        if name not in BACKBONES:
            BACKBONES.register(name)(cls)
    FileBackbone.loads.clear()
    yield
    FileBackbone.loads.clear()


def _clip(path: Path, value: float) -> str:
    sf.write(str(path), np.full(16000, value, np.float32), 16000, subtype="FLOAT")  # 1 s @ 16 kHz
    return str(path)


def _ctx(cache: Path, weights: Path, name: str = "test_file_bb") -> RunContext:
    return RunContext("mini", cache_dir=cache, backbone_args={name: {"path": str(weights)}}, show=False)


def _embed(ctx: RunContext, paths: list[str], name: str = "test_file_bb") -> np.ndarray:
    return np.concatenate([out["embedding"] for _, out in ctx.embed_audio(name, paths)])


def test_warm_run_never_builds_the_model_and_a_miss_builds_it(registered, tmp_path):
    w = tmp_path / "w.bin"
    w.write_bytes(b"\x07weights")
    a, b = _clip(tmp_path / "a.wav", 0.25), _clip(tmp_path / "b.wav", -0.5)
    first = _ctx(tmp_path / "cache", w)
    first.backbone("test_file_bb")
    assert FileBackbone.loads == [str(w)]  # first use: built at planning
    cold = _embed(first, [a])
    warm_ctx = _ctx(tmp_path / "cache", w)
    bb = warm_ctx.backbone("test_file_bb")
    assert FileBackbone.loads == [str(w)] and not bb._built  # same checkpoint, loaded before: deferred
    assert bb.info == first.backbone("test_file_bb").info  # identity (cache keys) unchanged
    np.testing.assert_array_equal(_embed(warm_ctx, [a]), cold)
    assert FileBackbone.loads == [str(w)] and warm_ctx.stats["audio_hits"] == 1
    got = _embed(warm_ctx, [a, b])  # b is a miss: the model is built then, once
    assert FileBackbone.loads == [str(w)] * 2
    np.testing.assert_allclose(got, [[0.25, 7.0], [-0.5, 7.0]], atol=1e-7)


def test_another_checkpoint_or_an_eager_backbone_loads_at_planning(registered, tmp_path):
    w, w2 = tmp_path / "w.bin", tmp_path / "w2.bin"
    w.write_bytes(b"\x07weights")
    w2.write_bytes(b"\x09other")
    _ctx(tmp_path / "cache", w).backbone("test_file_bb")
    _ctx(tmp_path / "cache", w2).backbone("test_file_bb")  # other bytes: no marker for that identity
    assert FileBackbone.loads == [str(w), str(w2)]
    for _ in range(2):  # a backbone that does not defer loads every time, as before
        _ctx(tmp_path / "cache", w, "test_file_bb_eager").backbone("test_file_bb_eager")
    assert FileBackbone.loads == [str(w), str(w2), str(w), str(w)]


def test_corrupt_or_missing_checkpoint_still_fails_at_planning(registered, tmp_path):
    w = tmp_path / "w.bin"
    w.write_bytes(b"bad bytes")
    for _ in range(2):  # a failed load leaves no marker: the next run fails at planning too
        with pytest.raises(WeightsError, match="corrupt checkpoint"):
            _ctx(tmp_path / "cache", w).backbone("test_file_bb")
    with pytest.raises(WeightsError, match="missing"):
        _ctx(tmp_path / "cache", tmp_path / "absent.bin").backbone("test_file_bb")
    assert FileBackbone.loads == []


@pytest.mark.parametrize("variant", ["panns", "vggish"])
def test_real_backbones_identify_without_building(tmp_path, variant):
    """identify() hashes the checkpoint (no torch model); a corrupt file still fails in load()."""
    from harness.backbones.panns import VARIANTS, PannsCnn14
    from harness.backbones.vggish import RELPATH, VGGishBackbone

    rel = VARIANTS["panns16k"].relpath if variant == "panns" else RELPATH
    f = tmp_path / rel
    f.parent.mkdir(parents=True)
    f.write_bytes(b"not a torch checkpoint")
    bb = PannsCnn14("panns16k", weights=tmp_path) if variant == "panns" else VGGishBackbone(weights=tmp_path)
    assert bb.defers_load and bb.info.checkpoint_sha256 == "not-loaded"
    bb.identify()
    assert bb.info.checkpoint_sha256 == hashlib.sha256(f.read_bytes()).hexdigest() and bb._model is None
    with pytest.raises(WeightsError):
        bb.load()
    f.unlink()
    fresh = PannsCnn14("panns16k", weights=tmp_path) if variant == "panns" else VGGishBackbone(weights=tmp_path)
    with pytest.raises(WeightsError):
        fresh.identify()


def test_sqrtm_root_is_bitwise_the_disp_false_root_without_its_error_estimate(monkeypatch):
    from scipy import linalg

    from harness.metrics import numerics

    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((30, 12)), rng.standard_normal((30, 12)) + 0.2
    prod = np.cov(x, rowvar=False) @ np.cov(y, rowvar=False)  # (12, 12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        old = linalg.sqrtm(prod, disp=False)
    old = np.asarray(old[0] if isinstance(old, tuple) else old)
    np.testing.assert_array_equal(numerics._sqrtm(prod.copy()), old)
    seen: list[dict] = []
    real = linalg.sqrtm
    monkeypatch.setattr(numerics.linalg, "sqrtm", lambda a, **kw: seen.append(kw) or real(a, **kw))
    numerics._sqrtm(prod)
    assert seen == ([{"disp": False}] if numerics._PASS_DISP else [{}])


def test_frechet_forms_the_product_once_and_the_crosscheck_reads_it(monkeypatch):
    from scipy import linalg

    from harness.metrics import numerics

    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((40, 6)), rng.standard_normal((40, 6)) * 1.3 + 0.5
    mu1, mu2 = x.mean(0), y.mean(0)
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    seen: list[np.ndarray] = []
    real_eig = linalg.eigvals
    monkeypatch.setattr(numerics.linalg, "eigvals", lambda a: seen.append(a) or real_eig(a))
    res = numerics.frechet_distance(mu1, s1, mu2, s2)
    np.testing.assert_array_equal(seen[0], s1 @ s2)
    expect_eig = float(np.sqrt(real_eig(s1 @ s2).astype(np.complex128)).sum().real)
    assert res.trace_sqrt_eig == expect_eig
    root = np.asarray(linalg.sqrtm(s1 @ s2)).real
    assert res.value == float((mu1 - mu2) @ (mu1 - mu2) + np.trace(s1) + np.trace(s2) - 2.0 * float(np.trace(root)))
