"""Numerics of the metrics the mini world makes possible (pure numpy, tested directly).

- Event presence: a source is detected when its frame posterior exceeds `threshold` in at
  least `min_frames` frames (25 fps). `presence_exact` is 1 when the detected set equals the
  scene's set; `presence_jaccard` is |detected & expected| / |detected | expected|.
- Event order: onset of a source = first frame of its first run of >= `min_frames` active
  frames. For the scene's foreground sources in caption order, each consecutive pair
  (a, b) is correct when both are detected and onset(a) < onset(b); the score is the
  fraction of correct pairs (undefined, None, with fewer than two foreground events).
- Editing distance to the ground-truth target: `logmel_l1` (64-band log-mel, 100 fps, both
  clips cropped to the shorter) and `latent_l2` (mean over frames of the Euclidean distance
  between mini-VAE latent frames).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from suites.synthcaps.sources import SOURCE_NAMES


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, np.float64)))


def _runs(active: np.ndarray, min_frames: int) -> np.ndarray:
    """(T,) bool -> (T,) bool keeping only runs of at least `min_frames` frames."""
    keep = np.zeros_like(active)
    t, n = 0, active.shape[0]
    while t < n:
        if active[t]:
            e = t
            while e < n and active[e]:
                e += 1
            if e - t >= min_frames:
                keep[t:e] = True
            t = e
        else:
            t += 1
    return keep


def detect(frame_probs: np.ndarray, threshold: float = 0.5, min_frames: int = 2) -> np.ndarray:
    """(T, S) posteriors -> (T, S) bool activity (runs shorter than `min_frames` dropped)."""
    act = np.asarray(frame_probs) > threshold
    return np.stack([_runs(act[:, s], min_frames) for s in range(act.shape[1])], axis=1)


def detected_sources(frame_probs: np.ndarray, threshold: float = 0.5, min_frames: int = 2
                     ) -> set[str]:
    act = detect(frame_probs, threshold, min_frames)
    return {SOURCE_NAMES[s] for s in np.flatnonzero(act.any(axis=0))}


def presence_exact(detected: set[str], expected: Sequence[str]) -> float:
    return float(set(detected) == set(expected))


def presence_jaccard(detected: set[str], expected: Sequence[str]) -> float:
    d, e = set(detected), set(expected)
    return 1.0 if not (d | e) else len(d & e) / len(d | e)


def onsets(frame_probs: np.ndarray, threshold: float = 0.5, min_frames: int = 2
           ) -> dict[str, int]:
    """Source name -> first active frame (detected sources only)."""
    act = detect(frame_probs, threshold, min_frames)
    return {SOURCE_NAMES[s]: int(np.flatnonzero(act[:, s])[0])
            for s in range(act.shape[1]) if act[:, s].any()}


def order_accuracy(frame_probs: np.ndarray, order: Sequence[str], threshold: float = 0.5,
                   min_frames: int = 2) -> float | None:
    """Fraction of consecutive foreground pairs detected in the right order (None if < 2)."""
    if len(order) < 2:
        return None
    on = onsets(frame_probs, threshold, min_frames)
    pairs = list(zip(order[:-1], order[1:], strict=True))
    ok = [a in on and b in on and on[a] < on[b] for a, b in pairs]
    return float(np.mean(ok))


def logmel(x: np.ndarray) -> np.ndarray:
    """(T,) @ 16 kHz -> (64, T // 160) log mel power, the mini backbones' front end."""
    import torch

    from suites.synthcaps.backbones.features import LogMel

    with torch.no_grad():
        return LogMel()(torch.from_numpy(np.asarray(x, np.float32))[None])[0].numpy()


def logmel_l1(x: np.ndarray, y: np.ndarray) -> float:
    """Mean |logmel(x) - logmel(y)| over bands and frames, both cropped to the shorter clip."""
    n = min(x.shape[0], y.shape[0])
    return float(np.mean(np.abs(logmel(x[:n]) - logmel(y[:n]))))


def latent_l2(a: np.ndarray, b: np.ndarray) -> float:
    """Mean over frames of ||a_t - b_t||_2 for (T, C) latents (cropped to the shorter)."""
    n = min(a.shape[0], b.shape[0])
    return float(np.mean(np.linalg.norm(np.asarray(a[:n], np.float64) - b[:n], axis=1)))
