"""Fixtures for tests/semanticaudio: defined in _sa_kit.py (a uniquely named module, so test files can
import its helpers whatever other conftest.py was imported first)."""

from _sa_kit import *  # noqa: F403 (fixtures re-exported for pytest)
