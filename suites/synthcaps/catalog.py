"""The mini world's one catalog: everything it adds to the registries (cheap: no torch).

`suites.catalog` imports this module (every `suites/<folder>/catalog.py` is); nothing in
harness/ or systems/ names this package, they find its entries here:

| registry              | entries                                                                 |
|-----------------------|-------------------------------------------------------------------------|
| `SUITES`              | `mini-generation`, `mini-tta`, `mini-reconstruction`, `mini-editing`     |
| `BACKBONES`           | `mini_classifier`, `mini_clap`, `mini_semantic`, `mini_vae`, `mini_quality` |
| `METRICS`             | `mini_event_*`, `mini_edit_*`, `mini_quality`                         |
| `ENCODER_BUNDLES`     | `mini`: SemanticAudio's encoders over the mini backbones                |
| `PROFILE_CHECKPOINTS` | `mini`: the committed mini SemanticAudio / Base Model folders (verified) |
| `TRAINERS`            | `mini`: `sabench mini train` (corpus, backbones, systems)                |
"""

from __future__ import annotations

from pathlib import Path

from harness.registry import BACKBONES, ENCODER_BUNDLES, METRICS, PROFILE_CHECKPOINTS, SUITES, TRAINERS

_PKG = "suites.synthcaps"
_HERE = Path(__file__).resolve().parent / "suites"
GENERATION = _HERE / "generation.yaml"
TTA = _HERE / "tta.yaml"
RECONSTRUCTION = _HERE / "reconstruction.yaml"
EDITING = _HERE / "editing.yaml"

_SUITES = (
    ("mini-generation", "GENERATION",
     "mini profile: SynthCaps text-to-audio, FD/IS/KL (mini_classifier), CLAP, events"),
    ("mini-tta", "TTA", "mini profile: paraphrased prompts, mini CLAP + mini quality (TTA-Bench analogue)"),
    ("mini-reconstruction", "RECONSTRUCTION", "mini profile: system.reconstruct, Mel and STFT losses"),
    ("mini-editing", "EDITING", "mini profile: 14-category paired editing, CLAP to target, dCLAP, distance to GT"),
)

_BACKBONES = (
    ("mini_classifier", "MiniClassifier",
     "SynthCaps clip classifier (PANNs stand-in): embedding (B, 128), logits (B, 14)"),
    ("mini_clap", "MiniClap", "SynthCaps text-audio contrastive model (CLAP stand-in): 128-d unit-norm audio/text"),
    ("mini_semantic", "MiniSemantic",
     "SynthCaps frame-level semantic encoder (PE-A-Frame stand-in): (B, T, 64) @ 25 fps"),
    ("mini_vae", "MiniVAE", "SynthCaps acoustic VAE (DAC-VAE stand-in): latents (B, T, 32) @ 25 Hz, decode"),
    ("mini_quality", "MiniQuality", "SynthCaps quality predictor (Aesthetics stand-in): quality (B,) in [0, 1]"),
)
MINI_BACKBONES = frozenset(name for name, _, _ in _BACKBONES)
"""The mini world's backbone names."""

# CLAP and ΔCLAP in the mini world are the generic `clap`, `clap_target` and `delta_clap`
# factories with `backbone: mini_clap`; these are what only this world can measure.
_METRICS = (
    ("mini_event_presence", "make_event_presence",
     "1 if the mini semantic encoder detects exactly the scene's sources, else 0"),
    ("mini_event_jaccard", "make_event_jaccard",
     "Jaccard index of detected vs scene sources (mini semantic encoder)"),
    ("mini_event_order", "make_event_order",
     "fraction of consecutive foreground events detected in caption order"),
    ("mini_edit_mel_l1", "make_edit_mel_l1",
     "editing: log-mel L1 between the edited output and the ground-truth target"),
    ("mini_edit_latent_l2", "make_edit_latent_l2",
     "editing: mean per-frame L2 between mini-VAE latents of output and ground-truth target"),
    ("mini_quality", "make_quality",
     "mean mini_quality score of the outputs (Aesthetics stand-in, [0, 1])"),
)

_OTHER = (
    (ENCODER_BUNDLES, "mini", f"{_PKG}.mini_encoders:mini_encoders",
     "SemanticAudio encoders over mini_clap, mini_semantic and mini_vae (16 kHz, 25 fps)"),
    (PROFILE_CHECKPOINTS, "mini", f"{_PKG}.weights:system_checkpoint",
     "the committed mini SemanticAudio / Base Model checkpoints (sha256-verified)"),
    (TRAINERS, "mini", f"{_PKG}.train_all:main", "rebuild the mini world: corpus, backbones, systems"),
)


def _register() -> None:
    for name, attr, help in _SUITES:
        if name not in SUITES:
            SUITES.register_lazy(name, f"{_PKG}.catalog:{attr}", help=help)
    for name, cls, help in _BACKBONES:
        if name not in BACKBONES:
            BACKBONES.register_lazy(name, f"{_PKG}.backbones.backbones:{cls}", help=help)
    for name, fn, help in _METRICS:
        if name not in METRICS:
            METRICS.register_lazy(name, f"{_PKG}.mini_metrics:{fn}", help=help)
    for registry, name, target, help in _OTHER:
        if name not in registry:
            registry.register_lazy(name, target, help=help)


_register()
