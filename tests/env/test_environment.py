"""The install step's result: pinned versions, and only the one documented conflict.

scripts/setup.sh installs transformers 5 (and diffusers) over msclap's declared
transformers<5, and the parity peers (requirements/peers.txt) with --no-deps; this test proves
those are the only declared-vs-installed conflicts and that every design-card package imports
together.
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
import subprocess
import sys

import pytest


def test_pinned_versions():
    assert md.version("torch").startswith("2.9.1")
    assert md.version("torchaudio").startswith("2.9.")
    assert md.version("torchvision").startswith("0.24.1")
    assert int(md.version("numpy").split(".")[0]) < 2
    assert md.version("transformers") == "5.23.0"
    assert md.version("diffusers") == "0.42.1"


def _peers() -> set[str]:
    """Packages of requirements/peers.txt: installed --no-deps on purpose (see that file)."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "requirements" / "peers.txt").read_text()
    names = [ln.split("#")[0].split("==")[0].strip() for ln in text.splitlines()]
    return {n.lower().replace("_", "-") for n in names if n}


def test_only_the_documented_conflicts():
    """msclap's transformers<5 (overridden on purpose), descript-audiotools' protobuf<3.20 (Ray
    needs >=3.20.3; audiotools' protobuf use is TensorBoard logging, never reached), and the
    peers' declared dependencies (installed --no-deps for the parity tests, whose code paths
    never import them)."""
    out = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True).stdout
    problems = [line for line in out.splitlines() if line.strip() and "No broken requirements" not in line]
    peers = _peers()
    unexpected = [p for p in problems if not (p.startswith("msclap") and "transformers" in p)
                  and not (p.startswith("descript-audiotools") and "protobuf" in p)  # requirements/ray.txt
                  and p.split()[0].lower() not in peers]
    assert not unexpected, f"undocumented dependency conflicts: {unexpected}"


@pytest.mark.parametrize("module", [
    "dac", "audiotools", "audiobox_aesthetics", "msclap", "transformers", "diffusers", "torchaudio",
    "torchvision", "soundfile", "scipy.linalg", "safetensors.torch",
])
def test_design_card_packages_import(module):
    importlib.import_module(module)


def test_pe_audio_and_t5_classes_exist_in_transformers5():
    from transformers import PeAudioFrameLevelModel, T5EncoderModel  # noqa: F401
