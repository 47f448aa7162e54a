"""The committed mini SemanticAudio / Base Model checkpoints and their sha256 manifest.

Layout (`suites/synthcaps/checkpoints/systems/`, written by `suites.synthcaps.train_systems`):

    mlp-d16/{synthesizer,planner}/{model.safetensors,config.json}
    mlp-d64/{synthesizer,planner}/...
    rawpe-d64/{synthesizer,planner}/...        (rawPE: d = the semantic width, 64)
    base/{model.safetensors,config.json}
    manifest.json        relative path -> sha256 of every file above
    training-<parts>.json  sizes, steps, s/step and loss summaries (one file per training run)

`verify(folder)` checks every file under `folder` that the manifest lists (a missing file or
a hash mismatch raises `WeightsError` naming the file and the retrain command); the
`semanticaudio` / `base-model` adapters call it before loading a mini checkpoint.
"""

from __future__ import annotations

import json
from pathlib import Path

from harness.errors import WeightsError
from harness.hashing import sha256_file
from harness.paths import REPO_ROOT

ROOT = REPO_ROOT / "suites" / "synthcaps" / "checkpoints" / "systems"
RETRAIN = "python -m suites.synthcaps.train_systems --out suites/synthcaps/checkpoints/systems"
MANIFEST = "manifest.json"


def write_manifest(root: str | Path) -> dict[str, str]:
    """Hash every checkpoint file under `root` (not the manifest itself) into manifest.json."""
    root = Path(root)
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.name != MANIFEST
                   and p.suffix in (".safetensors", ".json") and not p.name.startswith("training"))
    manifest = {p.relative_to(root).as_posix(): sha256_file(p) for p in files}
    (root / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest


def _manifest_for(folder: Path) -> tuple[Path, dict[str, str]]:
    for base in (folder, *folder.parents):
        if (base / MANIFEST).is_file():
            return base, json.loads((base / MANIFEST).read_text())
    raise WeightsError(str(folder), "no manifest.json above this mini checkpoint", f"run `{RETRAIN}`")


def verify(folder: str | Path) -> int:
    """Check the files of `folder` (a stage or variant folder) against the nearest manifest.
    Returns the number of files checked (at least one, else an error)."""
    folder = Path(folder)
    base, manifest = _manifest_for(folder)
    prefix = folder.relative_to(base).as_posix()
    mine = {k: v for k, v in manifest.items() if prefix in ("", ".") or k.startswith(prefix + "/")}
    if not mine:
        raise WeightsError(str(folder), "not listed in the mini systems manifest", f"run `{RETRAIN}`")
    for rel, want in mine.items():
        path = base / rel
        if not path.is_file():
            raise WeightsError(str(path), "missing mini system checkpoint file", f"run `{RETRAIN}`")
        got = sha256_file(path)
        if got != want:
            raise WeightsError(str(path), f"sha256 {got[:12]} does not match manifest {want[:12]} "
                               "(corrupt or edited)", f"run `{RETRAIN}`")
    return len(mine)
