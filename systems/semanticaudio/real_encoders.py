"""Real encoders read from one local weights directory (never the hub).

    <weights>/flan-t5-large/            T5 tokens (B, L, 1024) + mask       (T5EncoderModel)
    <weights>/laion_clap/...            CLAP text global (B, 512)          (backbone "laion_clap")
    <weights>/pe-a-frame-large/         PE-A-Frame frames (B, T, 1024) @ 25 fps  (transformers 5
                                        PeAudioFrameLevelModel, config.json + model.safetensors)
    <weights>/dacvae/weights.pth        DAC-VAE 48 kHz, 128-d @ 25 fps     (systems.semanticaudio.dacvae)

CLAP choice: the paper describes a 1024-d CLAP global embedding but lists LAION-CLAP among
its artifacts; we use LAION-CLAP `630k-audioset-best` text embeddings (512-d, L2-normalised)
through the harness backbone (the DiT's `global_dim` follows the data).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import torch

from harness.errors import WeightsError
from harness.hashing import sha256_json
from systems.semanticaudio.encoders import Encoders, SemanticEncoder, TextEncoder, TextFeatures

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class T5ClapText(TextEncoder):
    """T5 tokens for cross-attention + a global vector from any `embed_text` backbone."""

    def __init__(self, t5, clap, max_length: int = 512):
        self.t5, self.clap, self.max_length = t5, clap, max_length
        self.token_dim = int(t5.dim)
        self.global_dim = int(clap.embed_text(["probe"]).shape[-1])

    @torch.no_grad()
    def encode(self, texts: Sequence[str]) -> TextFeatures:
        tokens, mask = self.t5.encode(list(texts), padding="longest", max_length=self.max_length)  # (B, L, 1024)
        glob = torch.as_tensor(self.clap.embed_text(list(texts))).float()   # (B, 512)
        return TextFeatures(tokens.float(), mask.bool(), glob)


class PeFrames(SemanticEncoder):
    """PE-A-Frame audio frames: reflect-pad to a multiple of 1920, encode, audio head."""

    frame_rate = 25.0

    def __init__(self, model, hop: int = 1920, sample_rate: int = 48000):
        self.model, self.hop, self.sample_rate = model.eval(), hop, sample_rate
        self.dim = int(model.audio_head.proj.out_features)               # 1024 for every PE size

    @torch.no_grad()
    def encode(self, audio: torch.Tensor) -> torch.Tensor:
        n = audio.shape[-1]
        pad = (-n) % self.hop
        x = audio.float()[:, None]                                       # (B, 1, N) @ 48 kHz
        if pad:
            x = torch.nn.functional.pad(x, (0, pad), mode="reflect" if n > pad else "constant")
        mask = torch.ones(x.shape[0], x.shape[-1], dtype=torch.long)     # (B, N') all valid
        return self.model.get_audio_embeds(x, padding_mask=mask).float()  # (B, N' / hop, 1024)


def load_pe_frame(folder: Path) -> PeFrames:
    from harness.extras import require

    tf = require("transformers", extra="semanticaudio", item="semanticaudio PE-A-Frame encoder")
    if not hasattr(tf, "PeAudioFrameLevelModel"):
        raise WeightsError("transformers " + tf.__version__, "has no PeAudioFrameLevelModel (needs transformers 5)",
                           "pip install 'sabench[semanticaudio]' (transformers>=5; not together with [msclap])")
    PeAudioFrameLevelModel = tf.PeAudioFrameLevelModel

    if not (folder / "config.json").is_file():
        raise WeightsError(str(folder / "config.json"), "missing PE-A-Frame file",
                           f"download facebook/pe-a-frame-large (config.json, model.safetensors) into {folder}")
    model = PeAudioFrameLevelModel.from_pretrained(str(folder), local_files_only=True)
    hop = 1
    for r in model.config.audio_config.dac_config.downsampling_ratios:
        hop *= int(r)
    return PeFrames(model, hop=hop)


def real_encoders(root: str | None, clap_checkpoint: str = "630k-audioset-best") -> Encoders:
    """The paper's encoders from `<root>` (the weights directory)."""
    from harness.registry import BACKBONES, load_catalog
    from systems.adapterkit import files_sha256, local_t5
    from systems.semanticaudio.dacvae import load_dacvae

    if root is None:
        raise WeightsError("semanticaudio encoders", "no weights directory is set",
                           "pass --weights DIR or set SABENCH_WEIGHTS (or use profile=mini)")
    r = Path(root)
    load_catalog()
    clap = BACKBONES.get("laion_clap")(clap_checkpoint, weights=str(r))
    clap.load()
    text = T5ClapText(local_t5(r / "flan-t5-large", extra="semanticaudio"), clap)
    vae = load_dacvae(r / "dacvae" / "weights.pth")
    pe = load_pe_frame(r / "pe-a-frame-large")
    files = [r / "dacvae" / "weights.pth", r / "pe-a-frame-large" / "model.safetensors",
             r / "flan-t5-large" / "model.safetensors"]
    sha = sha256_json([files_sha256([f for f in files if f.is_file()]),
                       clap.info.checkpoint_sha256, clap_checkpoint])
    return Encoders(text, pe, vae, spec="systems.semanticaudio.real_encoders:real_encoders", sha256=sha)
