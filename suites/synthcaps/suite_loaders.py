"""The mini suites' prompts: SynthCaps rows as `harness.records.Prompt`s, audio rendered into
the cache. One module: the four suite loaders, then the row builders they wrap.

Suite loaders (named by `suites/synthcaps/suites/*.yaml`; harness signature
`function(**loader_args, data_root=...)`, `data_root` unused: the world renders its own audio):

- `generation`: SynthCaps test clips, text = the canonical caption; with `min_foreground=2`
  only clips with at least two foreground events in temporal order (so every row can be
  scored for event order: the runner needs a score per item and order is undefined for a
  single event). The first `n` such clips of the split.
- `tta`: the same clips with text = a paraphrased caption (tag "caption_style": "paraphrase",
  "canonical" keeps the original), as TTA-Bench scores free-form prompts.
- `reconstruction`: the SynthCaps reconstruction split.
- `editing`: paired edits in the 14 categories with ground-truth targets.

Row builders (`generation_prompts`, `reconstruction_prompts`, `editing_prompts`) take a
`cache_dir` instead of `data_root`. Audio goes to
`cache_root()/synthcaps/<corpus id>/<split>/<clip id>.wav` (float32 WAV, 16 kHz mono, written
atomically by `harness.audio.write`). Next to each clip, `<clip id>.wav.sha256.json` records
the file's sha256 and the hash of the scene it renders, written after the clip. A cached clip
is reused only when both match (the file is hashed on every reuse); otherwise -- replaced,
edited, truncated, or a sidecar missing after a killed write -- it is re-rendered (rendering
is deterministic) with a warning naming the file, so a swapped reference can never move FD/KL
silently. Every prompt carries tags:

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


def generation(split: str = "test", n: int | None = None, seed: int = 0, duration: float = 4.0,
               min_foreground: int = 0, data_root=None) -> list[Prompt]:
    if not min_foreground:
        return generation_prompts(split, n, seed, duration)
    rows = [p for p in generation_prompts(split, None, seed, duration)
            if len(p.tag("order", ())) >= min_foreground]
    return rows if n is None else rows[:n]


def tta(n: int | None = None, seed: int = 0, duration: float = 4.0, paraphrase: int = 0,
        data_root=None) -> list[Prompt]:
    """Test clips prompted with paraphrase number `paraphrase` (0 or 1) of their caption."""
    out = []
    for p in generation_prompts("test", n, seed, duration):
        alts = p.tag("paraphrases", ())
        text = alts[paraphrase] if len(alts) > paraphrase else p.text
        row = Prompt(p.id, text, p.duration, p.reference, p.source, p.source_text, p.tags)
        out.append(row.with_tags(caption_style="paraphrase", canonical=p.text))
    return out


def reconstruction(n: int | None = None, seed: int = 0, duration: float = 4.0, data_root=None) -> list[Prompt]:
    return reconstruction_prompts(n, seed, duration)


def editing(per_category: int = 4, seed: int = 0, duration: float = 4.0, data_root=None) -> list[Prompt]:
    return editing_prompts(per_category, seed, duration)


# ----------------------------------------------------------------------------- row builders

def corpus_dir(config: CorpusConfig, cache_dir: str | Path | None = None) -> Path:
    """Folder of one corpus config's cached audio."""
    if cache_dir is None:
        from harness.paths import cache_root
        cache_dir = cache_root()
    return Path(cache_dir) / "synthcaps" / config.id()


def _write(path: Path, scene: Scene) -> str:
    """The clip of `scene` at `path`: reused when its sha256 sidecar matches, else rendered."""
    import json
    import warnings

    from harness.hashing import sha256_file
    from harness.paths import atomic_write_bytes

    side = path.with_name(path.name + ".sha256.json")
    want = scene_digest(scene)
    if path.exists():
        problem = _cache_problem(path, side, want)
        if not problem:
            return str(path)
        warnings.warn(f"{path}: cached SynthCaps clip {problem}; re-rendering it", stacklevel=2)
    from harness import audio as haudio
    path.parent.mkdir(parents=True, exist_ok=True)
    wave = render(scene).audio                                     # (T,) @ 16 kHz
    haudio.write(path, Audio(np.asarray(wave, np.float32)[None, :], SR))
    doc = {"sha256": sha256_file(path), "scene": want}
    atomic_write_bytes(side, (json.dumps(doc, sort_keys=True) + "\n").encode())
    return str(path)


def scene_digest(scene: Scene) -> str:
    """What a cached clip must have been rendered from (scene + corpus generator version)."""
    from harness.hashing import sha256_json
    from suites.synthcaps.corpus import SCHEMA

    return sha256_json({"scene": scene.to_json(), "schema": SCHEMA})


def _cache_problem(path: Path, side: Path, want: str) -> str:
    """Why the cached clip at `path` cannot be reused ("" when it can)."""
    import json

    from harness.hashing import sha256_file

    try:
        doc = json.loads(side.read_text())
        stored, scene = str(doc["sha256"]), str(doc["scene"])
    except FileNotFoundError:
        return "has no sha256 record (written by an older version, or the write was interrupted)"
    except (OSError, ValueError, KeyError, TypeError):
        return "has an unreadable sha256 record"
    if scene != want:
        return "was rendered from a different scene"
    got = sha256_file(path)
    if got != stored:
        return f"does not match its sha256 record ({got[:12]} != {stored[:12]}: replaced or corrupted)"
    return ""


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
