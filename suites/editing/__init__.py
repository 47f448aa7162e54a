"""Editing suite (real profile). `SPEC_PATH` is what the suite registry resolves to."""

from pathlib import Path

SPEC_PATH = Path(__file__).resolve().parent / "suite.yaml"
