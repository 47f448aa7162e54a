"""Benchmark suites: one folder per suite (spec `suite.yaml`, README with changelog, loader).

Suites register lazily in `suites.catalog`; importing this package is cheap.
"""
