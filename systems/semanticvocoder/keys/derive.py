"""Derive SemanticVocoder key lists from the ORIGINAL code (never from sabench's adapter).

Usage (the original code lives in temporary folders, never in this repository):

    git --git-dir <mirror of zeyuxie29/SemanticVocoder> archive HEAD src | tar -x -C <sv_src>
    git --git-dir <mirror of RicherMans/Dasheng> archive HEAD dasheng | tar -x -C <ds_src>
    python systems/semanticvocoder/keys/derive.py vocoder <sv_src> <commit> <vocoder-kwargs.json> OUT.json
    python systems/semanticvocoder/keys/derive.py dasheng <ds_src> <commit> OUT.json
    python systems/semanticvocoder/keys/derive.py tta <sv_src> <commit> <hf_config.json> <t5> OUT.json

`vocoder`: imports the original `flow2gan/models/generator.py` (package path under
`src/inference`) and builds `MaeAudioGenerator(**kwargs)` on the `meta` device - the object
the original's Hydra config instantiates and whose state dict `_load_checkpoint` loads
strictly from `semanticVocoder_epoch-270.pt["model"]`. `kwargs` is the `vocoder` node of the
published `config.json` (without `_target_`); the JSON written records it under "config" so
the test can build sabench's network at the same configuration.

`dasheng`: imports the original `dasheng/pretrained/pretrained.py` and builds
`Dasheng(embed_dim=768, depth=12, num_heads=12)` (what `dasheng_base()` forces; the file's
own "config" may add more, which the load-time strict check covers). It is built on the CPU:
torchaudio's mel filter bank cannot be constructed on `meta`.
The original `flow2gan/models/utils.py` imports `torch.utils.tensorboard`; a stub stands in
when tensorboard is absent.

`tta`: the published text-to-audio model is an HF `PreTrainedModel` (`src/inference/model.py`)
whose `self.model = hydra.utils.instantiate(config.model_config)`, so its checkpoint keys are
`"model." + k` over `SingleTaskCrossAttentionAudioFlowMatching.state_dict()`. This mode reads an
HF-style `config.json`, builds `model_config` with `instantiate` below (a Hydra stand-in: each
`_target_` module path is imported under `src/inference`, children are built first, the class
is called with the node's other keys; Hydra is not needed), all on `meta` - the diffusers
`FlowMatchEulerDiscreteScheduler`, the sinusoidal `pe` and rotary `inv_freq` buffers included.
The original `T5TextEncoder.__init__` calls `T5Tokenizer.from_pretrained(model_name)` and
`T5Config.from_pretrained(model_name)` (Hugging Face hub downloads) and then builds an untrained
`T5EncoderModel(config)`. For the build only, those two names are replaced IN THE ORIGINAL
MODULE's namespace (`models.content_encoder.text_encoder`) by offline stand-ins: the tokenizer
by `adapterkit.tiny_tokenizer()` (no weights, so it does not affect the keys), the config by
`adapterkit.flan_t5_large_config()` (`<t5>` = `flan-t5-large`) or `adapterkit.tiny_t5_config(32)`
(`<t5>` = `tiny`); the choice is stored under "t5". The autoencoder node must use
`encoder_name: "none"` (the original then builds no Dasheng encoder - "During inference,
encoder is not used" - so nothing is downloaded). The JSON written stores the whole config
document under "config"; its keys include buffers (`pe`, `inv_freq`, STFT windows, mel `fb`),
both names of T5's shared embedding (`shared.weight`, `encoder.embed_tokens.weight`) and
`model.dummy_param` of shape [0].
"""

from __future__ import annotations

import contextlib
import importlib
import json
import sys
import types
from pathlib import Path

import torch


def write(path: Path, source: str, keys: dict, config: dict | None = None,
          extra: dict | None = None) -> None:
    doc = {"source": source, "count": len(keys), **(extra or {})}
    if config is not None:
        doc["config"] = config
    doc["keys"] = keys
    path.write_text(json.dumps(doc, indent=0) + "\n")
    total = sum(torch.Size(s).numel() for s in keys.values())
    print(f"{path}: {len(keys)} keys, {total / 1e6:.2f} M values")


def _stub_tensorboard() -> None:
    try:
        import torch.utils.tensorboard  # noqa: F401
    except Exception:
        stub = types.ModuleType("torch.utils.tensorboard")
        stub.SummaryWriter = object
        sys.modules["torch.utils.tensorboard"] = stub


def derive_vocoder(orig: Path, commit: str, kwargs_path: Path, out: Path) -> None:
    _stub_tensorboard()
    sys.path.insert(0, str(orig / "src" / "inference"))
    from models.autoencoder.waveform.semanticVocoder.flow2gan.models.generator import MaeAudioGenerator

    kwargs = {k: v for k, v in json.loads(kwargs_path.read_text()).items() if k != "_target_"}
    with torch.device("meta"):
        gen = MaeAudioGenerator(**kwargs)
    keys = {k: list(v.shape) for k, v in gen.state_dict().items()}
    write(out, f"zeyuxie29/SemanticVocoder@{commit} flow2gan/models/generator.py "
          f"MaeAudioGenerator(**{kwargs_path.name}) on meta", keys, kwargs)


def derive_dasheng(orig: Path, commit: str, out: Path) -> None:
    sys.path.insert(0, str(orig))
    import dasheng.pretrained.pretrained as original

    if not Path(original.__file__).resolve().is_relative_to(orig.resolve()):
        raise SystemExit(f"imported {original.__file__}, not the checkout in {orig}")
    net = original.Dasheng(embed_dim=768, depth=12, num_heads=12)
    keys = {k: list(v.shape) for k, v in net.state_dict().items()}
    write(out, f"RicherMans/Dasheng@{commit} dasheng/pretrained/pretrained.py "
          "Dasheng(embed_dim=768, depth=12, num_heads=12) (= dasheng_base()'s network)", keys)


T5_CONFIGS = ("flan-t5-large", "tiny")
REPO_ROOT = Path(__file__).resolve().parents[3]     # run as a script: make `systems` importable


class _FromPretrained:
    """Stands in for a transformers class whose only use is `.from_pretrained(name)`."""

    def __init__(self, make, requested: list):
        self.make, self.requested = make, requested

    def from_pretrained(self, name, *args, **kwargs):
        self.requested.append(name)
        return self.make()


@contextlib.contextmanager
def _offline_t5(module, t5: str):
    """Replace `T5Tokenizer` / `T5Config` in the ORIGINAL text_encoder module's namespace."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.append(str(REPO_ROOT))
    from systems import adapterkit

    if t5 not in T5_CONFIGS:
        raise SystemExit(f"t5 must be one of {T5_CONFIGS}, got {t5!r}")
    config = (adapterkit.flan_t5_large_config if t5 == "flan-t5-large"
              else lambda: adapterkit.tiny_t5_config(32))
    requested: list = []
    saved = module.T5Tokenizer, module.T5Config
    module.T5Tokenizer = _FromPretrained(adapterkit.tiny_tokenizer, requested)
    module.T5Config = _FromPretrained(config, requested)
    try:
        yield requested
    finally:
        module.T5Tokenizer, module.T5Config = saved


TARGET_PACKAGE = "models."
"""The original checkout's package (src/inference/models): the only code a `_target_` may name."""


def instantiate(node):
    """A Hydra-like `_target_` builder: children first, then `Class(**other_keys)`; targets
    outside the original's `models.` package (e.g. `os.system`) are refused before any import."""
    if isinstance(node, list):
        return [instantiate(v) for v in node]
    if not isinstance(node, dict):
        return node
    kwargs = {k: instantiate(v) for k, v in node.items() if k != "_target_"}
    if "_target_" not in node:
        return kwargs
    module_name, _, attr = str(node["_target_"]).rpartition(".")
    if not module_name.startswith(TARGET_PACKAGE) or attr.startswith("_"):
        raise SystemExit(f"_target_ {node['_target_']!r} is outside the original checkout's "
                         f"'{TARGET_PACKAGE}' package: a config file may not name other code (docs/trust.md)")
    return getattr(importlib.import_module(module_name), attr)(**kwargs)


def derive_tta(orig: Path, commit: str, config_path: Path, t5: str, out: Path) -> None:
    _stub_tensorboard()
    root = orig / "src" / "inference"
    sys.path.insert(0, str(root))
    import models.content_encoder.text_encoder as text_encoder

    if not Path(text_encoder.__file__).resolve().is_relative_to(root.resolve()):
        raise SystemExit(f"imported {text_encoder.__file__}, not the checkout in {orig}")
    doc = json.loads(config_path.read_text())
    with _offline_t5(text_encoder, t5) as requested, torch.device("meta"):
        model = instantiate(doc["model_config"])
    keys = {"model." + k: list(v.shape) for k, v in model.state_dict().items()}
    write(out, f"zeyuxie29/SemanticVocoder@{commit} models/flow_matching.py "
          f"SingleTaskCrossAttentionAudioFlowMatching({config_path.name}) built from its "
          "model_config by a _target_ importer, all on meta (diffusers schedulers included); "
          f"T5Tokenizer/T5Config.from_pretrained({', '.join(sorted(set(requested)))}) patched "
          f"offline to adapterkit's tiny tokenizer / {t5} config; keys prefixed 'model.' "
          "(the HF wrapper's attribute)", keys, doc, extra={"t5": t5})


if __name__ == "__main__":
    if sys.argv[1] == "vocoder":
        derive_vocoder(Path(sys.argv[2]), sys.argv[3], Path(sys.argv[4]), Path(sys.argv[5]))
    elif sys.argv[1] == "dasheng":
        derive_dasheng(Path(sys.argv[2]), sys.argv[3], Path(sys.argv[4]))
    elif sys.argv[1] == "tta":
        derive_tta(Path(sys.argv[2]), sys.argv[3], Path(sys.argv[4]), sys.argv[5], Path(sys.argv[6]))
    else:
        raise SystemExit("usage: derive.py vocoder|dasheng|tta ...")
