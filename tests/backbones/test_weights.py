"""The weights-directory layout, `require`, `check`, safe checkpoint loading, offline guards."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness import weights as W
from harness.errors import WeightsError

REPO = Path(__file__).resolve().parents[2]


def test_layout_is_unique_and_complete():
    rels = [(wf.backbone, wf.relpath) for wf in W.WEIGHT_FILES]
    assert len(rels) == len(set(rels))
    paths = {wf.relpath for wf in W.WEIGHT_FILES}
    for needed in ("panns/Cnn14_16k_mAP=0.438.pth", "panns/Cnn14_mAP=0.431.pth",
                   "laion_clap/630k-audioset-best.pt", "laion_clap/630k-audioset-fusion-best.pt",
                   "laion_clap/music_speech_audioset_epoch_15_esc_89.98.pt",
                   "laion_clap/tokenizers/roberta-base/vocab.json", "ms_clap/CLAP_weights_2023.pth",
                   "ms_clap/gpt2/merges.txt", "audiobox_aesthetics/checkpoint.pt",
                   "vggish/vggish-10086976.pth", "dacvae/weights.pth", "pe-a-frame-large/model.safetensors",
                   "flan-t5-large/config.json", "tangoflux/tangoflux.safetensors"):
        assert needed in paths
    for wf in W.WEIGHT_FILES:
        assert not wf.relpath.startswith("/") and ".." not in wf.relpath
        assert wf.published_at and wf.size_hint
        assert wf.sha256 is None or len(wf.sha256) == 64


def test_require_missing_names_file_location_and_source(tmp_path):
    with pytest.raises(WeightsError) as e:
        W.require("panns16k", "panns/Cnn14_16k_mAP=0.438.pth", tmp_path)
    msg = str(e.value)
    assert str(tmp_path / "panns" / "Cnn14_16k_mAP=0.438.pth") in msg
    assert "zenodo.org/records/3987831" in msg
    with pytest.raises(WeightsError, match="SABENCH_WEIGHTS"):
        W.require("ms_clap", "ms_clap/CLAP_weights_2023.pth", None)


def test_require_unlisted_file_of_a_listed_folder(tmp_path):
    with pytest.raises(WeightsError, match="huggingface.co/google/flan-t5-large"):
        W.require("flan-t5-large", "flan-t5-large/tokenizer_config.json", tmp_path)
    with pytest.raises(KeyError):
        W.require("x", "nowhere/file.bin", tmp_path)


def test_require_present(tmp_path):
    p = tmp_path / "vggish" / "vggish-10086976.pth"
    p.parent.mkdir()
    p.write_bytes(b"x")
    assert W.require("vggish", "vggish/vggish-10086976.pth", tmp_path) == p


def test_check_statuses(tmp_path, monkeypatch):
    import torch

    good = tmp_path / "panns" / "Cnn14_16k_mAP=0.438.pth"
    good.parent.mkdir()
    torch.save({"model": {"w": torch.zeros(3)}}, good)
    bad = tmp_path / "panns" / "Cnn14_mAP=0.431.pth"
    bad.write_bytes(good.read_bytes()[:40])  # truncated zip
    csv = tmp_path / "panns" / "class_labels_indices.csv"
    csv.write_text("index,mid,display_name\n")
    pinned = [W.WeightFile("panns", "panns/class_labels_indices.csv", "0" * 64, "", "x", "")]
    kept = [w for w in W.WEIGHT_FILES if w.relpath != "panns/class_labels_indices.csv"]
    monkeypatch.setattr(W, "WEIGHT_FILES", kept + pinned)
    status = {wf.relpath: s for wf, s in W.check(tmp_path)}
    assert status["panns/Cnn14_16k_mAP=0.438.pth"] == "present"
    assert status["panns/Cnn14_mAP=0.431.pth"] == "corrupt"
    assert status["panns/class_labels_indices.csv"] == "sha256-mismatch"
    assert status["ms_clap/CLAP_weights_2023.pth"] == "missing"
    assert set(status.values()) <= set(W.STATUSES)
    assert all(s == "missing" for _, s in W.check(None))


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_load_torch_checkpoint_refuses_pickled_objects(tmp_path):
    import torch

    p = tmp_path / "evil.pt"
    torch.save({"model": {}, "x": Evil()}, p)
    with pytest.raises(WeightsError, match="not a weights-only checkpoint"):
        W.load_torch_checkpoint(p, "test")


def test_load_torch_checkpoint_truncated_and_garbage(tmp_path):
    import torch

    p = tmp_path / "t.pt"
    torch.save({"model": {"w": torch.ones(1000)}}, p)
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
    with pytest.raises(WeightsError, match="truncated or corrupt"):
        W.load_torch_checkpoint(p, "test")
    g = tmp_path / "g.pt"
    g.write_bytes(b"not a checkpoint at all")
    with pytest.raises(WeightsError):
        W.load_torch_checkpoint(g, "test")


def test_load_into_shape_mismatch(tmp_path):
    import torch

    with pytest.raises(WeightsError, match="does not match the model"):
        W.load_into(torch.nn.Linear(3, 2), {"weight": torch.zeros(2, 4), "bias": torch.zeros(2)},
                    tmp_path / "x.pt", "test")
    with pytest.raises(WeightsError, match="lacks 1 weights"):
        W.load_into(torch.nn.Linear(3, 2), {"weight": torch.zeros(2, 3)}, tmp_path / "x.pt", "test",
                    strict=False)


def _run(code: str, env: dict | None = None) -> str:
    full = {**os.environ, **(env or {})}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=full, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip()


def test_catalog_import_does_not_import_torch():
    code = ("import sys, harness.backbones.catalog as c\n"
            "from harness.registry import BACKBONES\n"
            "print(sorted(set(BACKBONES.names()) & {'panns16k','panns32k','laion_clap','ms_clap',"
            "'aesthetics','vggish'}).__len__(), 'torch' in sys.modules)")
    assert _run(code) == "6 False"


def test_panns_models_import_skips_package_init(tmp_path):
    """Importing Cnn14 must not run panns_inference/config.py (which wgets into ~/panns_data)."""
    code = ("import sys\nfrom harness.backbones.offline import import_panns_models\n"
            "m = import_panns_models()\n"
            "print(hasattr(m, 'Cnn14'), 'panns_inference' in sys.modules, "
            "'panns_inference.config' in sys.modules)")
    assert _run(code, {"HOME": str(tmp_path)}) == "True False False"
    assert not (tmp_path / "panns_data").exists()


def test_patched_attr_restores_and_redirect_refuses_hub(tmp_path):
    import types

    from harness.backbones.offline import patched_attr, redirect_from_pretrained

    ns = types.SimpleNamespace(x=1)
    with patched_attr(ns, "x", 2):
        assert ns.x == 2
    assert ns.x == 1

    class Fake:
        @classmethod
        def from_pretrained(cls, name, **kw):
            return (name, kw)

    with redirect_from_pretrained({Fake: {"hub/name": tmp_path}}):
        assert Fake.from_pretrained("hub/name") == (str(tmp_path), {"local_files_only": True})
        with pytest.raises(WeightsError, match="hub download"):
            Fake.from_pretrained("other/name")
        with pytest.raises(WeightsError, match="local folder"):
            with redirect_from_pretrained({Fake: {"x": tmp_path / "absent"}}):
                Fake.from_pretrained("x")
    assert Fake.from_pretrained("other/name") == ("other/name", {})


def test_alternative_locations_count_as_present(tmp_path):
    """SemanticVocoder reads dasheng_base.pt from semanticvocoder/ or dasheng/: either is present
    for `check` (and for doctor's presence-only path); the primary wins when both exist."""
    from harness import weights

    (wf,) = [w for w in weights.WEIGHT_FILES if w.relpath == "semanticvocoder/dasheng_base.pt"]
    assert weights.located(wf, tmp_path) is None
    (tmp_path / "dasheng").mkdir()
    (tmp_path / "dasheng" / "dasheng_base.pt").write_bytes(b"\x80\x02}q\x00.")   # a tiny pickle
    assert weights.located(wf, tmp_path) == tmp_path / "dasheng" / "dasheng_base.pt"
    assert dict((w.relpath, st) for w, st in weights.check(tmp_path))[wf.relpath] == "present"
    (tmp_path / "semanticvocoder").mkdir()
    (tmp_path / "semanticvocoder" / "dasheng_base.pt").write_bytes(b"\x80\x02}q\x00.")
    assert weights.located(wf, tmp_path) == tmp_path / "semanticvocoder" / "dasheng_base.pt"
