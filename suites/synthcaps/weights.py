"""The mini world's committed checkpoints: one manifest format, one verifier.

Layout (`suites/synthcaps/checkpoints/`, written by `suites.synthcaps.train_all`):

    <backbone>.safetensors + <backbone>.json   the five mini backbones (train_backbones)
    manifest.json                              relative path -> sha256 of every file above
    metrics.json                               corpus id, steps, timings, quality bars
    systems/mlp-d16/{synthesizer,planner}/{model.safetensors,config.json}
    systems/mlp-d64/..., systems/rawpe-d64/... (rawPE: d = the semantic width, 64)
    systems/base/{model.safetensors,config.json}
    systems/manifest.json                      the same format, for the mini systems
    systems/training-<parts>.json              sizes, steps, s/step and loss summaries

A manifest maps paths relative to its own folder to sha256. `verify(base, rels)` checks the
listed files against `<base>/manifest.json` (a file missing from the manifest or from disk, or
a hash mismatch, raises `WeightsError` naming the file and the retrain command) and returns
their hashes. `$SABENCH_MINI_CHECKPOINTS` replaces the whole folder (backbones at its top,
systems under `systems/`): `sabench mini train --out DIR` writes exactly that layout.

`system_checkpoint(system, leaf)` is registered for profile "mini"
(`harness.registry.PROFILE_CHECKPOINTS`): the `semanticaudio` and `base-model` adapters load
the folder it returns exactly as they load a user's `checkpoint=DIR`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from harness.errors import WeightsError
from harness.hashing import sha256_file

DEFAULT_DIR = Path(__file__).resolve().parent / "checkpoints"
"""The committed checkpoints (override with $SABENCH_MINI_CHECKPOINTS)."""
MANIFEST = "manifest.json"
RETRAIN = "sabench mini train (python -m suites.synthcaps.train_all)"


def checkpoint_dir(override: str | Path | None = None) -> Path:
    """The mini checkpoint folder: `override`, else $SABENCH_MINI_CHECKPOINTS, else the committed one."""
    env = os.environ.get("SABENCH_MINI_CHECKPOINTS", "").strip()
    return Path(override or env or DEFAULT_DIR)


def _read_manifest(base: Path) -> dict[str, str]:
    path = base / MANIFEST
    if not path.is_file():
        raise WeightsError(str(path), "missing mini checkpoint manifest", f"run `{RETRAIN}`")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WeightsError(str(path), f"manifest is not valid JSON ({exc})", f"run `{RETRAIN}`") from None
    if not isinstance(manifest, dict):
        raise WeightsError(str(path), "manifest is not a JSON object", f"run `{RETRAIN}`")
    return manifest


def _write_manifest(base: Path, manifest: dict[str, str]) -> None:
    (base / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")


def verify(base: str | Path, rels: list[str]) -> dict[str, str]:
    """Check the files `rels` (relative to `base`) against `<base>/manifest.json`.
    Returns {rel: sha256}; raises `WeightsError` naming the first bad file."""
    base = Path(base)
    manifest = _read_manifest(base)
    out = {}
    for rel in rels:
        path = base / rel
        if rel not in manifest:
            raise WeightsError(str(path), "not listed in the mini checkpoint manifest", f"run `{RETRAIN}`")
        if not path.is_file():
            raise WeightsError(str(path), "missing mini checkpoint file", f"run `{RETRAIN}`")
        got = sha256_file(path)
        if got != manifest[rel]:
            raise WeightsError(str(path), f"sha256 {got[:12]} does not match manifest {str(manifest[rel])[:12]} "
                               "(corrupt or edited)", f"run `{RETRAIN}`")
        out[rel] = got
    return out


# ----------------------------------------------------------------------------- backbones

def save_backbone(model, config: dict, name: str, out: Path) -> None:
    """Write `<name>.safetensors` and `<name>.json`, then record both hashes in the manifest."""
    from safetensors.torch import save_file

    out.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}
    save_file(tensors, str(out / f"{name}.safetensors"))
    (out / f"{name}.json").write_text(json.dumps(config, indent=1, sort_keys=True) + "\n")
    manifest = _read_manifest(out) if (out / MANIFEST).exists() else {}
    for suffix in (".safetensors", ".json"):
        manifest[f"{name}{suffix}"] = sha256_file(out / f"{name}{suffix}")
    _write_manifest(out, manifest)


def load_backbone(name: str, folder: Path | None = None):
    """(config dict, state dict, weights sha256) of backbone `name` after verification."""
    from safetensors.torch import load_file

    folder = checkpoint_dir(folder)
    shas = verify(folder, [f"{name}.safetensors", f"{name}.json"])
    config = json.loads((folder / f"{name}.json").read_text())
    return config, load_file(str(folder / f"{name}.safetensors")), shas[f"{name}.safetensors"]


# ----------------------------------------------------------------------------- systems

def write_manifest(root: str | Path) -> dict[str, str]:
    """Hash every checkpoint file under `root` (not the manifest, not training records)."""
    root = Path(root)
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.name != MANIFEST
                   and p.suffix in (".safetensors", ".json") and not p.name.startswith("training"))
    manifest = {p.relative_to(root).as_posix(): sha256_file(p) for p in files}
    _write_manifest(root, manifest)
    return manifest


def verify_tree(folder: str | Path) -> dict[str, str]:
    """Check every file the nearest manifest at or above `folder` lists under `folder`
    (a stage or variant folder). Returns {rel: sha256} (at least one file, else an error)."""
    folder = Path(folder)
    base = next((b for b in (folder, *folder.parents) if (b / MANIFEST).is_file()), None)
    if base is None:
        raise WeightsError(str(folder), "no manifest.json above this mini checkpoint", f"run `{RETRAIN}`")
    prefix = folder.relative_to(base).as_posix()
    mine = sorted(k for k in _read_manifest(base) if prefix in ("", ".") or k.startswith(prefix + "/"))
    if not mine:
        raise WeightsError(str(folder), "not listed in the mini checkpoint manifest", f"run `{RETRAIN}`")
    return verify(base, mine)


def system_checkpoint(system: str, leaf: str) -> Path:
    """The verified mini checkpoint folder of `system` (`semanticaudio` / `base-model`) at
    `leaf` (e.g. "mlp-d16", "base"): what profile "mini" stands for."""
    folder = checkpoint_dir() / "systems" / leaf
    if not folder.is_dir():
        raise WeightsError(f"system {system}", f"no mini checkpoint {leaf!r} in {folder.parent}",
                           "use variant/d of a committed mini model (mlp d16, mlp d64, rawpe d64) "
                           f"or run `{RETRAIN}`")
    verify_tree(folder)                                         # sha256 manifest, before loading
    return folder
