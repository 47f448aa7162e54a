"""SynthCaps metric factories, registered lazily (importing this module imports no torch).

CLAP and ΔCLAP in the mini world are the generic `clap`, `clap_target` and `delta_clap`
factories with `backbone: mini_clap`; the entries below are what only this world can measure.
"""

from harness.registry import METRICS

_M = "suites.synthcaps.mini_metrics"
_ENTRIES = (
    ("synthcaps_event_presence", "make_event_presence",
     "1 if the mini semantic encoder detects exactly the scene's sources, else 0"),
    ("synthcaps_event_jaccard", "make_event_jaccard",
     "Jaccard index of detected vs scene sources (mini semantic encoder)"),
    ("synthcaps_event_order", "make_event_order",
     "fraction of consecutive foreground events detected in caption order"),
    ("synthcaps_edit_mel_l1", "make_edit_mel_l1",
     "editing: log-mel L1 between the edited output and the ground-truth target"),
    ("synthcaps_edit_latent_l2", "make_edit_latent_l2",
     "editing: mean per-frame L2 between mini-VAE latents of output and ground-truth target"),
)

for _name, _fn, _help in _ENTRIES:
    METRICS.register_lazy(_name, f"{_M}:{_fn}", help=_help)
