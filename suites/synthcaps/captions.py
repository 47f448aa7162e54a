"""The SynthCaps caption grammar: one canonical caption and two paraphrases per scene.

    canonical:  "a dog barks loudly, then a bell rings in a high pitch while rain falls"
    progressive:"a dog is barking loudly and then a bell is ringing in a high pitch as rain
                 is falling"
    nominal:    "the sound of a dog barking loudly, after which the sound of a bell ringing
                 in a high pitch, with rain falling in the background"

Words come only from the tables below, so `vocabulary()` is the closed word list that the
mini text encoders use.
"""

from __future__ import annotations

import re

from suites.synthcaps.scene import Event, Scene

PHRASES: dict[str, tuple[str, str, str, str]] = {
    # source: (subject, 3rd-person verb phrase, -ing verb phrase, object-or-"")
    "dog_bark": ("a dog", "barks", "barking", ""),
    "cat_meow": ("a cat", "meows", "meowing", ""),
    "bird_chirp": ("a bird", "chirps", "chirping", ""),
    "siren": ("a siren", "wails", "wailing", ""),
    "engine": ("an engine", "hums", "humming", ""),
    "rain": ("rain", "falls", "falling", ""),
    "wind": ("wind", "blows", "blowing", ""),
    "bell": ("a bell", "rings", "ringing", ""),
    "beep": ("a device", "beeps", "beeping", ""),
    "clock_tick": ("a clock", "ticks", "ticking", ""),
    "knock": ("someone", "knocks", "knocking", "on a {material} door"),
    "whistle": ("someone", "whistles", "whistling", ""),
    "footsteps": ("someone", "walks", "walking", ""),
    "drum": ("someone", "plays", "playing", "a drum"),
}
MATERIAL_WORD = {"wood": "wooden", "metal": "metal", "none": ""}
LOUD_WORD = {"loud": "loudly", "quiet": "softly", "normal": ""}
SPEED_WORD = {"fast": "quickly", "slow": "slowly", "normal": ""}
PITCH_WORD = {"high": "in a high pitch", "low": "in a low pitch", "normal": ""}
FAR_WORD = {"far": "in the distance", "near": ""}
ROOM_WORD = {"indoor": "in a reverberant hall", "outdoor": "outdoors"}
SEQ = {"canonical": ", then ", "progressive": " and then ", "nominal": ", after which "}
BED = {"canonical": " while {}", "progressive": " as {}", "nominal": ", with {} in the background"}
STYLES = ("canonical", "progressive", "nominal")


def _mods(e: Event) -> str:
    adverbs = [w for w in (LOUD_WORD[e.loudness], SPEED_WORD[e.speed]) if w]
    parts = [" and ".join(adverbs)] if adverbs else []
    parts += [w for w in (PITCH_WORD[e.pitch], FAR_WORD[e.distance]) if w]
    return (" " + " ".join(parts)) if parts else ""


def event_phrase(e: Event, style: str) -> str:
    """One event as a clause in `style`."""
    subj, verb, ving, obj = PHRASES[e.source]
    obj = obj.format(material=MATERIAL_WORD[e.material])
    obj = (" " + obj) if obj else ""
    if style == "canonical":
        return f"{subj} {verb}{obj}{_mods(e)}"
    if style == "progressive":
        return f"{subj} is {ving}{obj}{_mods(e)}"
    if e.background:
        return f"{subj} {ving}{obj}{_mods(e)}"
    return f"the sound of {subj} {ving}{obj}{_mods(e)}"


def caption(scene: Scene, style: str = "canonical") -> str:
    """The caption of `scene` in one of STYLES."""
    if style not in STYLES:
        raise ValueError(f"unknown caption style {style!r}; use one of {STYLES}")
    text = SEQ[style].join(event_phrase(e, style) for e in scene.foreground)
    for bed in scene.background:
        text += BED[style].format(event_phrase(bed, style))
    if scene.room == "indoor" or scene.say_outdoor:
        text += " " + ROOM_WORD[scene.room]
    return text


def captions(scene: Scene) -> tuple[str, str, str]:
    """(canonical, progressive, nominal)."""
    return tuple(caption(scene, s) for s in STYLES)  # type: ignore[return-value]


_TOKEN = re.compile(r"[a-z\-]+")


def tokenize(text: str) -> list[str]:
    """Lower-case words (hyphens kept, punctuation dropped)."""
    return _TOKEN.findall(text.lower())


def vocabulary() -> tuple[str, ...]:
    """Every word the grammar can produce, plus <pad> and <unk> (index 0 and 1)."""
    words: set[str] = {"is", "the", "sound", "of", "with", "in", "background", "and"}
    tables = [MATERIAL_WORD, LOUD_WORD, SPEED_WORD, PITCH_WORD, FAR_WORD, ROOM_WORD, SEQ, BED]
    for table in tables:
        for v in table.values():
            words.update(tokenize(v))
    for phrase in PHRASES.values():
        for part in phrase:
            words.update(tokenize(part.replace("{material}", "")))
    return ("<pad>", "<unk>") + tuple(sorted(words))
