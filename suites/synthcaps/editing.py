"""Paired editing benchmark in the 14 categories of the SemanticAudio paper (Appendix B).

Each pair is (source scene, target scene); the ground-truth target audio is `render(target)`.
Unchanged events keep their seeds, so source and target audio differ only where the edit
says (the edited event's span, plus the room tail; the whole clip for Atmosphere Change).

| category          | edit in SynthCaps                                             |
|-------------------|---------------------------------------------------------------|
| Sound Removal     | remove one event (at least one foreground event remains)       |
| Subject Replace   | animal -> another animal (dog, cat, bird)                      |
| Other Replace     | device -> another device (bell, beep, clock)                   |
| Action Replace    | "someone knocks/whistles/walks/plays a drum" -> another action |
| Weather Change    | rain <-> wind                                                  |
| Event Replace     | a foreground event -> a source from another group              |
| Sound Addition    | add a foreground event in a free time slot                     |
| Intensity Change  | loud <-> quiet (normal -> loud or quiet)                       |
| Material Change   | knock on a wooden door <-> metal door                          |
| Spatial Change    | near <-> far (level and 2 kHz low-pass)                        |
| Vehicle Replace   | engine <-> siren                                               |
| Atmosphere Change | indoor (reverberant hall) <-> outdoor (dry)                    |
| Environment Add   | add a background bed (rain, wind, engine or siren)             |
| Temporal Change   | swap the order of two events (even k) / slow <-> fast (odd k)  |
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from harness.seeding import derive_seed, numpy_rng
from suites.synthcaps.captions import caption
from suites.synthcaps.scene import Event, Scene, canonical, sample_scene
from suites.synthcaps.sources import SOURCES

CATEGORIES = (
    "Sound Removal", "Subject Replace", "Other Replace", "Action Replace", "Weather Change",
    "Event Replace", "Sound Addition", "Intensity Change", "Material Change", "Spatial Change",
    "Vehicle Replace", "Atmosphere Change", "Environment Add", "Temporal Change",
)


@dataclass(frozen=True)
class EditPair:
    id: str
    category: str
    source: Scene
    target: Scene
    source_caption: str
    target_caption: str
    edit: str
    """Human-readable description, e.g. "dog_bark -> cat_meow"."""


def _group(name: str) -> list[str]:
    return [s for s, v in SOURCES.items() if v.group == name]


def _retarget(e: Event, source: str) -> Event:
    """`e` with a new source; attributes that do not apply to it are reset."""
    s = SOURCES[source]
    material = ("wood" if e.material == "none" else e.material) if source == "knock" else "none"
    return replace(e, source=source, pitch=e.pitch if s.pitched else "normal",
                   speed=e.speed if s.rhythmic else "normal", material=material)


def _swap_event(scene: Scene, idx: int, new: Event) -> Scene:
    ev = list(scene.events)
    ev[idx] = new
    return canonical(replace(scene, events=tuple(ev)))


def _replace_in(group: list[str] | None, exclude_group: bool = False):
    """Replace a foreground event of `group` (or, exclude_group, of any other group)."""
    def edit(scene: Scene, rng: np.random.Generator):
        present = set(scene.sources())
        cands = [i for i, e in enumerate(scene.events) if not e.background and
                 (group is None or e.source in group)]
        if not cands:
            return None
        i = cands[int(rng.integers(len(cands)))]
        old = scene.events[i].source
        if exclude_group:
            pool = [s for s in SOURCES if SOURCES[s].group != SOURCES[old].group]
        else:
            pool = list(group or SOURCES)
        pool = [s for s in pool if s not in present]
        if not pool:
            return None
        new = pool[int(rng.integers(len(pool)))]
        return _swap_event(scene, i, _retarget(scene.events[i], new)), f"{old} -> {new}"
    return edit


def _swap_pair(a: str, b: str):
    def edit(scene: Scene, rng: np.random.Generator):
        src = scene.sources()
        if (a in src) == (b in src):
            return None
        i = src.index(a if a in src else b)
        old = src[i]
        new = b if old == a else a
        return _swap_event(scene, i, _retarget(scene.events[i], new)), f"{old} -> {new}"
    return edit


def _attribute(field: str, flip: dict[str, str | tuple[str, str]], applies=lambda e: True):
    def edit(scene: Scene, rng: np.random.Generator):
        cands = [i for i, e in enumerate(scene.events) if applies(e) and getattr(e, field) in flip]
        if not cands:
            return None
        i = cands[int(rng.integers(len(cands)))]
        e = scene.events[i]
        to = flip[getattr(e, field)]
        if isinstance(to, tuple):
            to = to[int(rng.integers(len(to)))]
        return (_swap_event(scene, i, replace(e, **{field: to})),
                f"{e.source}.{field}: {getattr(e, field)} -> {to}")
    return edit


def _removal(scene: Scene, rng: np.random.Generator):
    if len(scene.events) < 2:
        return None
    cands = [i for i, e in enumerate(scene.events) if e.background or len(scene.foreground) > 1]
    i = cands[int(rng.integers(len(cands)))]
    ev = scene.events[:i] + scene.events[i + 1:]
    return canonical(replace(scene, events=ev)), f"remove {scene.events[i].source}"


def _atmosphere(scene: Scene, rng: np.random.Generator):
    room = "outdoor" if scene.room == "indoor" else "indoor"
    return replace(scene, room=room, say_outdoor=room == "outdoor"), f"{scene.room} -> {room}"


def _temporal(scene: Scene, rng: np.random.Generator):
    fg = scene.foreground
    if len(fg) < 2 or fg[0].source == fg[1].source:
        return None
    a, b = fg[0], fg[1]
    new_b = replace(b, onset=a.onset, offset=round(a.onset + (b.offset - b.onset), 3))
    new_a = replace(a, onset=round(b.offset - (a.offset - a.onset), 3), offset=b.offset)
    ev = (new_b, new_a) + scene.events[2:]
    return canonical(replace(scene, events=ev)), f"order {a.source},{b.source} -> {b.source},{a.source}"


_SPEED = _attribute("speed", {"slow": "fast", "fast": "slow", "normal": ("slow", "fast")},
                    lambda e: SOURCES[e.source].rhythmic and not e.background)

# category -> (scene sampler kwargs, edit fn, inverse: build source from a sampled target)
RULES: dict[str, tuple[dict, Callable, bool]] = {
    "Sound Removal": ({"n_events": 3}, _removal, False),
    "Subject Replace": ({"require": ("animal",)}, _replace_in(_group("animal")), False),
    "Other Replace": ({"require": ("device",)}, _replace_in(_group("device")), False),
    "Action Replace": ({"require": ("human",)}, _replace_in(_group("human")), False),
    "Weather Change": ({"require": ("weather",)}, _swap_pair("rain", "wind"), False),
    "Event Replace": ({}, _replace_in(None, exclude_group=True), False),
    "Sound Addition": ({"n_events": 3, "background": False}, _removal, True),
    "Intensity Change": ({}, _attribute("loudness", {"loud": "quiet", "quiet": "loud",
                                                     "normal": ("loud", "quiet")}), False),
    "Material Change": ({"require": ("knock",)}, _attribute("material", {"wood": "metal",
                                                                         "metal": "wood"}), False),
    "Spatial Change": ({}, _attribute("distance", {"near": "far", "far": "near"}), False),
    "Vehicle Replace": ({"require": ("vehicle",)}, _swap_pair("engine", "siren"), False),
    "Atmosphere Change": ({}, _atmosphere, False),
    "Environment Add": ({"n_events": 2, "background": True}, None, True),
    "Temporal Change": ({"n_events": 2, "background": False}, _temporal, False),
}


def _env_removal(scene: Scene, rng: np.random.Generator):
    if not scene.background:
        return None
    return canonical(replace(scene, events=scene.foreground)), f"add {scene.background[0].source}"


def _sample(seed: int, duration: float, kw: dict, rng: np.random.Generator) -> Scene:
    kw = dict(kw)
    req = kw.pop("require", ())
    if req and req[0] in {"animal", "device", "human", "weather", "vehicle"}:
        pool = _group(req[0])
        req = (pool[int(rng.integers(len(pool)))],)
    return sample_scene(seed, duration, require=tuple(req), **kw)


def make_pair(category: str, k: int, seed: int = 0, duration: float = 4.0) -> EditPair:
    """Pair `k` of `category`, deterministic from (seed, category, k)."""
    kw, fn, inverse = RULES[category]
    if category == "Temporal Change" and k % 2 == 1:
        kw, fn = {"n_events": 2}, _SPEED
    fn = fn or _env_removal
    for attempt in range(200):
        s = derive_seed(seed, "edit", category, k, attempt)
        rng = numpy_rng(derive_seed(s, "edit-choice"))
        scene = _sample(s, duration, kw, rng)
        if category == "Atmosphere Change" and scene.room == "outdoor":
            scene = replace(scene, say_outdoor=True)
        out = fn(scene, rng)
        if out is None:
            continue
        edited, desc = out
        src, tgt = (edited, scene) if inverse else (scene, edited)
        if inverse:
            desc = desc.replace("remove ", "add ")
        if caption(src) == caption(tgt):
            continue
        return EditPair(f"synthcaps-edit-{category.lower().replace(' ', '_')}-{k:03d}", category,
                        src, tgt, caption(src), caption(tgt), desc)
    raise RuntimeError(f"no valid {category} pair found for k={k} (seed {seed})")


def edit_pairs(per_category: int, seed: int = 0, duration: float = 4.0,
               categories: tuple[str, ...] = CATEGORIES) -> list[EditPair]:
    for c in categories:
        if c not in CATEGORIES:
            raise ValueError(f"unknown editing category {c!r}; use one of {CATEGORIES}")
    return [make_pair(c, k, seed, duration) for c in categories for k in range(per_category)]
