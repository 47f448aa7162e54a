"""Training loops of the five mini backbones (deterministic on CPU).

Determinism: module initialisation runs under `torch.random.fork_rng` with an explicit seed
(the caller's global RNG state is restored afterwards), mini-batches are drawn from a
`harness.seeding.numpy_rng`, degradations from their own derived seeds, and
`torch.use_deterministic_algorithms(True)` is on while training. Same seed + same thread
count -> identical weights.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from harness.seeding import derive_seed, numpy_rng
from suites.synthcaps.backbones import models as M
from suites.synthcaps.backbones.features import LogMel
from suites.synthcaps.backbones.models import encode_texts
from suites.synthcaps.captions import vocabulary
from suites.synthcaps.degrade import degrade_batch


@dataclass
class TrainData:
    """Tensors of one rendered split."""

    audio: torch.Tensor
    """(N, T) float32 @ 16 kHz."""
    frame_labels: torch.Tensor
    """(N, F25, S) float32 multi-hot @ 25 fps."""
    clip_labels: torch.Tensor
    """(N, S) float32."""
    text_ids: torch.Tensor
    """(N, 3, L) int64 word ids of the three caption styles (0 = pad)."""
    mel: torch.Tensor
    """(N, 64, T // 160) log-mel @ 100 fps (the fronts' parameter-free input, computed once)."""


def make_data(clips, audio: np.ndarray, labels: np.ndarray) -> TrainData:
    texts = [t for c in clips for t in (c.caption, *c.paraphrases)]
    ids = encode_texts(texts).view(len(clips), 3, -1)
    fl = torch.from_numpy(labels.astype(np.float32))
    wave = torch.from_numpy(audio)
    return TrainData(wave, fl, fl.amax(1), ids, log_mels(wave))


def log_mels(wave: torch.Tensor, chunk: int = 100) -> torch.Tensor:
    """(N, T) @ 16 kHz -> (N, 64, T // 160), in chunks to bound memory."""
    mel = LogMel()
    with torch.no_grad():
        return torch.cat([mel(wave[i:i + chunk]) for i in range(0, len(wave), chunk)])


def mel_stats(audio: torch.Tensor) -> dict:
    """Global mean/std of the log-mel over (up to) 200 clips: the fronts' fixed normaliser."""
    with torch.no_grad():
        m = LogMel()(audio[:200])
    return {"mel_mean": round(float(m.mean()), 4), "mel_std": round(float(m.std()), 4)}


def build(cls, seed: int, **kwargs):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return cls(**kwargs)


def fit(model, step_loss: Callable[[np.ndarray, int], torch.Tensor], n: int, steps: int,
        batch: int, lr: float, seed: int, log: Callable[[str], None] = print, name: str = ""):
    """Adam + cosine decay; `step_loss(batch_indices, step)` returns the loss."""
    rng = numpy_rng(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.5 * (1 + np.cos(np.pi * min(s, steps) / steps)) * min(1.0, (s + 1) / 20))
    model.train()
    for step in range(steps):
        idx = rng.choice(n, size=min(batch, n), replace=False)
        loss = step_loss(idx, step)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % max(steps // 5, 1) == 0 or step == steps - 1:
            log(f"  {name} step {step + 1}/{steps} loss {float(loss.detach()):.4f}")
    model.eval()
    return model


def info_nce(a: torch.Tensor, b: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Symmetric InfoNCE over unit vectors a, b (B, D)."""
    logits = scale.exp().clamp(max=100.0) * a @ b.T                  # (B, B)
    target = torch.arange(a.shape[0])
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))


def _pick_text(d: TrainData, idx: np.ndarray, step: int, seed: int) -> torch.Tensor:
    style = numpy_rng(derive_seed(seed, "style", step)).integers(0, 3, len(idx))
    ids = d.text_ids[torch.from_numpy(idx), torch.from_numpy(style)]
    return ids[:, : int((ids > 0).sum(1).max())]


def gain_augment(mel: torch.Tensor, step: int, seed: int, db: float = 6.0) -> torch.Tensor:
    """Random per-clip gain of +-`db` dB applied to log-mel power (seeded by step)."""
    r = numpy_rng(derive_seed(seed, "gain", step)).uniform(-db, db, (mel.shape[0], 1, 1))
    return mel + torch.from_numpy(r * np.log(10.0) / 10.0).float()


def train_classifier(d: TrainData, stats: dict, steps: int, seed: int, log=print):
    kw = {"n_classes": d.clip_labels.shape[1], **stats}
    model = build(M.Classifier, seed, **kw)
    def loss(idx, step):
        _, logits = model(gain_augment(d.mel[idx], step, seed))
        return F.binary_cross_entropy_with_logits(logits, d.clip_labels[idx])
    fit(model, loss, len(d.audio), steps, 32, 2e-3, seed, log, "classifier")
    return model, {"class": "Classifier", "kwargs": kw}


def train_clap(d: TrainData, stats: dict, steps: int, seed: int, log=print):
    kw = {"vocab": len(vocabulary()), **stats}
    model = build(M.Clap, seed, **kw)
    def loss(idx, step):
        a = model.embed_audio(d.mel[idx])
        t = model.embed_text(_pick_text(d, idx, step, seed))
        return info_nce(a, t, model.logit_scale)
    fit(model, loss, len(d.audio), steps, 64, 2e-3, seed, log, "clap")
    return model, {"class": "Clap", "kwargs": kw}


def train_semantic(d: TrainData, stats: dict, steps: int, seed: int, log=print):
    kw = {"n_classes": d.clip_labels.shape[1], "vocab": len(vocabulary()), **stats}
    model = build(M.SemanticEncoder, seed, **kw)
    scale = torch.tensor(2.7)
    def loss(idx, step):
        _, frame_logits, clip = model(gain_augment(d.mel[idx], step, seed))                    # (B, S, T25)
        labels = d.frame_labels[idx].transpose(1, 2)[..., : frame_logits.shape[-1]]
        text = F.normalize(model.text(_pick_text(d, idx, step, seed)), dim=-1)
        return (F.binary_cross_entropy_with_logits(frame_logits, labels)
                + 0.3 * info_nce(clip, text, scale))
    fit(model, loss, len(d.audio), steps, 32, 2e-3, seed, log, "semantic")
    return model, {"class": "SemanticEncoder", "kwargs": kw}


def multi_mel_l1(x: torch.Tensor, y: torch.Tensor, mels: list) -> torch.Tensor:
    """Mean L1 between log-mels of x and y (B, T) over several resolutions."""
    return sum((m(x) - m(y)).abs().mean() for m in mels) / len(mels)


def train_vae(d: TrainData, steps: int, seed: int, log=print, crop: int = 16000):
    kw = {"latent": 32, "hidden": 160}
    model = build(M.AcousticVAE, seed, **kw)
    mels = [LogMel(n_fft=n, n_mels=b) for n, b in ((512, 40), (1024, 64), (2048, 96))]
    def loss(idx, step):
        r = numpy_rng(derive_seed(seed, "crop", step))
        starts = r.integers(0, d.audio.shape[1] - crop, len(idx)) // 640 * 640
        x = torch.stack([d.audio[i, s:s + crop] for i, s in zip(idx, starts, strict=True)])  # (B, 1 s)
        mu, logvar = model.encode(x)
        z = mu + torch.randn(mu.shape, generator=torch.Generator().manual_seed(step)) * (0.5 * logvar).exp()
        y = model.decode(z, x.shape[-1])
        spec_l = (model.spec(y) - model.spec(x)).abs().mean()
        kl = 0.5 * (mu ** 2 + logvar.exp() - 1 - logvar).mean()
        return multi_mel_l1(y, x, mels) + spec_l + 1e-3 * kl
    fit(model, loss, len(d.audio), steps, 16, 1.5e-3, seed, log, "vae")
    return model, {"class": "AcousticVAE", "kwargs": kw}


def train_quality(d: TrainData, stats: dict, steps: int, seed: int, log=print):
    """One seeded degradation per training clip (20 % left clean), mels computed once."""
    kw = dict(stats)
    model = build(M.QualityNet, seed, **kw)
    x, q = degrade_batch(d.audio.numpy(), derive_seed(seed, "degrade"))
    mel, target = log_mels(torch.from_numpy(x)), torch.from_numpy(q)
    def loss(idx, step):
        return F.mse_loss(model(mel[idx]), target[idx])
    fit(model, loss, len(d.audio), steps, 32, 2e-3, seed, log, "quality")
    return model, {"class": "QualityNet", "kwargs": kw}
