"""The rule table that proposes minimal caption edits (no language model).

Three kinds of rule, each tied to one of the 14 categories of the SemanticAudio editing
benchmark (paper Appendix B, Table 6):

- `Sub`: replace one word or phrase (word boundaries, case of the first letter kept);
- `Drop`: remove the last conjoined sound clause ("X followed by Y" -> "X");
- `Add`: append a clause (a sound, or a place) picked deterministically from a list by a hash
  of the caption, skipping options whose key word the caption already has.

Rules are tried in table order; a caption yields at most one candidate per category (the
first rule that applies). Changing this table changes the benchmark: bump `RULES_VERSION`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.hashing import sha256_text

RULES_VERSION = "1"

CATEGORIES = (
    "Sound Removal", "Subject Replace", "Other Replace", "Action Replace", "Weather Change",
    "Event Replace", "Sound Addition", "Intensity Change", "Material Change", "Spatial Change",
    "Vehicle Replace", "Atmosphere Change", "Environment Add", "Temporal Change",
)
"""The paper's 14 categories, in its Table 6 order."""

PAPER_COUNTS = {
    "Sound Removal": 22, "Subject Replace": 31, "Other Replace": 18, "Action Replace": 7,
    "Weather Change": 22, "Event Replace": 16, "Sound Addition": 18, "Intensity Change": 6,
    "Material Change": 6, "Spatial Change": 6, "Vehicle Replace": 12, "Atmosphere Change": 12,
    "Environment Add": 14, "Temporal Change": 10,
}
"""Pairs per category in the paper's 200-pair set (Table 6); sums to 200."""


def slug(category: str) -> str:
    """'Sound Removal' -> 'sound_removal' (used in prompt ids)."""
    return category.lower().replace(" ", "_")


@dataclass(frozen=True)
class Sub:
    category: str
    old: str
    """A regex matched with word boundaries, case-insensitively."""
    new: str

    def apply(self, caption: str) -> str | None:
        m = re.search(rf"\b{self.old}\b", caption, flags=re.IGNORECASE)
        if m is None:
            return None
        new = self.new[:1].upper() + self.new[1:] if m.group(0)[:1].isupper() else self.new
        return _article(caption[:m.start()], new) + new + caption[m.end():]


def _article(before: str, word: str) -> str:
    """Make a trailing indefinite article agree with the word that now follows it."""
    m = re.search(r"\b([Aa])(n?) $", before)
    if m is None:
        return before
    an = word[:1].lower() in "aeiou"
    return before[:m.start()] + m.group(1) + ("n" if an else "") + " "


_CLAUSE = re.compile(r"(,?\s+(?:and then|followed by|while|then|and|as)\s+)"
                     r"(?!.*\b(?:and then|followed by|while|then|and|as)\s)(.+)$",
                     flags=re.IGNORECASE)


@dataclass(frozen=True)
class Drop:
    category: str = "Sound Removal"
    min_words_left: int = 2

    def apply(self, caption: str) -> str | None:
        m = _CLAUSE.search(caption.rstrip(". "))
        if m is None:
            return None
        kept = caption[:m.start()].rstrip(" ,")
        return kept if len(kept.split()) >= self.min_words_left else None


@dataclass(frozen=True)
class Add:
    category: str
    options: tuple[tuple[str, str], ...]
    """(clause to append, key word that must not already be in the caption)."""
    unless: str = r"$^"
    """Regex: skip captions that already match (e.g. an existing place phrase)."""

    def apply(self, caption: str) -> str | None:
        if re.search(self.unless, caption, flags=re.IGNORECASE):
            return None
        usable = [(c, k) for c, k in self.options if k.lower() not in caption.lower()]
        if not usable:
            return None
        clause = usable[int(sha256_text(caption)[:8], 16) % len(usable)][0]
        return caption.rstrip(" .") + " " + clause


def _subs(category: str, pairs: str) -> list[Sub]:
    """'old>new; old2>new2' -> Sub rules."""
    out = []
    for pair in pairs.split(";"):
        old, new = (s.strip() for s in pair.split(">"))
        out.append(Sub(category, old, new))
    return out


RULES: tuple[Sub | Drop | Add, ...] = tuple([
    Drop(),
    *_subs("Subject Replace", "man>woman; woman>man; men>women; women>men; boy>girl; girl>boy; "
                              "male>female; female>male; dog>cat; cat>dog; children>adults; "
                              "child>man; baby>puppy"),
    *_subs("Other Replace", "bell>gong; telephone>doorbell; phone>alarm clock; door>drawer; "
                            "clock>metronome; keyboard>typewriter; guitar>piano; drum>cymbal; "
                            "whistle>bell; horn>whistle; toilet>sink; hammer>saw"),
    *_subs("Action Replace", "speaking>singing; speaks>sings; talking>shouting; talks>shouts; "
                             "laughing>crying; laughs>cries; crying>laughing; cries>laughs; "
                             "barking>growling; barks>growls; walking>running; singing>speaking; "
                             "shouting>whispering; whistling>humming"),
    *_subs("Weather Change", "rain>hail; raining>hailing; rainfall>snowfall; thunderstorm>hailstorm; "
                             "thunder>heavy wind; wind>rain; windy>rainy"),
    *_subs("Event Replace", "siren>alarm; sirens>alarms; explosion>gunshot; explosions>gunshots; "
                            "gunshots>explosions; gunshot>explosion; gunfire>fireworks; applause>cheering; "
                            "snoring>coughing; coughing>sneezing; sneezing>coughing; typing>writing"),
    Add("Sound Addition", (("while a dog barks", "dog"), ("as birds chirp", "bird"),
                           ("while a bell rings", "bell"), ("with a siren wailing", "siren"),
                           ("while a baby cries", "baby"), ("as a car horn honks", "horn"))),
    *_subs("Intensity Change", "loud>quiet; loudly>softly; quiet>loud; quietly>loudly; softly>loudly; "
                               "faint>loud; faintly>loudly; heavy>light; heavily>lightly; hard>gently; "
                               "gently>hard; strong>gentle; powerful>weak"),
    *_subs("Material Change", "wooden>metal; wood>metal; metallic>wooden; metal>wood; glass>plastic; "
                              "plastic>glass; paper>plastic; ceramic>glass; gravel>sand; stone>wood"),
    *_subs("Spatial Change", "in the distance>nearby; nearby>in the distance; in the background>in the "
                             "foreground; in the foreground>in the background; far away>up close; "
                             "close by>far away; distant>nearby; from a distance>from close by"),
    *_subs("Vehicle Replace", "car>truck; cars>trucks; truck>bus; trucks>buses; bus>truck; motorcycle>car; "
                              "motorbike>car; train>tram; airplane>helicopter; aircraft>helicopter; "
                              "helicopter>airplane; boat>jet ski; motorboat>jet ski; jet>helicopter; "
                              "vehicle>motorcycle; vehicles>motorcycles"),
    *_subs("Atmosphere Change", "crowd>tense crowd; music>eerie music; echoing>muffled; echoes>muffled sounds; "
                                "echo>muffled sound; static>eerie static; humming>eerie humming; "
                                "hums>hums eerily; hum>eerie hum"),
    Add("Environment Add", (("in a large church", "church"), ("in a forest", "forest"),
                            ("on a busy street", "street"), ("in a small kitchen", "kitchen"),
                            ("inside a tunnel", "tunnel"), ("in a stadium", "stadium"),
                            ("in a parking garage", "garage")),
        unless=r"\b(in|on|at|inside|outside|outdoors|indoors) (a|an|the)\b"),
    *_subs("Temporal Change", "followed by>preceded by; repeatedly>once; several times>once; "
                              "continuously>intermittently; intermittently>continuously; "
                              "briefly>continuously; constantly>occasionally; constant>intermittent; "
                              "periodically>continuously; twice>once; once>repeatedly"),
])
"""The table, in the order tried. Every category has at least one rule."""

assert {r.category for r in RULES} == set(CATEGORIES)
