"""sabench harness: records, registry, audio I/O, backbones, metrics, stores, runner, CLI.

Importing this package is cheap: heavy dependencies (torch, model packages) are imported
lazily inside the modules that need them.
"""

__version__ = "0.1.0"

SCHEMA_VERSION = 1
"""Version of the cache-key and results-store schema; bumping it invalidates caches."""
