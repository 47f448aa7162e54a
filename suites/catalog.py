"""Suite registry entries: each name resolves (lazily) to the path of its `suite.yaml`.

The four real-data suites are registered explicitly. Other folders under `suites/` (e.g. the
mini world's) register themselves in one of two ways:
- a `suites/<folder>/catalog.py` module is imported here, and may call `SUITES.register_lazy`
  for as many suites as it defines (it must stay cheap to import);
- otherwise a `suites/<folder>/suite.yaml` is registered under the folder name; its path is
  served by this module's `__getattr__`.
"""

from __future__ import annotations

from pathlib import Path

from harness.registry import SUITES

_HERE = Path(__file__).resolve().parent

_REAL = {
    "audiocaps": ("suites.audiocaps:SPEC_PATH",
                  "AudioCaps test, one caption per clip (957-last): FD/IS/KL (PANNs), FAD, CLAP"),
    "ttabench": ("suites.ttabench:SPEC_PATH",
                 "TTA-Bench accuracy prompts (1,500): MS-CLAP, Audiobox Aesthetics CE/CU/PC/PQ"),
    "reconstruction": ("suites.reconstruction:SPEC_PATH",
                       "reconstruct a folder of audio: Mel and multi-scale STFT losses"),
    "editing": ("suites.editing:SPEC_PATH",
                "SemanticAudio-style 200-pair, 14-category editing benchmark: CLAP, dCLAP"),
}

for _name, (_target, _help) in _REAL.items():
    if _name not in SUITES:
        SUITES.register_lazy(_name, _target, help=_help)


def _own_catalogs() -> None:
    import importlib

    for cat in sorted(_HERE.glob("*/catalog.py")):
        name = cat.parent.name
        if name not in _REAL and (cat.parent / "__init__.py").is_file():
            importlib.import_module(f"suites.{name}.catalog")


_own_catalogs()


def _discovered() -> dict[str, Path]:
    """Other suite folders: `suites/<name>/suite.yaml` not registered above."""
    found = {}
    for yaml_path in sorted(_HERE.glob("*/suite.yaml")):
        name = yaml_path.parent.name
        if name not in _REAL and not name.startswith(("_", ".")):
            found[name] = yaml_path
    return found


_EXTRA = _discovered()
for _name in _EXTRA:
    if _name not in SUITES:
        SUITES.register_lazy(_name, f"suites.catalog:SPEC_{_name}", help=f"suites/{_name}/suite.yaml")


def __getattr__(attr: str) -> Path:
    if attr.startswith("SPEC_") and attr[5:] in _EXTRA:
        return _EXTRA[attr[5:]]
    raise AttributeError(attr)
