"""`RunContext`: the runner's implementation of `MetricContext`.

Metrics ask the context for backbone outputs instead of loading models and audio
themselves. The context

- constructs each backbone from `BACKBONES` lazily, once, and `load()`s it (a backbone with
  `defers_load` whose checkpoint this cache saw load before is only `identify()`d: its model
  is built at the first cache miss, so a fully cached run never builds it);
- reads and shapes audio only through `harness.audio` (`load_many` with the backbone's
  recipe), in batches of `backbone.batch_size`;
- caches every clip's outputs in the `EmbeddingCache`, keyed by the file's content sha256
  and the backbone's `info` (name, checkpoint sha256, rate, recipe, version), so scoring
  the same audio again -- another metric, a resumed run, a re-scored folder -- is cheap;
- caches text embeddings the same way (keyed by the text's sha256).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from harness.hashing import sha256_file, sha256_text
from harness.progress import progress
from harness.records import AudioRecipe


class RunContext:
    """A `MetricContext` backed by the registry's backbones and an on-disk embedding cache.

    Args:
        profile: "mini" or "real" (metrics may choose backbones by profile).
        cache_dir: where the `EmbeddingCache` lives (default `cache_root()/embeddings`).
        backbone_args: optional constructor kwargs per backbone name.
        device: where backbones whose constructor takes `device` run (None: their default,
            the CPU); an explicit `device` in `backbone_args` wins.
    """

    def __init__(self, profile: str = "mini", cache_dir: str | Path | None = None,
                 backbone_args: dict[str, dict[str, Any]] | None = None, device: str | None = None,
                 show: bool = True):
        from harness.artifacts import EmbeddingCache
        from harness.paths import cache_root

        self.profile = profile
        self.cache = EmbeddingCache(Path(cache_dir) if cache_dir else cache_root() / "embeddings")
        self._backbone_args = dict(backbone_args or {})
        self.device = device
        self.show = show
        """Report embedding progress (`harness.progress`; the runner's `progress` flag)."""
        self._backbones: dict[str, Any] = {}
        self._file_sha: dict[tuple[str, int, int], str] = {}
        self.prefetch: Any = None
        """An executor's remote embedder (`harness.executors.ray`): `prefetch(ctx, bb, paths, step)`
        is told every batch's cache misses of one `embed_audio` call up front and returns
        `take(start, missing_paths) -> outputs`; None embeds here, batch by batch."""
        self.stats = {"audio_hits": 0, "audio_misses": 0, "text_hits": 0, "text_misses": 0}
        """Cache counters (tests and `--verbose` summaries read them)."""

    # -- backbones --------------------------------------------------------------------------
    def backbone(self, name: str) -> Any:
        """The loaded backbone registered as `name` (constructed and loaded once).

        `base:arg` (when not registered itself) constructs `BACKBONES[base](arg)`, e.g.
        "laion_clap:630k-audioset-best" -> the LAION-CLAP factory with that checkpoint.
        """
        if name not in self._backbones:
            from harness.backbones.base import Backbone
            from harness.registry import BACKBONES, load_catalog

            load_catalog()
            base, _, arg = name.partition(":")  # "laion_clap:630k-audioset-best" -> factory("630k-...")
            entry = BACKBONES.get(name if (name in BACKBONES or not arg) else base)
            kwargs = dict(self._backbone_args.get(name, {}))
            if isinstance(entry, Backbone):
                obj = entry
            else:
                if self.device is not None and "device" not in kwargs and _takes_device(entry):
                    kwargs["device"] = self.device
                obj = entry(arg, **kwargs) if (arg and name not in BACKBONES) else entry(**kwargs)
            self._load_or_defer(obj)
            self._backbones[name] = obj
        return self._backbones[name]

    def _load_or_defer(self, bb: Any) -> None:
        """`bb.load()`, unless `bb.defers_load` and this cache records that the same checkpoint
        (same `info`: sha256, version, recipe, device) loaded before: then only `identify()`, and
        `embed` loads the model at its first cache miss (a fully cached run never builds it).
        A first load still fails here, at planning, for a corrupt checkpoint."""
        if not getattr(bb, "defers_load", False):
            bb.load()
            return
        bb.identify()
        marker = self.cache.key(sha256_text("backbone-loaded"), bb.info)
        if self.cache.get(marker) is None:
            bb.load()
            self.cache.put(marker, {"loaded": np.ones(1, np.int8)})

    # -- audio ------------------------------------------------------------------------------
    def embed_audio(self, backbone: str, paths: Sequence[str]) -> Iterator[tuple[list[int], dict[str, np.ndarray]]]:
        """Yield (indices into `paths`, {output: (len(indices), ...)}) batch by batch, in order.

        Cached clips are served from the cache; the rest are shaped with the backbone's
        recipe and embedded in one `embed` call per batch.
        """
        bb = self.backbone(backbone)
        info = bb.info
        step = max(1, int(bb.batch_size))
        starts = range(0, len(paths), step)  # per-item progress: each start stands for its batch
        take = self.prefetch(self, bb, paths, step) if self.prefetch is not None else None
        for start in progress(starts, total=len(paths), desc=f"embed {backbone}", show=self.show,
                              size=lambda s: min(step, len(paths) - s)):
            idx = list(range(start, min(start + step, len(paths))))
            keys = [self.cache.key(self.file_sha256(paths[i]), info) for i in idx]
            rows: list[dict[str, np.ndarray] | None] = [self.cache.get(k) for k in keys]
            todo = [j for j, r in enumerate(rows) if r is None]
            self.stats["audio_hits"] += len(idx) - len(todo)
            self.stats["audio_misses"] += len(todo)
            if todo:
                missing = [paths[idx[j]] for j in todo]
                fresh = take(start, missing) if take is not None else self._embed_isolating(bb, missing)
                for j, out in zip(todo, fresh, strict=True):
                    self.cache.put(keys[j], out)
                    rows[j] = out
            yield idx, _stack(rows)  # each output: (len(idx), ...)

    def _embed_isolating(self, bb: Any, paths: list[str]) -> list[dict[str, np.ndarray]]:
        """`_embed_paths`, and when the batch fails, clip by clip to find the culprit.

        A clip that fails alone raises `ClipError` naming its path, after the good clips of
        the batch are cached (so the metric's retry without the bad item reuses them). When
        every clip fails alone and none with an `AudioError` (including a lone clip failing
        with another error), the backbone itself is at fault: the original error is raised.
        If the batch fails but every clip embeds alone, those outputs are used.
        """
        from harness.errors import AudioError
        from harness.isolation import ClipError

        try:
            return self._embed_paths(bb, paths)
        except ClipError:
            raise
        except Exception as exc:  # noqa: BLE001 -- re-raised unless a clip is to blame
            if len(paths) == 1 and not isinstance(exc, AudioError):
                raise
            first = exc
        rows: list[dict[str, np.ndarray]] = []
        problems: dict[str, str] = {}
        audio_faults = 0
        for p in paths:
            try:
                (row,) = self._embed_paths(bb, [p])
            except Exception as exc:  # noqa: BLE001 -- blamed on this clip below
                problems[p] = _clip_problem(p, exc)
                audio_faults += isinstance(exc, AudioError)
                continue
            rows.append(row)
            self.cache.put(self.cache.key(self.file_sha256(p), bb.info), row)
        if len(problems) == len(paths) and not audio_faults:
            raise first
        if problems:
            raise ClipError(problems, bb.name) from first
        return rows

    def _embed_paths(self, bb: Any, paths: list[str]) -> list[dict[str, np.ndarray]]:
        from harness import audio

        waves = audio.load_many(paths, bb.recipe)  # list of (T_i,) float32 @ recipe.sample_rate
        return split_outputs(bb.embed(waves), len(paths), bb.name)

    def file_sha256(self, path: str) -> str:
        """Content sha256 of a file, memoised by (path, size, mtime)."""
        st = os.stat(path)
        memo = (str(path), st.st_size, st.st_mtime_ns)
        if memo not in self._file_sha:
            self._file_sha[memo] = sha256_file(path)
        return self._file_sha[memo]

    def load_audio(self, path: str, recipe: AudioRecipe) -> np.ndarray:
        """A mono float32 (T,) waveform at `recipe.sample_rate`, shaped by `recipe`."""
        from harness import audio
        from harness.isolation import ClipError

        try:
            return audio.load(path, recipe)
        except audio.AudioError as exc:  # this clip fails alone (harness.isolation)
            raise ClipError({str(path): _clip_problem(str(path), exc)}) from exc

    # -- text -------------------------------------------------------------------------------
    def embed_text(self, backbone: str, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), D) text embeddings, cached per text (key: sha256 of "text:" + text)."""
        bb = self.backbone(backbone)
        info = bb.info
        keys = [self.cache.key(sha256_text("text:" + t), info) for t in texts]
        rows: list[np.ndarray | None] = []
        for k in keys:
            hit = self.cache.get(k)
            rows.append(None if hit is None else hit["text"])
        todo = [i for i, r in enumerate(rows) if r is None]
        self.stats["text_hits"] += len(texts) - len(todo)
        self.stats["text_misses"] += len(todo)
        step = max(1, int(bb.batch_size))
        for s in range(0, len(todo), step):
            chunk = todo[s:s + step]
            emb = np.asarray(bb.embed_text([texts[i] for i in chunk]))  # (len(chunk), D)
            for i, row in zip(chunk, emb, strict=True):
                self.cache.put(keys[i], {"text": np.asarray(row)})
                rows[i] = np.asarray(row)
        if not rows:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([r for r in rows if r is not None])  # (len(texts), D): every row is filled above


def split_outputs(outputs: dict[str, Any], n: int, backbone: str) -> list[dict[str, np.ndarray]]:
    """One batch's backbone outputs -> one dict per clip (what the cache stores).

    Layouts (the ones `harness.metrics.common.clip_rows` reads):
      - leading dimension n: row i (a 3-D (n, F, D) output is trimmed to `n_frames[i]` frames,
        so a clip's cached value never depends on what it was batched with);
      - (sum F_i, D) with `n_frames` (n,): frames of the batch concatenated in order;
      - a list / object array of n arrays.
    """
    from harness.errors import SabenchError

    counts = outputs.get("n_frames")
    counts = None if counts is None else np.asarray(counts).astype(int).reshape(-1)
    clips: list[dict[str, np.ndarray]] = [{} for _ in range(n)]
    for name, v in outputs.items():
        if isinstance(v, (list, tuple)) or (isinstance(v, np.ndarray) and v.dtype == object):
            rows = [np.asarray(x) for x in v]
        else:
            v = np.asarray(v)
            if v.ndim >= 1 and v.shape[0] == n:
                rows = [v[i, : counts[i]] if (v.ndim == 3 and counts is not None and name != "n_frames") else v[i]
                        for i in range(n)]
            elif v.ndim == 2 and counts is not None and int(counts.sum()) == v.shape[0]:
                edges = np.concatenate([[0], np.cumsum(counts)])
                rows = [v[edges[i]:edges[i + 1]] for i in range(n)]
            else:
                rows = []
        if len(rows) != n:
            raise SabenchError(backbone, f"output {name!r} does not give one entry per clip for a batch of {n}",
                               "return (B, ...) arrays, or frames with n_frames")
        for clip, row in zip(clips, rows, strict=True):
            clip[name] = np.asarray(row)
    return clips


def _stack(rows: list[dict[str, np.ndarray] | None]) -> dict[str, np.ndarray]:
    """Per-clip dicts -> batch arrays (B, ...). Rows of different shapes are zero-padded to
    (B, F_max, ...) when `n_frames` marks the valid part, else given as an object array."""
    done = [r for r in rows if r is not None]
    out: dict[str, np.ndarray] = {}
    for k in (done[0].keys() if done else ()):
        parts = [r[k] for r in done]
        if len({p.shape for p in parts}) == 1:
            out[k] = np.stack(parts)
        elif "n_frames" in done[0] and len({p.ndim for p in parts}) == 1:
            shape = tuple(max(s) for s in zip(*(p.shape for p in parts), strict=True))
            padded = np.zeros((len(parts), *shape), dtype=np.result_type(*parts))
            for i, p in enumerate(parts):
                padded[(i, *(slice(0, d) for d in p.shape))] = p
            out[k] = padded
        else:
            arr = np.empty(len(parts), dtype=object)
            for i, p in enumerate(parts):
                arr[i] = p
            out[k] = arr
    return out


__all__ = ["RunContext", "split_outputs"]


def _clip_problem(path: str, exc: BaseException) -> str:
    """One line about a clip that failed alone, naming the clip's file."""
    from harness.errors import SabenchError, describe

    text = exc.problem if isinstance(exc, SabenchError) else describe(exc)
    return text if str(path) in text else f"clip {path}: {text}"


def _takes_device(factory: Any) -> bool:
    """Whether a backbone class/factory accepts a `device` keyword."""
    import inspect

    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return False
    return "device" in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
