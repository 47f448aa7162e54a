"""Small files in the published formats (and with the keys) their readers and `sabench doctor` expect."""

from __future__ import annotations

import io
import json
from pathlib import Path


def _torch_bytes(obj) -> bytes:
    import torch

    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def _keys(rel: str) -> list[str]:
    from harness.paths import REPO_ROOT

    return json.loads((Path(REPO_ROOT) / rel).read_text())["keys"]


def published(relpath: str) -> bytes:
    """A small file in the format (and with the keys) its reader and `sabench doctor` expect."""
    import torch

    t = torch.zeros(2)
    if relpath.endswith(".json"):
        return json.dumps({"fake": relpath}).encode()
    if relpath.endswith(".safetensors"):
        from safetensors.torch import save

        from harness.doctor_files import expected_keys

        keys = expected_keys(relpath) or {"weight"}
        return save({k: torch.zeros(1) for k in sorted(keys)})
    if not relpath.endswith((".pt", ".pth")):
        return f"fake {relpath}\n".encode()
    if relpath.startswith("panns/"):
        big = torch.zeros(100_000)  # ~400 KB: several read chunks, so a dropped transfer leaves a partial file
        return _torch_bytes({"model": {"conv_block1.conv1.weight": big, "fc_audioset.weight": t}})
    if relpath.startswith("laion_clap/"):
        return _torch_bytes({"state_dict": {"module.audio_branch.w": t, "module.text_branch.w": t}})
    if relpath == "audiobox_aesthetics/checkpoint.pt":
        return _torch_bytes({"state_dict": {"model.w": t}, "model_cfg": {"dim": 2}, "target_transform": {}})
    if relpath.startswith("vggish/"):
        return _torch_bytes({"features.0.weight": t, "embeddings.0.weight": t})
    if relpath == "resonate/Resonate_GRPO.pth":
        return _torch_bytes({k: torch.zeros(1) for k in _keys("systems/resonate/keys/fluxaudio_m_44k.json")})
    if relpath == "resonate/v1-44.pth":
        return _torch_bytes({k: torch.zeros(1) for k in _keys("systems/resonate/keys/mel_vae_44k.json")})
    if relpath.endswith("bigvgan_generator.pt"):
        return _torch_bytes({"generator": {"w": t}})
    return _torch_bytes({"model": {"w": t}, "state_dict": {"w": t}})
