"""Derive SemanticVocoder key lists from the ORIGINAL code (never from sabench's adapter).

Usage (the original code lives in temporary folders, never in this repository):

    git --git-dir <mirror of zeyuxie29/SemanticVocoder> archive HEAD src | tar -x -C /tmp/sv_orig
    git --git-dir <mirror of RicherMans/Dasheng> archive HEAD dasheng | tar -x -C /tmp/ds_orig
    python systems/semanticvocoder/keys/derive.py vocoder /tmp/sv_orig <commit> <vocoder-kwargs.json> OUT.json
    python systems/semanticvocoder/keys/derive.py dasheng /tmp/ds_orig <commit> OUT.json

`vocoder`: imports the original `flow2gan/models/generator.py` (package path under
`src/inference`) and builds `MaeAudioGenerator(**kwargs)` on the `meta` device - the object
the original's Hydra config instantiates and whose state dict `_load_checkpoint` loads
strictly from `semanticVocoder_epoch-270.pt["model"]`. `kwargs` is the `vocoder` node of the
published `config.json` (without `_target_`); the JSON written records it under "config" so
the test can build sabench's network at the same configuration.

`dasheng`: imports the original `dasheng/pretrained/pretrained.py` and builds
`Dasheng(embed_dim=768, depth=12, num_heads=12)` (what `dasheng_base()` forces; the file's
own "config" may add more, which the load-time strict check covers). It is built on the CPU:
torchaudio's mel filter bank cannot be constructed on `meta`.
The original `flow2gan/models/utils.py` imports `torch.utils.tensorboard`; a stub stands in
when tensorboard is absent.
"""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import torch


def write(path: Path, source: str, keys: dict, config: dict | None = None) -> None:
    doc = {"source": source, "count": len(keys)}
    if config is not None:
        doc["config"] = config
    doc["keys"] = keys
    path.write_text(json.dumps(doc, indent=0) + "\n")
    total = sum(torch.Size(s).numel() for s in keys.values())
    print(f"{path}: {len(keys)} keys, {total / 1e6:.2f} M values")


def _stub_tensorboard() -> None:
    try:
        import torch.utils.tensorboard  # noqa: F401
    except Exception:
        stub = types.ModuleType("torch.utils.tensorboard")
        stub.SummaryWriter = object
        sys.modules["torch.utils.tensorboard"] = stub


def derive_vocoder(orig: Path, commit: str, kwargs_path: Path, out: Path) -> None:
    _stub_tensorboard()
    sys.path.insert(0, str(orig / "src" / "inference"))
    from models.autoencoder.waveform.semanticVocoder.flow2gan.models.generator import MaeAudioGenerator

    kwargs = {k: v for k, v in json.loads(kwargs_path.read_text()).items() if k != "_target_"}
    with torch.device("meta"):
        gen = MaeAudioGenerator(**kwargs)
    keys = {k: list(v.shape) for k, v in gen.state_dict().items()}
    write(out, f"zeyuxie29/SemanticVocoder@{commit} flow2gan/models/generator.py "
          f"MaeAudioGenerator(**{kwargs_path.name}) on meta", keys, kwargs)


def derive_dasheng(orig: Path, commit: str, out: Path) -> None:
    sys.path.insert(0, str(orig))
    import dasheng.pretrained.pretrained as original

    if not Path(original.__file__).resolve().is_relative_to(orig.resolve()):
        raise SystemExit(f"imported {original.__file__}, not the checkout in {orig}")
    net = original.Dasheng(embed_dim=768, depth=12, num_heads=12)
    keys = {k: list(v.shape) for k, v in net.state_dict().items()}
    write(out, f"RicherMans/Dasheng@{commit} dasheng/pretrained/pretrained.py "
          "Dasheng(embed_dim=768, depth=12, num_heads=12) (= dasheng_base()'s network)", keys)


if __name__ == "__main__":
    if sys.argv[1] == "vocoder":
        derive_vocoder(Path(sys.argv[2]), sys.argv[3], Path(sys.argv[4]), Path(sys.argv[5]))
    elif sys.argv[1] == "dasheng":
        derive_dasheng(Path(sys.argv[2]), sys.argv[3], Path(sys.argv[4]))
    else:
        raise SystemExit("usage: derive.py vocoder|dasheng ...")
