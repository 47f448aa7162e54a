"""Mini checkpoints: `<name>.safetensors` + `<name>.json` (config) per model, and a
`manifest.json` mapping every file to its sha256. Loading verifies the hashes first; a
missing file or a mismatch raises `WeightsError` naming the file and the fix.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from harness.errors import WeightsError
from harness.hashing import sha256_file

DEFAULT_DIR = Path(__file__).resolve().parents[3] / "suites" / "synthcaps" / "checkpoints"
"""The committed checkpoints (override with $SABENCH_MINI_CHECKPOINTS)."""
RETRAIN = "python -m suites.synthcaps.train_backbones --out suites/synthcaps/checkpoints"


def checkpoint_dir(override: str | Path | None = None) -> Path:
    env = os.environ.get("SABENCH_MINI_CHECKPOINTS", "").strip()
    return Path(override or env or DEFAULT_DIR)


def save(model, config: dict, name: str, out: Path) -> None:
    """Write the weights and config, then record both hashes in manifest.json."""
    from safetensors.torch import save_file

    out.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}
    save_file(tensors, str(out / f"{name}.safetensors"))
    (out / f"{name}.json").write_text(json.dumps(config, indent=1, sort_keys=True) + "\n")
    manifest_path = out / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    for suffix in (".safetensors", ".json"):
        manifest[f"{name}{suffix}"] = sha256_file(out / f"{name}{suffix}")
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")


def verify(name: str, folder: Path) -> str:
    """Check both files of `name` against the manifest; returns the weights' sha256."""
    manifest_path = folder / "manifest.json"
    if not manifest_path.exists():
        raise WeightsError(str(manifest_path), "missing mini checkpoint manifest", f"run `{RETRAIN}`")
    manifest = json.loads(manifest_path.read_text())
    for fname in (f"{name}.safetensors", f"{name}.json"):
        path = folder / fname
        if fname not in manifest:
            raise WeightsError(str(path), "not listed in manifest.json", f"run `{RETRAIN}`")
        if not path.exists():
            raise WeightsError(str(path), "missing mini checkpoint file", f"run `{RETRAIN}`")
        got = sha256_file(path)
        if got != manifest[fname]:
            raise WeightsError(str(path), f"sha256 {got[:12]} does not match manifest "
                               f"{manifest[fname][:12]} (corrupt or edited)", f"run `{RETRAIN}`")
    return manifest[f"{name}.safetensors"]


def load(name: str, folder: Path | None = None):
    """(config dict, state dict, weights sha256) after verification."""
    from safetensors.torch import load_file

    folder = checkpoint_dir(folder)
    sha = verify(name, folder)
    config = json.loads((folder / f"{name}.json").read_text())
    return config, load_file(str(folder / f"{name}.safetensors")), sha
