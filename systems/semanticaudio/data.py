"""Training data: pre-computed latents and text embeddings, cached once as safetensors shards.

`precompute(pairs, encoders, out_dir)` runs the frozen encoders once over (audio, caption)
pairs (audio (N,) float32 mono at the encoders' rate, padded/cut to a fixed length) and
writes `shard-00000.safetensors`, ... with:

    acoustic (n, T, C)   VAE posterior means
    semantic (n, T, E)   semantic-encoder frames (absent when encoders.semantic is None)
    tokens   (n, L, Dt)  text tokens;  mask (n, L) uint8;  glob (n, Dg)

`CachedData` holds the same tensors in memory (all shards concatenated, tokens padded to
the longest), and is what the trainer consumes; build it directly from tensors in tests
and in the mini world.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from harness.errors import SabenchError
from systems.semanticaudio.encoders import Encoders
from systems.semanticaudio.flow import Cond


@dataclass
class CachedData:
    acoustic: torch.Tensor
    """(N, T, C) acoustic latents."""
    tokens: torch.Tensor
    """(N, L, Dt)."""
    mask: torch.Tensor
    """(N, L) bool."""
    glob: torch.Tensor
    """(N, Dg)."""
    semantic: torch.Tensor | None = None
    """(N, T, E) raw semantic frames."""

    def __len__(self) -> int:
        return int(self.acoustic.shape[0])

    def __post_init__(self) -> None:
        n, T = self.acoustic.shape[:2]
        ok = self.tokens.shape[0] == n and self.mask.shape == self.tokens.shape[:2] and self.glob.shape[0] == n
        if self.semantic is not None:
            ok = ok and tuple(self.semantic.shape[:2]) == (n, T)
        if not ok:
            raise SabenchError("training data", "tensor shapes disagree: " + self.describe(),
                               "acoustic (N,T,C), semantic (N,T,E), tokens (N,L,Dt), mask (N,L), glob (N,Dg)")
        self.mask = self.mask.bool()

    def describe(self) -> str:
        s = None if self.semantic is None else tuple(self.semantic.shape)
        return (f"acoustic {tuple(self.acoustic.shape)}, semantic {s}, tokens {tuple(self.tokens.shape)}, "
                f"mask {tuple(self.mask.shape)}, glob {tuple(self.glob.shape)}")

    def cond(self, idx: torch.Tensor, device) -> Cond:
        sem = None if self.semantic is None else self.semantic[idx].to(device)
        return Cond(self.tokens[idx].to(device), self.mask[idx].to(device), self.glob[idx].to(device), sem)


def _pad_to(x: torch.Tensor, length: int) -> torch.Tensor:
    """Pad dim 1 with zeros to `length`."""
    pad = [0, 0] * (x.dim() - 2) + [0, length - x.shape[1]]
    return torch.nn.functional.pad(x, pad)


@torch.no_grad()
def encode_batch(audio: torch.Tensor, captions: Sequence[str], enc: Encoders) -> dict[str, torch.Tensor]:
    """audio (B, N) @ enc.vae.sample_rate -> one shard's tensors."""
    tf = enc.text.encode(list(captions))
    out = {"acoustic": enc.vae.encode(audio).float().cpu(), "tokens": tf.tokens.float().cpu(),
           "mask": tf.mask.to(torch.uint8).cpu(), "glob": tf.glob.float().cpu()}
    if enc.semantic is not None:
        sem = enc.semantic.encode(audio).float().cpu()                 # (B, T', E)
        T = out["acoustic"].shape[1]
        if abs(sem.shape[1] - T) > 1:
            raise SabenchError("semantic encoder", f"{sem.shape[1]} frames vs {T} acoustic frames",
                               "use encoders with the same frame rate (25 fps)")
        out["semantic"] = _pad_to(sem[:, :T], T)                       # (B, T, E) frame-aligned
    return out


def precompute(pairs: Iterable[tuple[np.ndarray, str]], enc: Encoders, out_dir: str | Path,
               seconds: float, batch: int = 8, shard_size: int = 256) -> list[Path]:
    """Encode (audio, caption) pairs once; audio is cut/zero-padded to `seconds`."""
    out, n_samples = Path(out_dir), int(round(seconds * enc.vae.sample_rate))
    out.mkdir(parents=True, exist_ok=True)
    shards, buf, pending = [], [], []

    def flush_batch():
        audio = torch.stack([torch.from_numpy(np.asarray(a, np.float32)) for a, _ in pending])  # (B, N)
        buf.append(encode_batch(audio, [c for _, c in pending], enc))
        pending.clear()

    def flush_shard():
        L = max(b["tokens"].shape[1] for b in buf)
        merged = {k: torch.cat([_pad_to(b[k], L) if k in ("tokens", "mask") else b[k] for b in buf]).contiguous()
                  for k in buf[0]}
        path = out / f"shard-{len(shards):05d}.safetensors"
        save_file(merged, str(path))
        shards.append(path)
        buf.clear()

    for audio, caption in pairs:
        a = np.zeros(n_samples, np.float32)
        a[: min(len(audio), n_samples)] = np.asarray(audio, np.float32)[:n_samples]
        pending.append((a, caption))
        if len(pending) == batch:
            flush_batch()
        if sum(b["acoustic"].shape[0] for b in buf) >= shard_size:
            flush_shard()
    if pending:
        flush_batch()
    if buf:
        flush_shard()
    return shards


def load_shards(data_dir: str | Path) -> CachedData:
    paths = sorted(Path(data_dir).glob("shard-*.safetensors"))
    if not paths:
        raise SabenchError(str(data_dir), "no shard-*.safetensors files", "run precompute first")
    parts = [load_file(str(p)) for p in paths]
    L = max(p["tokens"].shape[1] for p in parts)
    cat = lambda k: torch.cat([_pad_to(p[k], L) if k in ("tokens", "mask") else p[k] for p in parts])  # noqa: E731
    sem = cat("semantic") if "semantic" in parts[0] else None
    return CachedData(cat("acoustic"), cat("tokens"), cat("mask").bool(), cat("glob"), sem)


# ----------------------------------------------------------------------------- CLI

def iter_manifest(manifest: str | Path, sample_rate: int, seconds: float):
    """(audio (N,) float32 mono @ sample_rate, caption) from a JSONL manifest of
    {"audio": path relative to the manifest, "caption": text} rows."""
    import json

    from harness.audio import load
    from harness.paths import resolve_under
    from harness.records import AudioRecipe

    m = Path(manifest)
    recipe = AudioRecipe(sample_rate=sample_rate, mono="mean", length="crop", max_seconds=seconds)
    for n, line in enumerate(m.read_text().splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        if "audio" not in row or "caption" not in row:
            raise SabenchError(f"{m}:{n}", "row needs 'audio' and 'caption'", 'write {"audio": ..., "caption": ...}')
        yield load(resolve_under(m.parent, row["audio"], f"{m}:{n}"), recipe), str(row["caption"])


def main(argv=None) -> None:
    import argparse

    from systems.semanticaudio.encoders import load_encoders

    ap = argparse.ArgumentParser(prog="python -m systems.semanticaudio.data",
                                 description="Encode (audio, caption) pairs once into safetensors shards.")
    ap.add_argument("--manifest", required=True, help='JSONL: {"audio": path, "caption": text} per line')
    ap.add_argument("--out", required=True)
    ap.add_argument("--encoders", default="systems.semanticaudio.real_encoders:real_encoders")
    ap.add_argument("--weights", default=None)
    ap.add_argument("--seconds", type=float, default=10.0, help="clip length (paper: 10 s, pad or cut)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--shard-size", type=int, default=256)
    a = ap.parse_args(argv)
    from harness.paths import weights_root

    root = weights_root(a.weights)
    enc = load_encoders(a.encoders, None if root is None else str(root), item="--encoders", allow_code=True)
    paths = precompute(iter_manifest(a.manifest, enc.vae.sample_rate, a.seconds), enc, a.out, a.seconds,
                       a.batch, a.shard_size)
    print(f"wrote {len(paths)} shards to {a.out}")


if __name__ == "__main__":
    main()
