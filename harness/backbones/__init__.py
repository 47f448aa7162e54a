"""Metric backbones: PANNs, LAION-CLAP, MS-CLAP, Audiobox Aesthetics, VGGish, and the
mini-world stand-ins. Each is a `Backbone` with `load()` and batched `embed()`."""
