"""Metrics: pure numerics (`harness.metrics.numerics`) and metric objects over backbones."""
