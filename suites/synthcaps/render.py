"""Render a `Scene` to 16 kHz audio and frame-level labels (numpy only, deterministic).

    mix = room_ir(scene.room, room_seed) * sum_e place(gain_e * far_e(synth_e(seed_e)))

Each event uses only its own seed, so two scenes that share an event render it to the same
samples. Labels (25 fps, one column per source in `SOURCE_NAMES` order) mark a frame active
where that event's own dry signal (after loudness and distance, before the room) has an
envelope above max(peak envelope - 25 dB, -60 dBFS); the envelope is the frame power
averaged over a centred 3-frame (120 ms) window, so a 10 ms click (a clock tick) is one
120 ms event rather than a single 40 ms frame. No normalisation is applied to the
mix (it would couple events); levels are chosen so peaks stay below 1.0 (checked in tests).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.seeding import numpy_rng
from suites.synthcaps.dsp import SR, convolve, lowpass, room_ir
from suites.synthcaps.scene import Event, Scene
from suites.synthcaps.sources import FAR_DB, FAR_LOWPASS_HZ, LOUDNESS_DB, SOURCE_NAMES, synthesize

FRAME_RATE = 25
"""Label frames per second."""
HOP = SR // FRAME_RATE
"""640 samples per label frame."""
LABEL_REL_DB = -25.0
LABEL_FLOOR_DB = -60.0


@dataclass(frozen=True, eq=False)
class Rendered:
    """A rendered scene."""

    audio: np.ndarray
    """(T,) float32 @ 16 kHz, the final mix after the room."""
    labels: np.ndarray
    """(F, S) uint8 multi-hot @ 25 fps, S = len(SOURCE_NAMES)."""
    event_audio: tuple[np.ndarray, ...]
    """Per event (scene order): (T,) float64 dry placed signal before the room."""


def n_samples(duration: float) -> int:
    return int(round(duration * SR))


def render_event(e: Event, total: int) -> np.ndarray:
    """(total,) float64: the event's dry signal placed at its onset, after gain and distance."""
    start = int(round(e.onset * SR))
    stop = min(int(round(e.offset * SR)), total)
    out = np.zeros(total)
    if stop <= start:
        return out
    x = synthesize(e.source, numpy_rng(e.seed), stop - start, e.pitch, e.speed, e.material)
    gain_db = LOUDNESS_DB[e.loudness]
    if e.distance == "far":
        x = lowpass(x, FAR_LOWPASS_HZ, 2.0)
        gain_db += FAR_DB
    out[start:stop] = x * 10 ** (gain_db / 20.0)
    return out


def frame_rms_db(x: np.ndarray) -> np.ndarray:
    """(F,) RMS in dBFS over consecutive 640-sample frames (last partial frame dropped)."""
    f = x.shape[0] // HOP
    frames = x[: f * HOP].reshape(f, HOP)
    return 10 * np.log10(np.mean(frames ** 2, axis=1) + 1e-12)


def envelope_db(x: np.ndarray) -> np.ndarray:
    """(F,) dB: frame power smoothed by a centred 3-frame moving average (120 ms)."""
    p = 10 ** (frame_rms_db(x) / 10)
    smooth = np.convolve(np.pad(p, 1), np.ones(3) / 3, mode="valid")   # (F,)
    return 10 * np.log10(smooth + 1e-12)


def event_activity(x: np.ndarray) -> np.ndarray:
    """(F,) bool: frames where the event's own envelope is above the label threshold."""
    db = envelope_db(x)
    return db > max(float(db.max()) + LABEL_REL_DB, LABEL_FLOOR_DB)


def render(scene: Scene) -> Rendered:
    """Render the mix and its labels."""
    total = n_samples(scene.duration)
    parts = tuple(render_event(e, total) for e in scene.events)
    dry = np.sum(parts, axis=0) if parts else np.zeros(total)
    wet = convolve(dry, room_ir(numpy_rng(scene.room_seed), scene.room))
    labels = np.zeros((total // HOP, len(SOURCE_NAMES)), np.uint8)
    for e, x in zip(scene.events, parts, strict=True):
        labels[:, SOURCE_NAMES.index(e.source)] |= event_activity(x).astype(np.uint8)
    return Rendered(wet.astype(np.float32), labels, parts)


def clip_labels(labels: np.ndarray) -> np.ndarray:
    """(S,) uint8: sources active in any frame."""
    return labels.max(axis=0)
