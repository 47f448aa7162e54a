"""System registry entries (lazy "module:Class" targets; nothing heavy is imported here).

Other areas add their lines below; keep one line per system with a one-line help text.
"""

from harness.registry import ENCODER_BUNDLES, SYSTEMS

_ENTRIES = [
    ("precomputed", "systems.precomputed:PrecomputedSystem",
     "pre-generated files matched to prompts by id (path=folder or manifest)"),
    ("silence", "systems.testing:SilenceSystem", "test system: digital silence (sanity row)"),
    ("sine", "systems.testing:SineSystem", "test system: one sine per request, frequency from its seed"),
    ("noise", "systems.testing:NoiseSystem", "test system: seeded white noise (sanity row)"),
    ("reference-echo", "systems.testing:ReferenceEchoSystem",
     "test system: returns the prompt's reference audio (an oracle sanity row)"),
    ("source-echo", "systems.testing:SourceEchoSystem",
     "edit returns the source unchanged: the 'original source' row of an editing table"),
    ("semanticaudio", "systems.semanticaudio.adapter:SemanticAudioSystem",
     "SemanticAudio: semantic planner + acoustic synthesizer (d, variant, checkpoint, profile)"),
    ("base-model", "systems.base_model:BaseModelSystem",
     "SemanticAudio's Base Model: the same DiT over DAC-VAE latents from text (acoustic FlowEdit)"),
    ("tangoflux", "systems.tangoflux.adapter:TangoFluxSystem",
     "declare-lab/TangoFlux: Flux MMDiT over Oobleck VAE latents, stereo 44.1 kHz (steps, cfg, edit_*)"),
    ("resonate", "systems.resonate.adapter:ResonateSystem",
     "xiquan-li/Resonate: FluxAudio over mel-VAE latents, mono 44.1 kHz (steps, cfg=3.0, checkpoint)"),
    ("semanticvocoder", "systems.semanticvocoder.adapter:SemanticVocoderSystem",
     "SemanticVocoder: text -> UDiT over Dasheng semantic latents -> generative vocoder, "
     "mono 24 kHz (steps=100, cfg=3.5, vocoder_steps=200, edit_*)"),
]

for _name, _target, _help in _ENTRIES:
    if _name not in SYSTEMS:
        SYSTEMS.register_lazy(_name, _target, help=_help)

# SemanticAudio / Base Model encoder bundles a checkpoint's config.json may name (docs/trust.md)
for _name, _target in (("real", "systems.semanticaudio.real_encoders:real_encoders"),
                       ("weightless", "systems.semanticaudio.encoders:weightless_encoders")):
    if _name not in ENCODER_BUNDLES:
        ENCODER_BUNDLES.register_lazy(_name, _target, help=f"SemanticAudio encoder bundle {_name!r}")
