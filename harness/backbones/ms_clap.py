"""MS-CLAP 2023 (msclap 1.3.4): 1024-d audio and text embeddings (TTA-Bench CLAP).

Built from msclap's own model classes (`msclap.models.clap.CLAP`) with the package's
`configs/config_2023.yml` values, not through `CLAPWrapper` (which downloads the checkpoint,
reads audio from files only, crops at random, and calls `tokenizer.encode_plus`, removed in
transformers 5). The GPT-2 text tower is built from `ms_clap/gpt2/config.json`
(`AutoModel.from_pretrained('gpt2')` is patched, scoped, in `harness.backbones.offline`
style) and then overwritten by the checkpoint; the tokenizer is read from the same folder,
with the package's pad token `'!'`.

msclap declares `transformers<5`; the installed transformers is 5.x. `tests/backbones`
constructs and runs these classes under it (the classes only use `GPT2Model` forward and
`AutoModel`; the wrapper's `encode_plus` is the one incompatibility, avoided here).

Conventions (recorded in `info.version`):
- audio: the recipe down-mixes (channel mean) and resamples to 44.1 kHz **before** the model
  (msclap itself would concatenate stereo channels); clips shorter than 7 s are tiled and cut
  (the package's rule); longer clips use the **first 7 s** (the package crops at random);
- text: `text + ' <|endoftext|>'`, padded to 77 with `'!'`, truncated at 77 tokens (the
  package does not truncate and fails on longer prompts); pooled at the last non-pad token;
- embeddings are **not** normalised; TTA-Bench uses the plain cosine of the two.
Checkpoint: `{"model": state_dict}`, `torch.load(weights_only=True)`, `strict=False` as in
the package, but any missing model weight is an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from harness.backbones.base import Backbone
from harness.backbones.common import check_batch, combined_sha256, make_info
from harness.errors import WeightsError
from harness.records import AudioRecipe, BackboneInfo
from harness.weights import load_into, load_torch_checkpoint, require, weights_root

SAMPLE_RATE = 44100
DURATION_S = 7
CLIP = SAMPLE_RATE * DURATION_S  # 308,700 samples
TEXT_LEN = 77
CKPT = "ms_clap/CLAP_weights_2023.pth"
GPT2_DIR = "ms_clap/gpt2"


def fit_7s(x: np.ndarray) -> np.ndarray:
    """(T,) -> (CLIP,): tile-and-cut when short (msclap's rule), first 7 s when long."""
    if len(x) >= CLIP:
        return x[:CLIP]
    reps = int(np.ceil(CLIP / len(x)))
    return np.tile(x, reps)[:CLIP]


def package_config() -> dict:
    """msclap's `config_2023.yml` (read from the installed package, not copied)."""
    import importlib.util

    import yaml

    spec = importlib.util.find_spec("msclap")
    if spec is None or not spec.submodule_search_locations:
        raise WeightsError("msclap", "package is not installed", "pip install msclap==1.3.4")
    path = Path(list(spec.submodule_search_locations)[0]) / "configs" / "config_2023.yml"
    return yaml.safe_load(path.read_text())


class MsClap(Backbone):
    name = "ms_clap"
    outputs = ("embedding",)
    batch_size = 8

    def __init__(self, weights: str | Path | None = None, recipe: AudioRecipe | None = None,
                 device: str = "cpu"):
        self._weights = weights
        self._recipe = recipe or AudioRecipe(sample_rate=SAMPLE_RATE, mono="mean", length="full")
        self.device = device
        self._model: Any = None  # msclap model (untyped), built by load()
        self._tokenizer: Any = None  # GPT-2 tokenizer, built by load()
        self._sha: str | None = None

    @property
    def info(self) -> BackboneInfo:
        return make_info(self.name, self._sha, self._recipe,
                         version="msclap-1.3.4;2023;crop=first_7s;text_trunc=77", device=self.device)

    def load(self) -> None:
        if self._model is not None:
            return
        root = weights_root(self._weights)
        ckpt_path = require(self.name, CKPT, root)
        files = [require(self.name, f"{GPT2_DIR}/{f}", root) for f in ("config.json", "vocab.json", "merges.txt")]
        ckpt = load_torch_checkpoint(ckpt_path, "ms_clap 2023")
        if not isinstance(ckpt, dict) or not isinstance(ckpt.get("model"), dict):
            raise WeightsError(str(ckpt_path), "ms_clap: expected a dict with key 'model'",
                               "use CLAP_weights_2023.pth")
        gpt2_dir = files[0].parent  # <weights>/GPT2_DIR, checked by require()
        model = build_model(gpt2_dir)
        load_into(model, ckpt["model"], ckpt_path, "ms_clap 2023", strict=False)
        self._model = model.eval().to(self.device)
        self._tokenizer = load_tokenizer(gpt2_dir)
        self._sha = combined_sha256([ckpt_path, *files])

    def embed(self, batch: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
        import torch

        self.load()
        clips = check_batch(batch, self.name)
        x = torch.from_numpy(np.stack([fit_7s(c) for c in clips])).to(self.device)  # (B, 308700) @ 44.1 kHz
        with torch.inference_mode():
            emb, _ = self._model.audio_encoder(x)  # (B, 1024), not normalised
        return {"embedding": emb.float().cpu().numpy()}

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        self.load()
        tok = self._tokenizer([t + " <|endoftext|>" for t in texts], max_length=TEXT_LEN,
                              padding="max_length", truncation=True, return_tensors="pt")
        inputs = {"input_ids": tok["input_ids"].to(self.device),
                  "attention_mask": tok["attention_mask"].to(self.device)}  # (B, 77) each
        with torch.inference_mode():
            emb = self._model.caption_encoder(inputs)  # (B, 1024), not normalised
        return emb.float().cpu().numpy()


def load_tokenizer(folder: Path):
    from harness.extras import require as require_extra

    GPT2Tokenizer = require_extra("transformers", extra="msclap", item="backbone ms_clap").GPT2Tokenizer

    tok = GPT2Tokenizer.from_pretrained(str(folder), local_files_only=True)
    tok.add_special_tokens({"pad_token": "!"})
    return tok


def build_model(gpt2_dir: Path):
    """msclap's CLAP(...) for the 2023 config, GPT-2 built from the local config.json."""
    import types

    from harness.backbones.offline import ensure_offline_env, patched_attr
    from harness.extras import require as require_extra

    tf = require_extra("transformers", extra="msclap", item="backbone ms_clap")
    GPT2Config, GPT2Model = tf.GPT2Config, tf.GPT2Model
    ensure_offline_env()
    clap_mod = require_extra("msclap.models.clap", extra="msclap", item="backbone ms_clap")

    config = GPT2Config.from_json_file(str(gpt2_dir / "config.json"))

    def from_pretrained(name, *args, **kwargs):
        if name != "gpt2":
            raise WeightsError(name, "msclap asked for an unexpected text model", "only gpt2 (2023) is supported")
        return GPT2Model(config)

    a = package_config()
    with patched_attr(clap_mod, "AutoModel", types.SimpleNamespace(from_pretrained=from_pretrained)):
        return clap_mod.CLAP(audioenc_name=a["audioenc_name"], sample_rate=a["sampling_rate"],
                             window_size=a["window_size"], hop_size=a["hop_size"], mel_bins=a["mel_bins"],
                             fmin=a["fmin"], fmax=a["fmax"], classes_num=a["num_classes"], out_emb=a["out_emb"],
                             text_model=a["text_model"], transformer_embed_dim=a["transformer_embed_dim"],
                             d_proj=a["d_proj"])
