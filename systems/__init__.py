"""Generator adapters: one `harness.system.System` subclass per system.

Registered lazily in `systems/catalog.py`, so listing them never imports torch.
"""
