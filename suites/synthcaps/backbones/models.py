"""The mini backbone networks (tiny 1-D convnets on log-mels; all CPU-friendly).

| model            | stands in for        | input          | main outputs                         |
|------------------|----------------------|----------------|--------------------------------------|
| `Classifier`     | PANNs Cnn14          | 16 kHz wave    | embedding (B, 128), logits (B, 14)   |
| `Clap`           | LAION/MS-CLAP        | wave / caption | L2-normalised (B, 128) both towers   |
| `SemanticEncoder`| PE-A-Frame           | 16 kHz wave    | frames (B, T25, 64) @ 25 fps         |
| `AcousticVAE`    | DAC-VAE              | 16 kHz wave    | latents (B, T25, 32) @ 25 Hz, decode |
| `QualityNet`     | Audiobox Aesthetics  | 16 kHz wave    | quality (B,) in [0, 1]               |
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from suites.synthcaps.backbones.features import N_MELS, LogMel, Spec
from suites.synthcaps.captions import tokenize, vocabulary


class Block(nn.Module):
    """Residual dilated conv block: x + conv(gelu(conv(x)))."""

    def __init__(self, ch: int, dilation: int):
        super().__init__()
        self.a = nn.Conv1d(ch, ch, 3, padding=dilation, dilation=dilation)
        self.b = nn.Conv1d(ch, ch, 1)
        self.norm = nn.GroupNorm(1, ch)

    def forward(self, x):
        return x + self.b(F.gelu(self.a(self.norm(x))))


class MelFront(nn.Module):
    """wave (B, T) @ 16 kHz -> (B, C, T // 640) features @ 25 fps.

    A 3-D input is taken as a precomputed `LogMel` output (B, 64, T // 160); training uses
    this to compute the (parameter-free) mel front end once per clip.
    """

    stats: torch.Tensor  # buffer (2,) mel mean, std

    def __init__(self, ch: int, blocks: int = 3, mel_mean: float = -6.0, mel_std: float = 4.0):
        super().__init__()
        self.mel = LogMel()
        self.register_buffer("stats", torch.tensor([mel_mean, mel_std]))
        self.inp = nn.Conv1d(N_MELS, ch, 5, padding=2)
        self.pre = nn.Sequential(*[Block(ch, 2 ** i) for i in range(blocks)])
        self.post = nn.Sequential(*[Block(ch, 2 ** i) for i in range(2)])

    def forward(self, wave):
        m = wave if wave.dim() == 3 else self.mel(wave)                # (B, 64, T/160)
        m = (m - self.stats[0]) / self.stats[1]
        x = self.pre(F.gelu(self.inp(m)))                              # (B, C, T/160) @ 100 fps
        x = F.avg_pool1d(x, 4)                                         # (B, C, T/640) @ 25 fps
        return self.post(x)


def pool(x: torch.Tensor) -> torch.Tensor:
    """(B, C, T) -> (B, 2C): mean and max over time."""
    return torch.cat([x.mean(-1), x.amax(-1)], dim=1)


class Classifier(nn.Module):
    def __init__(self, n_classes: int, ch: int = 96, dim: int = 128, **stats):
        super().__init__()
        self.front = MelFront(ch, **stats)
        self.emb = nn.Linear(2 * ch, dim)
        self.head = nn.Linear(dim, n_classes)

    def forward(self, wave):
        e = self.emb(pool(self.front(wave)))                           # (B, 128)
        return e, self.head(F.relu(e))                                 # (B, 128), (B, 14)


class TextEncoder(nn.Module):
    """Word ids (B, L) (0 = pad, padding at the end) -> (B, dim) via a bidirectional GRU,
    mean + last states.

    The GRU runs over a packed sequence: each caption is read over its own words only, so
    the backward direction starts at the caption's last word (not at the batch's padding)
    and the final states are those of the last real word. A caption's embedding is thus the
    same alone or padded in any batch (up to float rounding).
    """

    def __init__(self, vocab: int, dim: int = 128, width: int = 96):
        super().__init__()
        self.emb = nn.Embedding(vocab, 64, padding_idx=0)
        self.gru = nn.GRU(64, width, batch_first=True, bidirectional=True)
        self.out = nn.Linear(4 * width, dim)

    def states(self, ids):
        """ids (B, L) -> token states (B, L, 2W) (zero at padding), final states (B, 2W),
        mask (B, L) bool. Words after the first pad are ignored (ids are end-padded)."""
        from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

        lengths = (ids > 0).long().cumprod(1).sum(1).clamp_min(1)      # (B,) real words
        mask = torch.arange(ids.shape[1], device=ids.device)[None] < lengths[:, None]  # (B, L)
        packed = pack_padded_sequence(self.emb(ids), lengths.cpu(), batch_first=True,
                                      enforce_sorted=False)
        h, last = self.gru(packed)                                     # last: (2, B, W)
        h, _ = pad_packed_sequence(h, batch_first=True, total_length=ids.shape[1])  # (B, L, 2W)
        return h, last.transpose(0, 1).flatten(1), mask

    def forward(self, ids):
        h, last, mask = self.states(ids)                               # (B, L, 2W), (B, 2W)
        m = mask.float().unsqueeze(-1)                                 # (B, L, 1)
        mean = (h * m).sum(1) / m.sum(1).clamp_min(1.0)
        return self.out(torch.cat([mean, last], dim=1))


class AudioSeqEncoder(nn.Module):
    """wave -> (B, dim): conv front, then a bidirectional GRU so temporal order is kept."""

    def __init__(self, ch: int = 64, dim: int = 128, width: int = 96, **stats):
        super().__init__()
        self.front = MelFront(ch, **stats)
        self.gru = nn.GRU(ch, width, batch_first=True, bidirectional=True)
        self.out = nn.Linear(4 * width + 2 * ch, dim)

    def forward(self, wave):
        x = self.front(wave)                                           # (B, C, T25)
        h, last = self.gru(x.transpose(1, 2))                          # (B, T25, 2W)
        return self.out(torch.cat([h.mean(1), last.transpose(0, 1).flatten(1), pool(x)], 1))


class Clap(nn.Module):
    def __init__(self, vocab: int, dim: int = 128, **stats):
        super().__init__()
        self.audio = AudioSeqEncoder(dim=dim, **stats)
        self.text = TextEncoder(vocab, dim)
        self.logit_scale = nn.Parameter(torch.tensor(2.7))

    def embed_audio(self, wave):
        return F.normalize(self.audio(wave), dim=-1)                   # (B, 128) unit norm

    def embed_text(self, ids):
        return F.normalize(self.text(ids), dim=-1)                     # (B, 128) unit norm


class SemanticEncoder(nn.Module):
    """Frame-level semantic features @ 25 fps, trained with frame labels + text contrast."""

    def __init__(self, n_classes: int, vocab: int, ch: int = 112, d_sem: int = 64,
                 dim: int = 128, **stats):
        super().__init__()
        self.front = MelFront(ch, **stats)
        self.proj = nn.Conv1d(ch, d_sem, 1)
        self.frame_head = nn.Conv1d(d_sem, n_classes, 3, padding=1)
        self.clip = nn.Linear(2 * d_sem, dim)
        self.text = TextEncoder(vocab, dim)

    def frames(self, wave):
        return self.proj(self.front(wave))                             # (B, 64, T25)

    def forward(self, wave):
        f = self.frames(wave)
        return f, self.frame_head(f), F.normalize(self.clip(pool(f)), dim=-1)


class AcousticVAE(nn.Module):
    """Compressed-STFT VAE: 16 kHz wave <-> latents (B, C=32, T/640) @ 25 Hz."""

    def __init__(self, latent: int = 32, hidden: int = 160, n_fft: int = 640):
        super().__init__()
        self.spec = Spec(n_fft)
        bins = 2 * (n_fft // 2 + 1)
        self.enc = nn.Sequential(
            nn.Conv1d(bins, hidden, 1), nn.GELU(), nn.Conv1d(hidden, hidden, 4, stride=4),
            nn.GELU(), nn.Conv1d(hidden, hidden, 3, padding=1), nn.GELU(),
            nn.Conv1d(hidden, 2 * latent, 1))
        self.dec = nn.Sequential(
            nn.Conv1d(latent, hidden, 3, padding=1), nn.GELU(),
            nn.ConvTranspose1d(hidden, hidden, 4, stride=4), nn.GELU(),
            nn.Conv1d(hidden, hidden, 3, padding=1), nn.GELU(), nn.Conv1d(hidden, bins, 1))

    def encode(self, wave):
        """(B, T) -> mean, logvar, each (B, C, T // 640)."""
        n = wave.shape[-1] // 640 * 640
        mu, logvar = self.enc(self.spec(wave[..., :n])).chunk(2, dim=1)
        return mu, logvar.clamp(-12, 6)

    def decode(self, z, length: int | None = None):
        """(B, C, T25) -> (B, T25 * 640) waveform @ 16 kHz."""
        length = length or z.shape[-1] * 640
        return self.spec.inverse(self.dec(z), length)


class QualityNet(nn.Module):
    def __init__(self, ch: int = 64, **stats):
        super().__init__()
        self.front = MelFront(ch, blocks=2, **stats)
        self.head = nn.Sequential(nn.Linear(2 * ch, 64), nn.GELU(), nn.Linear(64, 1))

    def forward(self, wave):
        return torch.sigmoid(self.head(pool(self.front(wave)))).squeeze(-1)   # (B,) in [0, 1]


def encode_texts(texts: list[str], length: int | None = None) -> torch.Tensor:
    """(B, L) word ids over `vocabulary()` (unknown words -> 1)."""
    vocab = {w: i for i, w in enumerate(vocabulary())}
    toks = [[vocab.get(w, 1) for w in tokenize(t)] or [1] for t in texts]
    n = length or max(len(t) for t in toks)
    out = torch.zeros(len(toks), n, dtype=torch.long)
    for i, t in enumerate(toks):
        out[i, : min(len(t), n)] = torch.tensor(t[:n])
    return out
