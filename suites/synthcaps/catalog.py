"""Registers the four mini suites (profile mini) and the SynthCaps metrics (cheap: no torch).

| suite                | task        | prompts                                   |
|----------------------|-------------|-------------------------------------------|
| `mini-generation`    | generate    | SynthCaps test, canonical captions        |
| `mini-tta`           | generate    | SynthCaps test, paraphrased captions      |
| `mini-reconstruction`| reconstruct | SynthCaps reconstruction split            |
| `mini-editing`       | edit        | 14 categories, ground-truth target audio  |
"""

from importlib import import_module
from pathlib import Path

from harness.registry import METRICS, SUITES

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
for _name, _attr, _help in _SUITES:
    if _name not in SUITES:
        SUITES.register_lazy(_name, f"suites.synthcaps.catalog:{_attr}", help=_help)

if "synthcaps_event_presence" not in METRICS:
    import_module("suites.synthcaps.metrics_catalog")
if "synthcaps_quality" not in METRICS:
    METRICS.register_lazy("synthcaps_quality", "suites.synthcaps.suite_metrics:make_quality",
                          help="mean mini_quality score of the outputs (Aesthetics stand-in, [0, 1])")
