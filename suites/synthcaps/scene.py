"""SynthCaps scenes: frozen descriptions of what a clip contains, and the seeded sampler.

A `Scene` is the single source of truth: the renderer, the caption grammar, the frame
labels and the editing pairs are all pure functions of it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace

import numpy as np

from harness.seeding import derive_seed, numpy_rng
from suites.synthcaps.sources import SOURCE_NAMES, SOURCES


@dataclass(frozen=True)
class Event:
    """One sound event in a scene (times in seconds from the clip start)."""

    source: str
    onset: float
    offset: float
    seed: int
    """Seed of this event's synthesis: unchanged events keep it across edits."""
    loudness: str = "normal"
    """"quiet" | "normal" | "loud"."""
    pitch: str = "normal"
    """"low" | "normal" | "high" (pitched sources only)."""
    speed: str = "normal"
    """"slow" | "normal" | "fast" (rhythmic sources only)."""
    distance: str = "near"
    """"near" | "far" (far = -8 dB and a 2 kHz low-pass)."""
    material: str = "none"
    """"wood" | "metal" for "knock", else "none"."""
    background: bool = False
    """A bed spanning the clip, captioned as "while ..." rather than in the sequence."""


@dataclass(frozen=True)
class Scene:
    """A clip: its events, its room and whether the caption names an outdoor room."""

    events: tuple[Event, ...]
    """Foreground events in onset order, then background beds."""
    room: str = "outdoor"
    """"outdoor" (dry) or "indoor" (seeded reverberant IR)."""
    room_seed: int = 0
    duration: float = 4.0
    say_outdoor: bool = False

    @property
    def foreground(self) -> tuple[Event, ...]:
        return tuple(e for e in self.events if not e.background)

    @property
    def background(self) -> tuple[Event, ...]:
        return tuple(e for e in self.events if e.background)

    def sources(self) -> tuple[str, ...]:
        return tuple(e.source for e in self.events)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @staticmethod
    def from_json(text: str) -> Scene:
        d = json.loads(text)
        return Scene(events=tuple(Event(**e) for e in d.pop("events")), **d)


def canonical(scene: Scene) -> Scene:
    """Sort foreground by onset and put beds last (captions read events in this order)."""
    fg = sorted(scene.foreground, key=lambda e: (e.onset, e.source))
    bg = sorted(scene.background, key=lambda e: e.source)
    return replace(scene, events=tuple(fg) + tuple(bg))


def _choice(rng: np.random.Generator, options: tuple, probs: tuple) -> str:
    return options[int(rng.choice(len(options), p=np.asarray(probs) / sum(probs)))]


def sample_attributes(rng: np.random.Generator, source: str) -> dict:
    """Seeded attributes; every draw happens whatever the source, so streams stay aligned."""
    s = SOURCES[source]
    loud = _choice(rng, ("quiet", "normal", "loud"), (0.25, 0.5, 0.25))
    pitch = _choice(rng, ("low", "normal", "high"), (0.2, 0.6, 0.2))
    speed = _choice(rng, ("slow", "normal", "fast"), (0.2, 0.6, 0.2))
    far = rng.uniform() < 0.25
    metal = rng.uniform() < 0.5
    return {
        "loudness": loud,
        "pitch": pitch if s.pitched else "normal",
        "speed": speed if s.rhythmic else "normal",
        "distance": "far" if far else "near",
        "material": ("metal" if metal else "wood") if source == "knock" else "none",
    }


def sample_scene(seed: int, duration: float = 4.0, *, require: tuple[str, ...] = (),
                 n_events: int | None = None, background: bool | None = None) -> Scene:
    """A random scene from one seed.

    Args:
        seed: the scene seed (derive it with `harness.seeding.derive_seed`).
        duration: clip length in seconds.
        require: sources that must appear (used to build editing pairs).
        n_events: force 1..3 events; None samples (0.3, 0.4, 0.3).
        background: force a bed (True), forbid it (False) or sample (None; p=0.4 when n>=2).
    """
    rng = numpy_rng(seed)
    n = n_events or int(rng.choice([1, 2, 3], p=[0.3, 0.4, 0.3]))
    n = max(n, len(require))
    use_bg = bool(rng.uniform() < 0.4) if background is None else background
    use_bg = use_bg and n >= 2
    pool = [s for s in SOURCE_NAMES if s not in require]
    picked = list(require) + [str(x) for x in rng.permutation(pool)[: n - len(require)]]
    order = [str(x) for x in rng.permutation(picked)]
    bg_src = None
    if use_bg:
        beds = [s for s in order if SOURCES[s].continuous]
        bg_src = beds[0] if beds else None
    events = []
    fg = [s for s in order if s != bg_src]
    slot = duration / len(fg)
    for k, src in enumerate(fg):
        attrs = sample_attributes(rng, src)
        dur = float(rng.uniform(min(0.8, slot - 0.3), min(slot - 0.2, 2.6)))
        start = k * slot + float(rng.uniform(0.05, slot - dur - 0.05))
        events.append(Event(src, round(start, 3), round(start + dur, 3),
                            derive_seed(seed, "event", k), **attrs))
    if bg_src is not None:
        attrs = sample_attributes(rng, bg_src)
        attrs["loudness"] = "quiet" if attrs["loudness"] == "loud" else attrs["loudness"]
        events.append(Event(bg_src, 0.0, float(duration), derive_seed(seed, "event", "bg"),
                            background=True, **attrs))
    indoor = bool(rng.uniform() < 0.3)
    say_out = bool(rng.uniform() < 0.3)
    return canonical(Scene(tuple(events), "indoor" if indoor else "outdoor",
                           derive_seed(seed, "room"), float(duration),
                           say_outdoor=(not indoor) and say_out))
