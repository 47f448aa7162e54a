"""The mini-world backbones, registered lazily (importing this module imports no torch).

Each entry is a `Backbone` class used as a factory `(checkpoint_dir=None) -> Backbone`;
weights are the committed SynthCaps checkpoints (suites/synthcaps/checkpoints, or
$SABENCH_MINI_CHECKPOINTS), sha256-checked against manifest.json at `load()`.
"""

from harness.registry import BACKBONES

_ENTRIES = (
    ("mini_classifier", "MiniClassifier", "SynthCaps clip classifier (PANNs stand-in): "
     "embedding (B, 128), logits (B, 14)"),
    ("mini_clap", "MiniClap", "SynthCaps text-audio contrastive model (CLAP stand-in): 128-d unit-norm audio/text"),
    ("mini_semantic", "MiniSemantic", "SynthCaps frame-level semantic encoder (PE-A-Frame stand-in): "
     "(B, T, 64) @ 25 fps"),
    ("mini_vae", "MiniVAE", "SynthCaps acoustic VAE (DAC-VAE stand-in): latents (B, T, 32) @ 25 Hz, decode"),
    ("mini_quality", "MiniQuality", "SynthCaps quality predictor (Aesthetics stand-in): quality (B,) in [0, 1]"),
)

for _name, _cls, _help in _ENTRIES:
    BACKBONES.register_lazy(_name, f"harness.backbones.mini.backbones:{_cls}", help=_help)

MINI_BACKBONES = frozenset(name for name, _, _ in _ENTRIES)
"""The mini-world backbone names (reports name them when they score a real-profile run)."""
