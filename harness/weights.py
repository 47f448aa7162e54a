"""The weights directory: one documented layout under `$SABENCH_WEIGHTS` (or `--weights`).

Nothing is ever downloaded. Every real checkpoint, tokenizer or config file a backbone or a
system reads is listed here as a `WeightFile`; `require()` turns a missing file into a
one-line `WeightsError` naming the file, where it should be and where it is published, and
`check()` is what `sabench doctor` prints. `load_torch_checkpoint()` is the one place real
`.pt/.pth` files are unpickled: always `torch.load(weights_only=True)`.

sha256 values are pinned only where known for certain; the others are `None` ("not
pinned"): `check()` then reports presence and readability but cannot detect substitution.
See docs/weights.md for the layout as a tree.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import WeightsError
from harness.hashing import sha256_file


@dataclass(frozen=True)
class WeightFile:
    """One file of the weights directory."""

    backbone: str
    """Who reads it: a backbone or system name (e.g. "panns16k", "tangoflux")."""
    relpath: str
    """Path under the weights root, always with forward slashes."""
    sha256: str | None
    """Published sha256 if known for certain, else None (not pinned)."""
    size_hint: str
    """Approximate size, for humans ("≈ 330 MB")."""
    published_at: str
    """Where to get it (URL or hub repo + file)."""
    description: str
    alternatives: tuple[str, ...] = ()
    """Other relpaths the reader accepts instead (the first present one is checked)."""


_HF = "https://huggingface.co"
_ZENODO_PANNS = "https://zenodo.org/records/3987831"
_LAION = f"{_HF}/lukewys/laion_clap"


def _tok(backbone: str, repo: str, files: Iterable[str], folder: str, note: str) -> list[WeightFile]:
    return [WeightFile(backbone, f"{folder}/{f}", None, "< 2 MB", f"{_HF}/{repo} ({f})", note)
            for f in files]


WEIGHT_FILES: list[WeightFile] = [
    # --- PANNs Cnn14 (FD / IS / KL) -----------------------------------------------------------
    WeightFile("panns16k", "panns/Cnn14_16k_mAP=0.438.pth", None, "≈ 327 MB",
               f"{_ZENODO_PANNS} (Cnn14_16k_mAP=0.438.pth)", "Cnn14 16 kHz, {'model': state_dict}"),
    WeightFile("panns32k", "panns/Cnn14_mAP=0.431.pth", None, "≈ 327 MB",
               f"{_ZENODO_PANNS} (Cnn14_mAP=0.431.pth)", "Cnn14 32 kHz, {'model': state_dict}"),
    WeightFile("panns", "panns/class_labels_indices.csv", None, "≈ 15 KB",
               "http://storage.googleapis.com/us_audioset/youtube_corpus/v1/csv/class_labels_indices.csv",
               "AudioSet label names (index,mid,display_name); optional, used for logit names"),
    # --- LAION-CLAP --------------------------------------------------------------------------
    WeightFile("laion_clap", "laion_clap/630k-audioset-best.pt", None, "≈ 1.86 GB",
               f"{_LAION} (630k-audioset-best.pt)", "HTSAT-tiny, non-fusion"),
    WeightFile("laion_clap", "laion_clap/630k-audioset-fusion-best.pt", None, "≈ 1.86 GB",
               f"{_LAION} (630k-audioset-fusion-best.pt)", "HTSAT-tiny, fusion"),
    WeightFile("laion_clap", "laion_clap/music_speech_audioset_epoch_15_esc_89.98.pt", None,
               "≈ 2.3 GB", f"{_LAION} (music_speech_audioset_epoch_15_esc_89.98.pt)",
               "HTSAT-base, non-fusion"),
    *_tok("laion_clap", "FacebookAI/roberta-base", ("vocab.json", "merges.txt", "config.json"),
          "laion_clap/tokenizers/roberta-base",
          "RoBERTa tokenizer + model config (text tower is built from config.json)"),
    *_tok("laion_clap", "google-bert/bert-base-uncased", ("vocab.txt",),
          "laion_clap/tokenizers/bert-base-uncased", "read by `import laion_clap` (unused)"),
    *_tok("laion_clap", "facebook/bart-base", ("vocab.json", "merges.txt"),
          "laion_clap/tokenizers/facebook-bart-base", "read by `import laion_clap` (unused)"),
    # --- MS-CLAP 2023 ------------------------------------------------------------------------
    WeightFile("ms_clap", "ms_clap/CLAP_weights_2023.pth", None, "≈ 690 MB",
               f"{_HF}/microsoft/msclap (CLAP_weights_2023.pth); Zenodo record 8378278",
               "{'model': state_dict}"),
    *_tok("ms_clap", "openai-community/gpt2", ("config.json", "vocab.json", "merges.txt"),
          "ms_clap/gpt2", "GPT-2 tokenizer + model config (text tower built from config.json)"),
    # --- Audiobox Aesthetics -----------------------------------------------------------------
    WeightFile("aesthetics", "audiobox_aesthetics/checkpoint.pt", None, "≈ 416 MB",
               f"{_HF}/facebook/audiobox-aesthetics (checkpoint.pt)",
               "dict: state_dict (keys 'model.*'), model_cfg, target_transform"),
    # --- VGGish ------------------------------------------------------------------------------
    WeightFile("vggish", "vggish/vggish-10086976.pth", None, "≈ 277 MB",
               "https://github.com/harritaylor/torchvggish/releases/download/v0.1/vggish-10086976.pth",
               "torchvggish state dict (features.*, embeddings.*)"),
    # --- systems (read by systems/*; listed so `doctor` sees one layout) -----------------------
    *[WeightFile("flan-t5-large", f"flan-t5-large/{f}", None, s, f"{_HF}/google/flan-t5-large ({f})",
                 "T5 text encoder for TangoFlux / Resonate / SemanticAudio / SemanticVocoder")
      for f, s in (("config.json", "< 1 KB"), ("model.safetensors", "≈ 3.1 GB"),
                   ("spiece.model", "≈ 0.8 MB"), ("tokenizer.json", "≈ 2.4 MB"))],
    WeightFile("dacvae", "dacvae/weights.pth", None, "≈ 0.5 GB",
               f"{_HF}/facebook/dacvae-watermarked (weights.pth)", "DAC-VAE 48 kHz"),
    WeightFile("pe-a-frame-large", "pe-a-frame-large/config.json", None, "< 10 KB",
               f"{_HF}/facebook/pe-a-frame-large (branch perception_models)", "PE-A-Frame config"),
    WeightFile("pe-a-frame-large", "pe-a-frame-large/model.safetensors", None, "≈ 2 GB",
               f"{_HF}/facebook/pe-a-frame-large (branch perception_models)", "PE-A-Frame weights"),
    *[WeightFile("tangoflux", f"tangoflux/{f}", None, s, f"{_HF}/declare-lab/TangoFlux ({f})", d)
      for f, s, d in (("config.json", "< 1 KB", "TangoFlux config"),
                      ("tangoflux.safetensors", "≈ 2 GB", "transformer + text encoder"),
                      ("vae.safetensors", "≈ 0.6 GB", "AutoencoderOobleck"))],
    *[WeightFile("resonate", f"resonate/{f}", None, s, f"{_HF}/AndreasXi/Resonate ({f})", d)
      for f, s, d in (("Resonate_GRPO.pth", "≈ 1 GB", "FluxAudio state dict (final)"),
                      ("v1-44.pth", "≈ 0.5 GB", "MMAudio 44k mel-VAE"),
                      ("bigvgan_v2_44khz_128band_512x/config.json", "< 10 KB", "BigVGAN config"),
                      ("bigvgan_v2_44khz_128band_512x/bigvgan_generator.pt", "≈ 0.5 GB",
                       "BigVGAN generator"))],
    *[WeightFile("semanticvocoder", f"semanticvocoder/{f}", None, s, src, d, alt)
      for f, s, src, d, alt in (
          ("config.json", "< 10 KB", f"{_HF}/ZeyuXie/SemanticVocoderSnapshot (config.json)", "vocoder config", ()),
          ("semanticVocoder_epoch-270.pt", "≈ 0.3 GB", f"{_HF}/ZeyuXie/SemanticVocoderSnapshot",
           "vocoder generator", ()),
          ("dasheng_base.pt", "≈ 0.35 GB", "https://zenodo.org/records/11511780 (dasheng_base.pt)",
           "Dasheng-base semantic encoder", ("dasheng/dasheng_base.pt",)),
          ("tta/config.json", "< 10 KB", f"{_HF}/ZeyuXie/SemanticVocoder (config.json)",
           "text-to-audio config (model_config = the Hydra node)", ()),
          ("tta/model.safetensors", "≈ 4 GB (size unverified)", f"{_HF}/ZeyuXie/SemanticVocoder (model.safetensors)",
           "text-to-audio UDiT + flan-t5 encoder + vocoder",
           ("semanticvocoder/tta/model.safetensors.index.json", "semanticvocoder/tta/pytorch_model.bin")))],
]

STATUSES = ("present", "missing", "sha256-mismatch", "corrupt")


def weights_root(override: str | os.PathLike | None = None) -> Path | None:
    """`override`, else `$SABENCH_WEIGHTS` (defers to `harness.paths` when it exists)."""
    if override is not None:
        return Path(override)
    try:
        from harness.paths import weights_root as _paths_root
    except ImportError:
        env = os.environ.get("SABENCH_WEIGHTS")
        return Path(env) if env else None
    return _paths_root(None)


def find(backbone: str, relpath: str) -> WeightFile:
    """The record for (backbone, relpath).

    A file not listed but inside a listed folder (e.g. `flan-t5-large/tokenizer_config.json`)
    gets a record derived from that folder's entries (same source); anything else is a
    programming error (KeyError).
    """
    for wf in WEIGHT_FILES:
        if wf.relpath == relpath and wf.backbone == backbone:
            return wf
    folder = relpath.rsplit("/", 1)[0] if "/" in relpath else None
    for wf in WEIGHT_FILES:
        if folder and wf.relpath.startswith(folder + "/"):
            source = wf.published_at.split(" (")[0]
            return WeightFile(backbone, relpath, None, "?", source, f"file of {folder}/")
    raise KeyError(f"{backbone}:{relpath} is not in harness.weights.WEIGHT_FILES")


def require(backbone: str, relpath: str, weights_root: str | os.PathLike | None) -> Path:
    """The path of a weights file, or a `WeightsError` naming it and where it is published."""
    wf = find(backbone, relpath)
    if weights_root is None:
        raise WeightsError(relpath, f"{backbone} needs real weights but no weights directory is set",
                           f"set SABENCH_WEIGHTS or pass --weights; get it from {wf.published_at}")
    path = Path(weights_root) / relpath
    if not path.is_file():
        raise WeightsError(str(path), f"missing ({wf.description}, {wf.size_hint})",
                           f"download it from {wf.published_at} to {path}")
    return path


def _looks_corrupt(path: Path) -> bool:
    """Cheap readability check: torch zip checkpoints must open as zip archives."""
    if path.stat().st_size == 0:
        return True
    if path.suffix in (".pt", ".pth"):
        with open(path, "rb") as f:
            head = f.read(4)
        if head == b"PK\x03\x04":
            try:
                with zipfile.ZipFile(path) as z:
                    return z.testzip() is not None if path.stat().st_size < (64 << 20) else False
            except zipfile.BadZipFile:
                return True
    return False


def located(wf: WeightFile, weights_root: str | os.PathLike | None) -> Path | None:
    """The file's path under the root (its relpath, else the first present alternative), or None."""
    if weights_root is None:
        return None
    for rel in (wf.relpath, *wf.alternatives):
        if (Path(weights_root) / rel).is_file():
            return Path(weights_root) / rel
    return None


def check(weights_root: str | os.PathLike | None) -> list[tuple[WeightFile, str]]:
    """(record, status) for every listed file; status is one of `STATUSES`."""
    out: list[tuple[WeightFile, str]] = []
    for wf in WEIGHT_FILES:
        path = located(wf, weights_root)
        if path is None:
            out.append((wf, "missing"))
        elif _looks_corrupt(path):
            out.append((wf, "corrupt"))
        elif wf.sha256 is not None and sha256_file(path) != wf.sha256:
            out.append((wf, "sha256-mismatch"))
        else:
            out.append((wf, "present"))
    return out


def load_torch_checkpoint(path: Path, item: str, extra_safe_globals: Iterable[Any] = ()) -> Any:
    """`torch.load(path, weights_only=True)`; every failure becomes a clear `WeightsError`.

    Args:
        path: the checkpoint file.
        item: a short label for messages (e.g. "laion_clap 630k-audioset-best").
        extra_safe_globals: extra classes allowed by the weights-only unpickler (used by
            LAION-CLAP for the numpy scalar types its 630k checkpoints pickle).
    """
    import pickle

    import torch

    allowed = list(extra_safe_globals)
    try:
        if allowed:
            with torch.serialization.safe_globals(allowed):
                return torch.load(path, map_location="cpu", weights_only=True)
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WeightsError(str(path), f"{item}: not a weights-only checkpoint ({first[:200]})",
                           "use the published file; sabench never unpickles arbitrary objects") from None
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile) as exc:
        msg = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise WeightsError(str(path), f"{item}: unreadable checkpoint, truncated or corrupt ({msg})",
                           "re-download the file and check its size") from None


def load_into(module: Any, state_dict: dict, path: Path, item: str, strict: bool = True) -> None:
    """`module.load_state_dict` with shape/key mismatches turned into a `WeightsError`."""
    try:
        result = module.load_state_dict(state_dict, strict=strict)
    except RuntimeError as exc:
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
        detail = "; ".join(lines[1:3]) if len(lines) > 1 else lines[0] if lines else ""
        raise WeightsError(str(path), f"{item}: checkpoint does not match the model ({detail[:300]})",
                           "check that the file is the one this backbone expects (see docs/weights.md)") from None
    if not strict and result is not None and result.missing_keys:
        raise WeightsError(str(path), f"{item}: checkpoint lacks {len(result.missing_keys)} weights "
                           f"(e.g. {result.missing_keys[0]})", "use the published checkpoint")
