"""Offline guards for hub libraries: every patch sabench applies to a third-party package.

The metric packages reach the network at import or construction time (see
`reference/datasets.md` §5). Instead of letting them, each patch here is

- **scoped**: a context manager that restores the original attribute on exit, held under
  one process-wide lock (the patched attributes are class/module globals);
- **explicit**: it maps each hub name the package asks for to a local folder of the
  weights directory, and any other hub name raises `WeightsError` instead of downloading;
- **listed** here and nowhere else:

| package | what it asks for | what we do |
|---|---|---|
| panns_inference | `config.py` wgets a CSV at package import | `import_panns_models()` loads `models.py` under a private package name, so `__init__`/`config.py` never run |
| laion_clap | Bert/Roberta/BartTokenizer.from_pretrained(hub names) at import; `RobertaModel.from_pretrained('roberta-base')` and `RobertaTokenizer.from_pretrained('roberta-base')` at construction | `redirect_from_pretrained` to local tokenizer folders; `patched_attr` builds `RobertaModel` from a local config |
| msclap | `AutoModel.from_pretrained('gpt2')` at construction | `patched_attr` builds `GPT2Model` from a local config |
| audiobox_aesthetics | `initialize_predictor` downloads when a path is missing | never called: the model class is built directly |

`ensure_offline_env()` also sets `HF_HUB_OFFLINE=1` / `TRANSFORMERS_OFFLINE=1` for the
process (documented knob; a user's explicit setting is kept).
"""  # noqa: E501 - Markdown table rows cannot be wrapped

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import sys
import threading
import types
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from harness.errors import WeightsError

_LOCK = threading.RLock()
_PANNS_ALIAS = "_sabench_panns_inference"


def ensure_offline_env() -> None:
    """Make hub libraries refuse network access for the rest of the process."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    hub: Any = sys.modules.get("huggingface_hub.constants")  # a module: its constants are set below
    if hub is not None and os.environ.get("HF_HUB_OFFLINE") == "1":
        hub.HF_HUB_OFFLINE = True


@contextlib.contextmanager
def patched_attr(owner: Any, name: str, value: Any) -> Iterator[None]:
    """Temporarily set `owner.name = value` (module or class attribute); restored on exit."""
    with _LOCK:
        missing = object()
        old = owner.__dict__.get(name, missing) if hasattr(owner, "__dict__") else getattr(owner, name)
        setattr(owner, name, value)
        try:
            yield
        finally:
            if old is missing:
                delattr(owner, name)
            else:
                setattr(owner, name, old)


@contextlib.contextmanager
def redirect_from_pretrained(classes: Mapping[Any, Mapping[str, Path]]) -> Iterator[None]:
    """Within the block, `cls.from_pretrained(hub_name)` loads from a local folder.

    Args:
        classes: for each class (one with a `from_pretrained` classmethod), hub name -> local
            folder. Local paths passed directly are left alone; an unmapped hub name raises
            `WeightsError` (never a download).
    """
    with contextlib.ExitStack() as stack:
        for cls, mapping in classes.items():
            original = cls.__dict__.get("from_pretrained")
            func = original.__func__ if isinstance(original, classmethod) else cls.from_pretrained.__func__
            stack.enter_context(patched_attr(cls, "from_pretrained",
                                             classmethod(_redirecting(func, dict(mapping), cls.__name__))))
        ensure_offline_env()
        yield


def _redirecting(func: Callable, mapping: dict[str, Path], owner: str) -> Callable:
    def from_pretrained(cls, name, *args, **kwargs):
        key = str(name)
        if key in mapping:
            local = Path(mapping[key])
            if not local.is_dir():
                raise WeightsError(str(local), f"{owner}.from_pretrained({key!r}) needs this local folder",
                                   "see docs/weights.md for the files it must hold")
            kwargs["local_files_only"] = True
            return func(cls, str(local), *args, **kwargs)
        if Path(key).exists():
            kwargs["local_files_only"] = True
            return func(cls, key, *args, **kwargs)
        raise WeightsError(key, f"{owner}.from_pretrained asked for a hub download",
                           "sabench never downloads; add the files to the weights directory")
    return from_pretrained


def import_panns_models() -> types.ModuleType:
    """`panns_inference/models.py` without running the package `__init__` (which wgets a CSV).

    The package folder is registered under a private name, so relative imports inside
    `models.py` (`.pytorch_utils`) resolve, while `panns_inference` itself stays unimported.
    """
    with _LOCK:
        alias = sys.modules.get(_PANNS_ALIAS)
        if alias is None:
            spec = importlib.util.find_spec("panns_inference")
            if spec is None or not spec.submodule_search_locations:
                raise WeightsError("panns_inference", "package is not installed",
                                   "pip install panns_inference==0.1.1")
            alias = types.ModuleType(_PANNS_ALIAS)
            alias.__path__ = list(spec.submodule_search_locations)
            alias.__package__ = _PANNS_ALIAS
            sys.modules[_PANNS_ALIAS] = alias
        return importlib.import_module(f"{_PANNS_ALIAS}.models")


LAION_TOKENIZERS = {"bert-base-uncased": "bert-base-uncased", "roberta-base": "roberta-base",
                    "facebook/bart-base": "facebook-bart-base"}
"""Hub name -> folder name under `laion_clap/tokenizers/`."""


def laion_tokenizer_map(tokenizer_root: Path) -> dict[type, dict[str, Path]]:
    """The from_pretrained redirects `laion_clap` needs (import and construction)."""
    from harness.extras import require

    tf = require("transformers", extra="clap", item="backbone laion_clap")
    BartTokenizer, BertTokenizer, RobertaTokenizer = tf.BartTokenizer, tf.BertTokenizer, tf.RobertaTokenizer

    out: dict[type, dict[str, Path]] = {}
    # merged per class: in transformers 5, BartTokenizer *is* RobertaTokenizer
    for cls, hub in ((BertTokenizer, "bert-base-uncased"), (RobertaTokenizer, "roberta-base"),
                     (BartTokenizer, "facebook/bart-base")):
        out.setdefault(cls, {})[hub] = tokenizer_root / LAION_TOKENIZERS[hub]
    return out


def import_laion_clap(tokenizer_root: Path) -> types.ModuleType:
    """`import laion_clap` with its three module-level tokenizers read from local folders."""
    with _LOCK:
        if "laion_clap" in sys.modules:
            return sys.modules["laion_clap"]
        for hub, folder in LAION_TOKENIZERS.items():
            if not (tokenizer_root / folder).is_dir():
                raise WeightsError(str(tokenizer_root / folder),
                                   f"missing tokenizer folder for {hub!r} (read by `import laion_clap`)",
                                   "see docs/weights.md (laion_clap/tokenizers)")
        with redirect_from_pretrained(laion_tokenizer_map(tokenizer_root)):
            return importlib.import_module("laion_clap")
