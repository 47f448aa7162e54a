"""Suite loaders: SynthCaps rows as `harness.records.Prompt`s with audio written to the cache.

Audio goes to `cache_root()/synthcaps/<corpus id>/<split>/<clip id>.wav` (float32 WAV,
16 kHz mono, written atomically by `harness.audio.write`; an existing file is reused since
rendering is deterministic from the corpus id). Every prompt carries tags:

- "split", "events" (sources in caption order), "order" (foreground sources by onset),
  "scene" (the scene as JSON: `Scene.from_json`), "paraphrases";
- editing rows also "category", "edit", "source_scene".
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from harness.records import Audio, Prompt
from suites.synthcaps.corpus import Clip, CorpusConfig, clips
from suites.synthcaps.dsp import SR
from suites.synthcaps.editing import CATEGORIES, EditPair, edit_pairs
from suites.synthcaps.render import render
from suites.synthcaps.scene import Scene


def corpus_dir(config: CorpusConfig, cache_dir: str | Path | None = None) -> Path:
    """Folder of one corpus config's cached audio."""
    if cache_dir is None:
        from harness.paths import cache_root
        cache_dir = cache_root()
    return Path(cache_dir) / "synthcaps" / config.id()


def _write(path: Path, scene: Scene) -> str:
    if not path.exists():
        from harness import audio as haudio
        path.parent.mkdir(parents=True, exist_ok=True)
        wave = render(scene).audio                                 # (T,) @ 16 kHz
        haudio.write(path, Audio(np.asarray(wave, np.float32)[None, :], SR))
    return str(path)


def _scene_tags(scene: Scene) -> dict:
    return {"events": scene.sources(), "order": tuple(e.source for e in scene.foreground),
            "scene": scene.to_json()}


def _clip_prompt(c: Clip, folder: Path, duration: float) -> Prompt:
    ref = _write(folder / c.split / f"{c.id}.wav", c.scene)
    p = Prompt(id=c.id, text=c.caption, duration=duration, reference=ref)
    return p.with_tags(split=c.split, paraphrases=c.paraphrases, **_scene_tags(c.scene))


def generation_prompts(split: str = "test", n: int | None = None, seed: int = 0,
                       duration: float = 4.0, cache_dir: str | None = None) -> list[Prompt]:
    """Text-to-audio rows: text = canonical caption, reference = the rendered clip."""
    config = CorpusConfig(seed=seed, duration=duration)
    folder = corpus_dir(config, cache_dir)
    return [_clip_prompt(c, folder, duration) for c in clips(config, split, n)]


def reconstruction_prompts(n: int | None = None, seed: int = 0, duration: float = 4.0,
                           cache_dir: str | None = None) -> list[Prompt]:
    """Reconstruction rows: reference = the clip to encode and decode."""
    return generation_prompts("reconstruction", n, seed, duration, cache_dir)


def _pair_prompt(p: EditPair, folder: Path, duration: float) -> Prompt:
    src = _write(folder / "editing" / f"{p.id}-source.wav", p.source)
    tgt = _write(folder / "editing" / f"{p.id}-target.wav", p.target)
    row = Prompt(id=p.id, text=p.target_caption, duration=duration, reference=tgt, source=src,
                 source_text=p.source_caption)
    return row.with_tags(split="editing", category=p.category, edit=p.edit,
                         source_scene=p.source.to_json(), **_scene_tags(p.target))


def editing_prompts(per_category: int = 10, seed: int = 0, duration: float = 4.0,
                    categories: list[str] | None = None, cache_dir: str | None = None
                    ) -> list[Prompt]:
    """Paired editing rows in the 14 categories: source + source caption, target caption
    (`text`) and the ground-truth target audio (`reference`)."""
    config = CorpusConfig(seed=seed, duration=duration)
    folder = corpus_dir(config, cache_dir)
    cats = tuple(categories) if categories else CATEGORIES
    return [_pair_prompt(p, folder, duration) for p in edit_pairs(per_category, seed, duration, cats)]
