"""The install step's result: pinned versions, and only the one documented conflict.

scripts/setup.sh installs transformers 5 (and diffusers) over msclap's declared
transformers<5; this test proves that is the only declared-vs-installed conflict and that
every design-card package imports together.
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


def test_only_the_documented_conflict():
    out = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True).stdout
    problems = [line for line in out.splitlines() if line.strip() and "No broken requirements" not in line]
    unexpected = [p for p in problems if not (p.startswith("msclap") and "transformers" in p)]
    assert not unexpected, f"undocumented dependency conflicts: {unexpected}"


@pytest.mark.parametrize("module", [
    "dac", "audiotools", "audiobox_aesthetics", "msclap", "transformers", "diffusers", "torchaudio",
    "torchvision", "soundfile", "scipy.linalg", "safetensors.torch",
])
def test_design_card_packages_import(module):
    importlib.import_module(module)


def test_pe_audio_and_t5_classes_exist_in_transformers5():
    from transformers import PeAudioFrameLevelModel, T5EncoderModel  # noqa: F401
