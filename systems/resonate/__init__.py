"""Resonate adapter (xiquan-li/Resonate)."""
