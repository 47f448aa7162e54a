"""VGGish (FAD backbone): 128-d pre-activation embeddings of 0.96 s frames at 16 kHz.

No torchvggish package is used (it loads through `torch.hub`). The architecture is written
here from the published description (Hershey et al. 2017): a VGG-like conv stack on
(96 frames × 64 mel) log-mel patches, then three fully connected layers. `postprocess`
(PCA + 8-bit quantisation) is off and the final ReLU is removed, as in audioldm_eval,
av-benchmark, fadtk and gudgud96 (reference/metrics.md §5).

Checkpoint: the `harritaylor/torchvggish` release file `vggish-10086976.pth`, a plain state
dict with keys

    features.{0,3,6,8,11,13}.{weight,bias}   conv 1→64→128→256→256→512→512, 3×3, pad 1
    embeddings.{0,2,4}.{weight,bias}          Linear 12288→4096→4096→128

loaded with `torch.load(weights_only=True)` and `strict=True`. The conv output (N, 512, 6, 4)
is flattened in (H, W, C) order, matching the TensorFlow original.

Front end (`log_mel_examples`, numpy, float64): frames of 400 samples (25 ms) every 160
(10 ms), periodic Hann, |rFFT| with 512 bins, HTK-mel triangles (64 bands, 125–7500 Hz,
built in mel space, DC row zeroed), `log(mel + 0.01)`, then non-overlapping 96-frame
examples (0.96 s); an incomplete last example is dropped.

Outputs (all plain numeric arrays, so they cache as .npz):
- `"embedding"` (B, 128): the mean over each clip's frames;
- `"frames"` (B, n_max, 128): each clip's frame embeddings, zero-padded to the longest clip
  of the batch;
- `"n_frames"` (B,) int64: how many rows of `frames[i]` are real.
FAD pools all frames of all clips: `np.concatenate([f[:n] for f, n in zip(frames, n_frames)])`
(`pooled_frames()` does exactly this).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from harness.backbones.base import Backbone
from harness.backbones.common import check_batch, file_sha256, make_info
from harness.records import AudioRecipe, BackboneInfo
from harness.weights import load_into, load_torch_checkpoint, require, weights_root

SAMPLE_RATE = 16000
WINDOW = 400  # 25 ms @ 16 kHz
HOP = 160  # 10 ms @ 16 kHz
FFT = 512
N_MELS = 64
FMIN, FMAX = 125.0, 7500.0
LOG_OFFSET = 0.01
EXAMPLE_FRAMES = 96  # 0.96 s
MIN_SAMPLES = WINDOW + (EXAMPLE_FRAMES - 1) * HOP  # 15,600 samples: one full example
RELPATH = "vggish/vggish-10086976.pth"


def _hz_to_mel(f: np.ndarray | float) -> np.ndarray:
    return 1127.0 * np.log(1.0 + np.asarray(f, np.float64) / 700.0)


def mel_matrix(n_bins: int = FFT // 2 + 1) -> np.ndarray:
    """(n_bins, 64) HTK-mel weights; triangles are linear in mel, the DC bin gets no weight."""
    bin_mel = _hz_to_mel(np.linspace(0.0, SAMPLE_RATE / 2, n_bins))
    edges = np.linspace(_hz_to_mel(FMIN), _hz_to_mel(FMAX), N_MELS + 2)
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
    rising = (bin_mel[:, None] - lower) / (center - lower)
    falling = (upper - bin_mel[:, None]) / (upper - center)
    w = np.maximum(0.0, np.minimum(rising, falling))
    w[0, :] = 0.0
    return w


def log_mel_examples(wave: np.ndarray) -> np.ndarray:
    """(T,) @ 16 kHz -> (n_examples, 96, 64) float32 log-mel patches."""
    x = np.asarray(wave, np.float64)
    n_frames = 1 + (len(x) - WINDOW) // HOP
    idx = np.arange(WINDOW)[None, :] + HOP * np.arange(n_frames)[:, None]
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(WINDOW) / WINDOW)  # periodic Hann
    spec = np.abs(np.fft.rfft(x[idx] * window, n=FFT))  # (frames, 257) magnitude
    log_mel = np.log(spec @ mel_matrix() + LOG_OFFSET)  # (frames, 64)
    n_ex = n_frames // EXAMPLE_FRAMES
    return log_mel[: n_ex * EXAMPLE_FRAMES].reshape(n_ex, EXAMPLE_FRAMES, N_MELS).astype(np.float32)


def build_vggish():
    """The VGGish network with torchvggish key names (final ReLU removed)."""
    import torch
    from torch import nn

    class VGGish(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            layers: list[nn.Module] = []
            c_in = 1
            for v in (64, "M", 128, "M", 256, 256, "M", 512, 512, "M"):
                if v == "M":
                    layers.append(nn.MaxPool2d(2, 2))
                else:
                    layers += [nn.Conv2d(c_in, int(v), 3, 1, 1), nn.ReLU(inplace=True)]
                    c_in = int(v)
            self.features = nn.Sequential(*layers)
            self.embeddings = nn.Sequential(nn.Linear(512 * 6 * 4, 4096), nn.ReLU(inplace=True),
                                            nn.Linear(4096, 4096), nn.ReLU(inplace=True),
                                            nn.Linear(4096, 128))

        def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (N, 1, 96, 64) log-mel
            h = self.features(x)  # (N, 512, 6, 4)
            h = h.permute(0, 2, 3, 1).reshape(h.shape[0], -1)  # (N, 6*4*512) in TF (H, W, C) order
            return self.embeddings(h)  # (N, 128) pre-activation

    return VGGish()


class VGGishBackbone(Backbone):
    name = "vggish"
    outputs = ("embedding", "frames", "n_frames")
    batch_size = 16
    defers_load = True

    def __init__(self, weights: str | Path | None = None, recipe: AudioRecipe | None = None,
                 device: str = "cpu"):
        self._weights = weights
        self._recipe = recipe or AudioRecipe(sample_rate=SAMPLE_RATE, mono="mean", length="pad_min",
                                             min_seconds=1.0)
        self.device = device
        self._model: Any = None  # the VGGish torch module, built by load()
        self._sha: str | None = None

    @property
    def info(self) -> BackboneInfo:
        return make_info(self.name, self._sha, self._recipe, version="vggish-pre-relu-128", device=self.device)

    def identify(self) -> None:
        """`info` without building the model: the checkpoint's sha256 (missing file: WeightsError)."""
        if self._sha is None:
            self._sha = file_sha256(require(self.name, RELPATH, weights_root(self._weights)))

    def load(self) -> None:
        if self._model is not None:
            return
        path = require(self.name, RELPATH, weights_root(self._weights))
        state = load_torch_checkpoint(path, "vggish")
        if not isinstance(state, dict):
            from harness.errors import WeightsError

            raise WeightsError(str(path), "vggish: expected a plain state dict", "use vggish-10086976.pth")
        model = build_vggish()
        load_into(model, state, path, "vggish")
        self._model = model.eval().to(self.device)
        self._sha = file_sha256(path)

    def embed(self, batch: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
        import torch

        self.load()
        clips = check_batch(batch, self.name, min_samples=MIN_SAMPLES)
        examples = [log_mel_examples(c) for c in clips]  # each (n_i, 96, 64)
        counts = [e.shape[0] for e in examples]
        x = torch.from_numpy(np.concatenate(examples))[:, None].to(self.device)  # (N, 1, 96, 64)
        with torch.inference_mode():
            emb = self._model(x).float().cpu().numpy()  # (N, 128)
        frames = np.zeros((len(clips), max(counts), 128), np.float32)  # (B, n_max, 128)
        start = 0
        for i, n in enumerate(counts):
            frames[i, :n] = emb[start:start + n]
            start += n
        n_frames = np.asarray(counts, np.int64)
        means = frames.sum(axis=1) / n_frames[:, None]  # (B, 128) mean over real frames
        return {"embedding": means.astype(np.float32), "frames": frames, "n_frames": n_frames}


def pooled_frames(outputs: dict[str, np.ndarray]) -> np.ndarray:
    """(sum n_i, 128): the real frames of every clip of a batch output, in clip order."""
    return np.concatenate([f[:n] for f, n in zip(outputs["frames"], outputs["n_frames"], strict=True)])
