"""Derive Resonate's published checkpoint key list from the ORIGINAL network code.

Usage (the original code lives in a temporary folder, never in this repository):

    git --git-dir <mirror of xiquan-li/Resonate> archive HEAD resonate | tar -x -C /tmp/rs_orig
    python systems/resonate/keys/derive.py /tmp/rs_orig <commit> systems/resonate/keys

It imports the original `resonate/model/networks.py` and builds
`get_model("fluxaudio_m_44k", use_rope=True, text_dim=1024, text_c_dim=1024)` (the call in
the original inference scripts) on the `meta` device, then writes the state-dict names and
shapes. `FluxAudio.load_weights` loads the released `Resonate_GRPO.pth` / `Resonate_PT.pth`
with `strict=True` after dropping only non-persistent names, so this list is the file's
key set. RoPE tables and timestep frequencies are non-persistent buffers (not in the list).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch


def derive(orig: Path, commit: str, out: Path) -> None:
    sys.path.insert(0, str(orig))
    from resonate.model.networks import get_model  # the original module

    with torch.device("meta"):
        net = get_model("fluxaudio_m_44k", use_rope=True, text_dim=1024, text_c_dim=1024)
    keys = {k: list(v.shape) for k, v in net.state_dict().items()}
    src = (f"xiquan-li/Resonate@{commit} resonate/model/networks.py "
           f"fluxaudio_m_44k(use_rope=True, text_dim=1024, text_c_dim=1024) on meta")
    path = out / "fluxaudio_m_44k.json"
    path.write_text(json.dumps({"source": src, "count": len(keys), "keys": keys}, indent=0) + "\n")
    print(f"{path}: {len(keys)} keys, {sum(torch.Size(s).numel() for s in keys.values()) / 1e6:.1f} M values")


if __name__ == "__main__":
    derive(Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]))
