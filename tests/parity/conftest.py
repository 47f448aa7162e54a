"""Fixtures for tests/parity: defined in _parity_kit.py (a uniquely named module, so test files can
import its helpers whatever other conftest.py was imported first)."""

from _parity_kit import *  # noqa: F403 (fixtures re-exported for pytest)
