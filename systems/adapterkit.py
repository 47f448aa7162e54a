"""Shared plumbing for the third-party system adapters (TangoFlux, Resonate, SemanticVocoder).

- `require_file`: a weights file under the weights directory, or a `WeightsError` naming the
  file and where it is published.
- `check_state_dict`: strict key + shape comparison of a checkpoint against a module, with a
  one-line error listing the first few missing / unexpected / mismatched keys and their counts.
- `key_shapes` / `read_key_list`: name -> shape maps (the committed `keys/*.json` format).
- `TextEncoder`: a tokenizer + `T5EncoderModel` pair returning token states and masks;
  `local_t5` loads it from a local folder only (`local_files_only=True`, never the hub);
  `tiny_t5` builds a random one with an in-memory word-level tokenizer (tests, tiny profile).
- `files_sha256`: the combined sha256 of several checkpoint files (for `SystemInfo`).
- `to_native`: shape an input `Audio` to a system's native rate and channel count.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from harness.errors import AudioError, SabenchError, WeightsError
from harness.hashing import sha256_file, sha256_json
from harness.paths import weights_root
from harness.records import Audio
from harness.validate import Field, check_params

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

SHOW = 5
"""How many offending keys an error message names before giving the count."""


def require_file(rel: str, system: str, published: str, override: str | None = None) -> Path:
    """`<weights>/<rel>`; a `WeightsError` naming the file and its source when it is absent."""
    root = weights_root(override)
    if root is None:
        raise WeightsError(system, f"no weights directory is set (needs <weights>/{rel})",
                           "pass --weights DIR or set SABENCH_WEIGHTS")
    path = root / rel
    if not path.exists():
        raise WeightsError(str(path), f"missing file for {system}",
                           f"download it from {published} into {path.parent}")
    return path


PARAM_FIELDS = {"weights": Field("str", optional=True, nonempty=True), "tiny_seed": Field("int"),
                "device": Field("str", nonempty=True), "edit_n_max": Field("int", minimum=0),
                "edit_n_min": Field("int", minimum=0), "edit_n_avg": Field("int", minimum=1)}
"""Parameter types that do not follow from a default's type (others do: `field_for_default`)."""


def typed_params(system: str, params: Mapping[str, object], defaults: Mapping[str, object],
                 fields: Mapping[str, Field] | None = None) -> dict[str, object]:
    """Type-check a system's parameters (strictly: `steps=0`, `cfg=high`, `d=1.5` are refused
    with one line naming the parameter) and the FlowEdit step bounds; returns `params` checked."""
    out = check_params(system, params, defaults, {**PARAM_FIELDS, **(fields or {})})
    merged = {**defaults, **out}
    if "edit_steps" in merged:
        lo, hi, n = merged.get("edit_n_min", 0), merged.get("edit_n_max", 0), merged["edit_steps"]
        if not 0 <= lo <= hi <= n:
            raise SabenchError(f"system {system}", f"edit_n_min {lo} <= edit_n_max {hi} <= edit_steps {n} "
                               "does not hold", "pick FlowEdit bounds with 0 <= n_min <= n_max <= steps")
    return out


def checked_params(system: str, params: Mapping[str, object], defaults: Mapping[str, object],
                   extra: Sequence[str] = ("weights", "tiny_seed"),
                   variants: Sequence[str] = ("published", "tiny"),
                   fields: Mapping[str, Field] | None = None) -> dict[str, object]:
    """`defaults` overridden by `params`; unknown names and variants raise one clear error; a
    `device` is resolved ("auto" -> "cuda"/"cpu") and checked."""
    unknown = set(params) - set(defaults) - set(extra)
    if unknown:
        raise SabenchError(system, f"unknown parameters {sorted(unknown)}", f"use some of {sorted(defaults)}")
    merged = {**defaults, **typed_params(system, params, defaults, fields)}
    if merged.get("variant") not in variants:
        raise SabenchError(system, f"unknown variant {merged.get('variant')!r}",
                           "use 'published' (real weights) or 'tiny' (random, tests)")
    if "device" in merged:                      # recorded resolved: numerics differ by device
        from harness.devices import resolve_device

        merged["device"] = resolve_device(system, merged["device"])
    return merged


def safetensors_shapes(files: Sequence[Path]) -> dict[str, list[int]]:
    """Key -> shape from safetensors headers alone (no tensor is read)."""
    from safetensors import safe_open

    shapes: dict[str, list[int]] = {}
    for f in files:
        with safe_open(str(f), framework="pt") as h:
            shapes.update({k: list(h.get_slice(k).get_shape()) for k in h.keys()})
    return shapes


def key_shapes(state: Mapping[str, object]) -> dict[str, list[int]]:
    """name -> shape (list of ints) of a state dict (works for meta tensors)."""
    return {k: [int(s) for s in v.shape] for k, v in state.items()}


def read_key_list(path: Path) -> dict[str, list[int]]:
    """A committed key list: JSON {"source": ..., "keys": {name: shape}}."""
    return {k: list(v) for k, v in json.loads(Path(path).read_text())["keys"].items()}


def _first(names: Iterable[str]) -> str:
    names = sorted(names)
    more = f" ... (+{len(names) - SHOW} more)" if len(names) > SHOW else ""
    return ", ".join(names[:SHOW]) + more


def diff_keys(expected: Mapping[str, Sequence[int]], found: Mapping[str, Sequence[int]],
              allow_missing: Iterable[str] = ()) -> tuple[list[str], list[str], list[str]]:
    """(missing, unexpected, shape-mismatched) key names of `found` against `expected`."""
    allowed = set(allow_missing)
    missing = [k for k in expected if k not in found and k not in allowed]
    unexpected = [k for k in found if k not in expected]
    mismatched = [f"{k} {list(found[k])} != {list(expected[k])}" for k in expected
                  if k in found and list(found[k]) != list(expected[k])]
    return missing, unexpected, mismatched


def check_state_dict(expected: Mapping[str, Sequence[int]], found: Mapping[str, Sequence[int]],
                     item: str, allow_missing: Iterable[str] = ()) -> None:
    """Raise `WeightsError` unless `found` has exactly the keys and shapes of `expected`."""
    missing, unexpected, mismatched = diff_keys(expected, found, allow_missing)
    parts = []
    if missing:
        parts.append(f"{len(missing)} missing keys: {_first(missing)}")
    if unexpected:
        parts.append(f"{len(unexpected)} unexpected keys: {_first(unexpected)}")
    if mismatched:
        parts.append(f"{len(mismatched)} shape mismatches: {_first(mismatched)}")
    if parts:
        raise WeightsError(item, "checkpoint does not match the network; " + "; ".join(parts),
                           "use the published checkpoint file for this system (wrong or partial file?)")


def files_sha256(paths: Sequence[Path]) -> str:
    """Combined sha256 over several files (order-sensitive)."""
    return sha256_json([sha256_file(p) for p in paths])


class TextEncoder:
    """Tokenizer + T5 encoder; `encode` returns (states (B, L, D) float32, mask (B, L) bool)."""

    def __init__(self, tokenizer, model):
        self.tokenizer = tokenizer
        self.model = model.eval()

    @property
    def dim(self) -> int:
        return int(self.model.config.d_model)

    def encode(self, texts: Sequence[str], **tok_kwargs):
        import torch

        batch = self.tokenizer(list(texts), return_tensors="pt", truncation=True, **tok_kwargs)
        dev = next(self.model.parameters()).device
        ids, mask = batch.input_ids.to(dev), batch.attention_mask.to(dev)
        with torch.no_grad():
            states = self.model(input_ids=ids, attention_mask=mask)[0]  # (B, L, D)
        return states.float(), mask.bool()


def _transformers(extra: str):
    from harness.extras import require

    return require("transformers", extra=extra, item="T5 text encoder")


def local_t5(folder: Path, extra: str = "all") -> TextEncoder:
    """flan-t5-large from a local folder (config, weights, tokenizer files); never the hub.
    `extra`: the system's extra, named when transformers is missing."""
    tf = _transformers(extra)
    AutoTokenizer, T5EncoderModel = tf.AutoTokenizer, tf.T5EncoderModel

    for name in ("config.json",):
        if not (folder / name).exists():
            raise WeightsError(str(folder / name), "missing flan-t5-large file",
                               "download google/flan-t5-large (*.json, *.safetensors, *.model) "
                               f"from huggingface.co into {folder}")
    tok = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    model = T5EncoderModel.from_pretrained(str(folder), local_files_only=True)
    return TextEncoder(tok, model)


TINY_WORDS = ("a dog barks loudly while rain falls on the roof and a siren wails in the "
              "distance man speaking woman bell rings engine runs quiet high low fast slow").split()


def tiny_tokenizer(model_max_length: int = 512):
    """An in-memory word-level tokenizer with T5's special-token layout (pad 0, eos 1, unk 2)."""
    PreTrainedTokenizerFast = _transformers("all").PreTrainedTokenizerFast
    from tokenizers import Tokenizer, models, pre_tokenizers, processors  # installed with transformers

    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2}
    for w in TINY_WORDS:
        vocab.setdefault(w, len(vocab))
    tk = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tk.pre_tokenizer = pre_tokenizers.Whitespace()
    tk.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    return PreTrainedTokenizerFast(tokenizer_object=tk, pad_token="<pad>", eos_token="</s>",
                                   unk_token="<unk>", model_max_length=model_max_length)


def tiny_t5_config(d_model: int = 32):
    return _transformers("all").T5Config(vocab_size=64, d_model=d_model, d_kv=8, d_ff=2 * d_model, num_layers=1,
                    num_heads=d_model // 8, feed_forward_proj="gated-gelu",
                    is_encoder_decoder=False, use_cache=False)


def tiny_t5(d_model: int = 32, seed: int = 0) -> TextEncoder:
    """A random T5 encoder (d_model small) with `tiny_tokenizer`: same calls as the real one."""
    T5EncoderModel = _transformers("all").T5EncoderModel
    with seeded_construction(seed):
        model = T5EncoderModel(tiny_t5_config(d_model))
    return TextEncoder(tiny_tokenizer(), model)


class seeded_construction:
    """Context: module construction draws its random init from `seed`; the caller's global
    torch RNG state is restored on exit (so no code outside sees a changed global RNG)."""

    def __init__(self, seed: int):
        self.seed = int(seed)

    def __enter__(self):
        import torch

        self._fork = torch.random.fork_rng(devices=[])
        self._fork.__enter__()
        torch.manual_seed(self.seed)
        return self

    def __exit__(self, *exc):
        return self._fork.__exit__(*exc)


def flan_t5_large_config():
    """google/flan-t5-large's encoder config (values from its published config.json)."""
    return _transformers("all").T5Config(vocab_size=32128, d_model=1024, d_kv=64, d_ff=2816, num_layers=24,
                    num_heads=16, relative_attention_num_buckets=32,
                    relative_attention_max_distance=128, feed_forward_proj="gated-gelu",
                    tie_word_embeddings=False, is_encoder_decoder=False, use_cache=False)


def to_native(audio: Audio, sample_rate: int, channels: int, item: str) -> np.ndarray:
    """(C, T) float32 at the system's rate and channel count (mono<->stereo by copy/mean)."""
    x = np.asarray(audio.samples, dtype=np.float32)
    if x.ndim != 2 or x.shape[1] == 0:
        raise AudioError(item, f"expected non-empty (C, T) audio, got shape {x.shape}",
                         "pass a decoded clip with at least one sample")
    if not np.isfinite(x).all():
        raise AudioError(item, "audio contains NaN/Inf", "clean the source file")
    if audio.sample_rate != sample_rate:
        try:
            from harness.audio import resample
        except ImportError as exc:
            raise AudioError(item, f"audio is {audio.sample_rate} Hz, system needs {sample_rate} Hz",
                             "resample it first (harness.audio.resample)") from exc
        x = np.asarray(resample(x, audio.sample_rate, sample_rate), dtype=np.float32)
    if x.shape[0] == channels:
        return x
    if channels == 1:
        return x.mean(axis=0, keepdims=True)
    if x.shape[0] == 1:
        return np.repeat(x, channels, axis=0)
    raise AudioError(item, f"{x.shape[0]} channels cannot be mapped to {channels}",
                     f"pass mono or {channels}-channel audio")
