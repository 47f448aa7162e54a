"""sabench harness: records, registry, audio I/O, backbones, metrics, stores, runner, CLI.

Importing this package is cheap: heavy dependencies (torch, model packages) are imported
lazily inside the modules that need them.
"""

__version__ = "0.1.0"

SCHEMA_VERSION = 1
"""Version of the cache-key schema (requests, samples, embeddings); bumping it invalidates caches."""

RESULTS_SCHEMA = 2
"""Version of the results store (`harness.results`). 2: every run stores its run plan (run id =
the plan's hash); runs written by schema 1 are kept, marked "legacy" and left out of reports."""
