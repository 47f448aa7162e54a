"""`sabench doctor` reads each weights file the way its reader would, through the real CLI:
a table of (file under the weights root, how it is made) -> the status doctor prints and the
exit code. A malicious pickle must be reported without ever running its code.
"""

from __future__ import annotations

import json
import os
import pickle
import struct
from pathlib import Path

import pytest

from _gate_kit import check_one_line_error, sabench

torch = pytest.importorskip("torch")


class _Evil:
    """Unpickling this runs `touch <marker>` (what doctor must never do)."""

    marker = ""

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _random(path: Path) -> None:
    path.write_bytes(os.urandom(4096))


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _evil_zip(path: Path) -> None:
    torch.save({"model": _Evil()}, path)


def _evil_legacy(path: Path) -> None:
    with open(path, "wb") as f:
        pickle.dump({"model": _Evil()}, f, protocol=2)


def _state(obj):
    return lambda path: torch.save(obj, path)


def _truncated_zip(path: Path) -> None:
    torch.save({"model": {"conv_block1.conv1.weight": torch.zeros(4096)}}, path)
    os.truncate(path, path.stat().st_size // 2)


def _safetensors(tensors: dict, cut: int = 0):
    def make(path: Path) -> None:
        from safetensors.torch import save_file

        save_file(tensors, str(path))
        if cut:
            os.truncate(path, path.stat().st_size - cut)
    return make


def _bad_header(path: Path) -> None:
    path.write_bytes(struct.pack("<Q", 10 ** 12) + b"{}")


def _tangoflux_vae_keys() -> dict:
    keys = json.loads((Path(__file__).parents[2] / "systems/tangoflux/keys/vae.json").read_text())["keys"]
    return {k: torch.zeros(1) for k in keys}  # doctor checks names, not shapes


PANNS = "panns/Cnn14_16k_mAP=0.438.pth"
GOOD_PANNS = {"model": {"conv_block1.conv1.weight": torch.zeros(2), "fc_audioset.weight": torch.zeros(2)}}

# (id, relpath, maker, expected status fragment, exit code)
CASES = [
    ("random bytes .pth", PANNS, _random, "[corrupt: neither a torch zip archive nor a pickle", 1),
    ("empty .pth", PANNS, _empty, "[corrupt: empty file]", 1),
    ("truncated torch zip", PANNS, _truncated_zip, "[corrupt:", 1),
    ("malicious zip pickle", PANNS, _evil_zip, "[unsafe: pickle needs code (posix.system)]", 1),
    ("malicious legacy pickle", "vggish/vggish-10086976.pth", _evil_legacy, "[unsafe: pickle needs code (posix.system)]", 1),
    ("panns without 'model'", PANNS, _state({"state_dict": {"a": torch.zeros(1)}}), "[wrong keys: no 'model' state dict", 1),
    ("panns wrong state keys", PANNS, _state({"model": {"foo.weight": torch.zeros(1)}}),
     "[wrong keys: no conv_block1.*, fc_audioset.* keys", 1),
    ("panns good", PANNS, _state(GOOD_PANNS), f"[present] panns16k: {PANNS}", 0),
    ("vggish wrong keys", "vggish/vggish-10086976.pth", _state({"x": torch.zeros(1)}), "[wrong keys: no features.*", 1),
    ("aesthetics lacks model_cfg", "audiobox_aesthetics/checkpoint.pt", _state({"state_dict": {}}),
     "[wrong keys: no 'model_cfg' entry]", 1),
    ("laion_clap without text branch", "laion_clap/630k-audioset-best.pt",
     _state({"state_dict": {"module.audio_branch.x": torch.zeros(1)}}), "[wrong keys: no text_branch.* keys", 1),
    ("mel vae key list", "resonate/v1-44.pth", _state({"data_mean": torch.zeros(1)}), "expected keys missing", 1),
    ("safetensors truncated", "tangoflux/vae.safetensors", _safetensors({"a": torch.zeros(64)}, cut=10),
     "[corrupt: truncated: tensors need 256 bytes, the file holds 246]", 1),
    ("safetensors garbage header", "flan-t5-large/model.safetensors", _bad_header, "[corrupt: not a safetensors file", 1),
    ("safetensors random bytes", "flan-t5-large/model.safetensors", _random, "[corrupt:", 1),
    ("safetensors wrong keys", "tangoflux/vae.safetensors", _safetensors({"foo": torch.zeros(2)}),
     "[wrong keys: 365 of 365 expected keys missing", 1),
    ("safetensors right keys", "tangoflux/vae.safetensors", _safetensors(_tangoflux_vae_keys()),
     "[present] tangoflux: tangoflux/vae.safetensors", 0),
    ("config not JSON", "tangoflux/config.json", lambda p: p.write_text("{oops"), "[corrupt: invalid JSON", 1),
]


@pytest.mark.parametrize("name,rel,make,fragment,code", CASES, ids=[c[0] for c in CASES])
def test_doctor_cases(tmp_path: Path, name, rel, make, fragment, code):
    weights = tmp_path / "w"
    (weights / rel).parent.mkdir(parents=True)
    _Evil.marker = str(tmp_path / "PWNED")
    make(weights / rel)
    proc = sabench(["doctor", "--weights", str(weights), "--data", str(tmp_path)], tmp_path)
    check_one_line_error(proc, code, fragment)
    assert not (tmp_path / "PWNED").exists(), "doctor ran code from a pickle"


@pytest.mark.parametrize("name,rel,make,fragment", [
    ("malicious, no torch load", PANNS, _evil_zip, "[unsafe: pickle needs code (posix.system)]"),
    ("random bytes, no torch load", PANNS, _random, "[corrupt: neither a torch zip archive nor a pickle]"),
    ("good, no torch load", PANNS, _state(GOOD_PANNS), f"[present] panns16k: {PANNS}"),
])
def test_doctor_no_hash_still_scans_pickles(tmp_path: Path, name, rel, make, fragment):
    weights = tmp_path / "w"
    (weights / rel).parent.mkdir(parents=True)
    _Evil.marker = str(tmp_path / "PWNED")
    make(weights / rel)
    proc = sabench(["doctor", "--no-hash", "--weights", str(weights)], tmp_path)
    check_one_line_error(proc, 0 if "present" in fragment else 1, fragment)
    assert not (tmp_path / "PWNED").exists()


def test_missing_weights_directory_fails(tmp_path: Path):
    proc = sabench(["doctor", "--weights", str(tmp_path / "nope")], tmp_path)
    check_one_line_error(proc, 1, f"[missing] weights directory {tmp_path / 'nope'} does not exist")
    (tmp_path / "file").write_text("x")
    proc = sabench(["doctor", "--weights", str(tmp_path / "file")], tmp_path)
    check_one_line_error(proc, 1, "is not a folder")


def test_empty_weights_directory_is_fine(tmp_path: Path):
    (tmp_path / "w").mkdir()
    proc = sabench(["doctor", "--weights", str(tmp_path / "w")], tmp_path)
    check_one_line_error(proc, 0, "missing")
    assert "[corrupt" not in proc.stdout and "[unsafe" not in proc.stdout
