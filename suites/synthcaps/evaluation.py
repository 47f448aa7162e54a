"""Quality bars of the mini backbones on SynthCaps test (used by training and by tests).

Definitions (stated in docs/mini_world.md):
- classifier `exact_set_accuracy`: fraction of clips whose predicted event set
  {s : sigmoid(logit_s) > 0.5} equals the true set exactly; `mean_class_accuracy`: accuracy
  of each of the 14 binary decisions, averaged over classes.
- clap `r_at_1_100`: text->audio retrieval; test clips in groups of 100, each canonical
  caption ranks the 100 audios of its group by cosine; fraction ranked first.
- semantic `frame_f1`: micro F1 of frame posteriors > 0.5 against 25 fps labels;
  `clip_exact_set_accuracy`: sources with a run of >= 2 frames above 0.5 (the event-presence
  metric's rule) equal the true set.
- vae `mel_loss_dac`: DAC `MelSpectrogramLoss()` defaults (harness.metrics.recon) between
  input and decode(posterior mean) at 16 kHz; `logmel_l1`: L1 of our 64-band log-mel.
- quality `spearman`: rank correlation of predicted quality with 1 - severity on
  degraded test clips (20 % clean).
"""

from __future__ import annotations

import numpy as np
import torch

from harness.seeding import derive_seed
from suites.synthcaps.degrade import degrade_batch


def _batched(fn, x: torch.Tensor, bs: int = 50):
    with torch.no_grad():
        outs = [fn(x[i:i + bs]) for i in range(0, len(x), bs)]
    if isinstance(outs[0], tuple):
        return tuple(torch.cat(o) for o in zip(*outs, strict=True))
    return torch.cat(outs)


def eval_classifier(model, audio: torch.Tensor, clip_labels: torch.Tensor) -> dict:
    _, logits = _batched(model, audio)
    pred = (torch.sigmoid(logits) > 0.5).float()
    return {"exact_set_accuracy": float((pred == clip_labels).all(1).float().mean()),
            "mean_class_accuracy": float((pred == clip_labels).float().mean(0).mean()),
            "n": len(audio)}


def eval_clap(model, audio: torch.Tensor, text_ids: torch.Tensor, group: int = 100) -> dict:
    a = _batched(model.embed_audio, audio)
    t = _batched(model.embed_text, text_ids)
    hits, n = 0, 0
    for g in range(0, len(a) - group + 1, group):
        sim = t[g:g + group] @ a[g:g + group].T                      # (100, 100)
        hits += int((sim.argmax(1) == torch.arange(group)).sum())
        n += group
    return {"r_at_1_100": hits / max(n, 1), "n": n}


def eval_semantic(model, audio: torch.Tensor, frame_labels: torch.Tensor) -> dict:
    _, logits, _ = _batched(model, audio)                              # (N, S, T25)
    pred = torch.sigmoid(logits) > 0.5
    lab = frame_labels.transpose(1, 2)[..., : logits.shape[-1]] > 0.5
    tp = float((pred & lab).sum())
    f1 = 2 * tp / max(float(pred.sum() + lab.sum()), 1.0)
    from suites.synthcaps.metrics import detect

    probs = torch.sigmoid(logits).transpose(1, 2).numpy()             # (N, T25, S)
    found = np.stack([detect(p).any(0) for p in probs])               # runs >= 2 frames
    clip_ok = float((found == lab.any(-1).numpy()).all(1).mean())
    return {"frame_f1": f1, "clip_exact_set_accuracy": clip_ok, "n": len(audio)}


def eval_vae(model, audio: torch.Tensor) -> dict:
    from harness.metrics.recon import MEL_DAC_DEFAULT, spectral_loss
    from suites.synthcaps.backbones.features import LogMel

    with torch.no_grad():
        y = torch.cat([model.decode(model.encode(audio[i:i + 10])[0], audio.shape[-1])
                       for i in range(0, len(audio), 10)])
        mel = LogMel()
        l1 = float((mel(y) - mel(audio)).abs().mean())
        dac = float(np.mean([float(spectral_loss(y[i], audio[i], 16000, MEL_DAC_DEFAULT))
                             for i in range(len(audio))]))
    return {"mel_loss_dac": dac, "logmel_l1": l1, "n": len(audio)}


def _ranks(v: np.ndarray) -> np.ndarray:
    """(N,) -> (N,) float ranks 0..N-1 (ties broken by position)."""
    return np.argsort(np.argsort(v)).astype(float)


def eval_quality(model, audio: torch.Tensor, seed: int = 0) -> dict:
    x, q = degrade_batch(audio.numpy(), derive_seed(seed, "quality-test"))
    pred = _batched(model, torch.from_numpy(x)).numpy()
    rho = float(np.corrcoef(_ranks(pred), _ranks(q))[0, 1])
    return {"spearman": rho, "mae": float(np.abs(pred - q).mean()), "n": len(audio)}
