"""A weights directory built by `sabench weights fetch` (from the loopback fake hub/URL server,
tests/fetch/_server.py) loads through the real backbone loaders: VGGish from a plain URL, MS-CLAP
(checkpoint + GPT-2 files) from the hub. Random weights in the published formats."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "fetch"))

from _server import FakeHub, guard_loopback, hub_env, serve_weights  # noqa: E402
from backbone_testkit import noise  # noqa: E402

pytestmark = pytest.mark.slow


def _published(*roots: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for root in roots for p in sorted(root.rglob("*")) if p.is_file()}


def test_fetched_directory_loads_vggish_and_ms_clap(vggish_weights, msclap_weights, monkeypatch, tmp_path):
    from harness.backbones.ms_clap import MsClap
    from harness.backbones.vggish import VGGishBackbone
    from harness.doctor import run_doctor
    from harness.fetch.command import FetchOptions, fetch_weights

    guard_loopback(monkeypatch)
    srv = FakeHub().start()
    try:
        hub_env(srv, monkeypatch, tmp_path / "hf-home")
        files = _published(vggish_weights, msclap_weights)
        serve_weights(srv, monkeypatch, files)
        root = tmp_path / "fetched"
        rc = fetch_weights(["vggish", "ms_clap"], all_files=False, job=None, opts=FetchOptions(root, timeout=30),
                           bars=False, echo=lambda s: None)
        assert rc == 0
    finally:
        srv.stop()
    # huggingface_hub may also GET /api/agent-harnesses (its agent detection, environment-dependent)
    file_gets = [g for g in srv.gets() if not g[1].startswith("/api/")]
    assert {m for m, _, _ in srv.log} == {"HEAD", "GET"} and len(file_gets) == len(files)
    for rel, data in files.items():
        assert (root / rel).read_bytes() == data
    assert run_doctor(str(root), None, echo=lambda s: None) == 0

    clip = noise(16000 * 2, 1)
    fetched, original = VGGishBackbone(weights=root), VGGishBackbone(weights=vggish_weights)
    np.testing.assert_array_equal(fetched.embed([clip])["embedding"], original.embed([clip])["embedding"])
    assert fetched.info.checkpoint_sha256 == original.info.checkpoint_sha256
    clap = MsClap(weights=root)
    text = clap.embed_text(["a dog barks"])
    assert text.shape == (1, 1024) and np.all(np.isfinite(text))
    np.testing.assert_array_equal(text, MsClap(weights=msclap_weights).embed_text(["a dog barks"]))
