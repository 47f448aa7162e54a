"""Fixtures for the fetch tests: a loopback fake hub + plain-URL server, sources pointed at it,
small files in the published formats, and a guard refusing every non-loopback connection."""

from __future__ import annotations

import io
import json
import socket
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from _server import FakeHub  # noqa: E402


def _loopback(family: int, address) -> bool:
    if family == getattr(socket, "AF_UNIX", None):
        return True
    host = address[0] if isinstance(address, tuple) else address
    return isinstance(host, str) and (host.startswith("127.") or host in ("::1", "localhost"))


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """Any connection outside 127.0.0.0/8 (or ::1) raises: no test can reach the internet."""
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def connect(self, address):
        if not _loopback(self.family, address):
            raise ConnectionRefusedError(f"test guard: non-loopback connection to {address!r} refused")
        return real_connect(self, address)

    def connect_ex(self, address):
        if not _loopback(self.family, address):
            raise ConnectionRefusedError(f"test guard: non-loopback connection to {address!r} refused")
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)


@pytest.fixture
def server(monkeypatch, tmp_path):
    """A started `FakeHub`; HF_ENDPOINT and SABENCH_GITHUB_RAW point at it, no token, private HF_HOME."""
    srv = FakeHub().start()
    monkeypatch.setenv("HF_ENDPOINT", srv.url)
    monkeypatch.setenv("SABENCH_GITHUB_RAW", f"{srv.url}/plain/raw")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.delenv("SABENCH_WEIGHTS", raising=False)
    yield srv
    srv.stop()


def serve(srv: FakeHub, monkeypatch, files: dict[str, bytes]) -> None:
    """Publish `files` (weights relpath -> bytes) where the sources table says they live: hub
    files on the fake hub, URL files as plain URLs (the table entry re-pointed at the server)."""
    from harness.fetch import sources

    for rel, data in files.items():
        src = sources.SOURCES[rel]
        if src.repo:
            srv.add_hub(src.repo, src.file, data)
        else:
            url = srv.add_plain(rel, data)
            monkeypatch.setitem(sources.SOURCES, rel, sources.Source(url=url, immutable=src.immutable))


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
