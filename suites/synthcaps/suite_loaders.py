"""Loaders of the four mini suites: thin wrappers over `suites.synthcaps.loaders` with the
harness loader signature (`function(**loader_args, data_root=...)`; the mini world renders
its own audio into the cache, so `data_root` is unused).

- `generation`: SynthCaps test clips, text = the canonical caption; with `min_foreground=2`
  only clips with at least two foreground events in temporal order (so every row can be
  scored for event order: the runner needs a score per item and order is undefined for a
  single event). The first `n` such clips of the split.
- `tta`: the same clips with text = a paraphrased caption (tag "caption_style": "paraphrase",
  "canonical" keeps the original), as TTA-Bench scores free-form prompts.
- `reconstruction`: the SynthCaps reconstruction split.
- `editing`: paired edits in the 14 categories with ground-truth targets.
"""

from __future__ import annotations

from harness.records import Prompt
from suites.synthcaps import loaders


def generation(split: str = "test", n: int | None = None, seed: int = 0, duration: float = 4.0,
               min_foreground: int = 0, data_root=None) -> list[Prompt]:
    if not min_foreground:
        return loaders.generation_prompts(split, n, seed, duration)
    rows = [p for p in loaders.generation_prompts(split, None, seed, duration)
            if len(p.tag("order", ())) >= min_foreground]
    return rows if n is None else rows[:n]


def tta(n: int | None = None, seed: int = 0, duration: float = 4.0, paraphrase: int = 0,
        data_root=None) -> list[Prompt]:
    """Test clips prompted with paraphrase number `paraphrase` (0 or 1) of their caption."""
    out = []
    for p in loaders.generation_prompts("test", n, seed, duration):
        alts = p.tag("paraphrases", ())
        text = alts[paraphrase] if len(alts) > paraphrase else p.text
        row = Prompt(p.id, text, p.duration, p.reference, p.source, p.source_text, p.tags)
        out.append(row.with_tags(caption_style="paraphrase", canonical=p.text))
    return out


def reconstruction(n: int | None = None, seed: int = 0, duration: float = 4.0, data_root=None) -> list[Prompt]:
    return loaders.reconstruction_prompts(n, seed, duration)


def editing(per_category: int = 4, seed: int = 0, duration: float = 4.0, data_root=None) -> list[Prompt]:
    return loaders.editing_prompts(per_category, seed, duration)
