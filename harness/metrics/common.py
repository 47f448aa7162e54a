"""Wiring shared by the metric classes: item/path checks, backbone provenance, batch rows.

Metrics never pair clips by listing order: every value is keyed by `EvalItem.item_id`, and
backbone batches are mapped back through the indices the context yields.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict
from typing import Any

import numpy as np

from harness.errors import SabenchError
from harness.metrics.base import EvalItem, MetricContext
from harness.records import MetricInfo


def require_paths(items: Sequence[EvalItem], roles: Sequence[str], metric: str) -> list[tuple[str, tuple[str, ...]]]:
    """[(item_id, (path per role))]; a missing role or a duplicate id is a one-line error."""
    seen: set[str] = set()
    out = []
    for it in items:
        if it.item_id in seen:
            raise SabenchError(it.item_id, f"duplicate item id for metric {metric}", "make item ids unique")
        seen.add(it.item_id)
        paths: list[str] = []
        for role in roles:
            p = it.path(role)
            if not p:
                raise SabenchError(it.item_id, f"metric {metric} needs a {role} audio path",
                                   f"give the item a {role} or drop {metric} from the suite")
            paths.append(p)
        out.append((it.item_id, tuple(paths)))
    if not out:
        raise SabenchError(metric, "no items to score", "check the suite's prompts and limit")
    return out


def backbone_meta(ctx: MetricContext, name: str) -> dict[str, Any]:
    """Name, checkpoint sha256, sample rate and recipe of a loaded backbone (for results)."""
    info = ctx.backbone(name).info
    return {"backbone": info.name, "checkpoint_sha256": info.checkpoint_sha256,
            "sample_rate": info.sample_rate, "recipe_id": info.recipe.id(),
            "recipe": asdict(info.recipe), "version": info.version}


def metric_info(name: str, higher: bool, backbone: str | None, kind: str, preset: str,
                meta: dict[str, Any] | None = None) -> MetricInfo:
    """A MetricInfo; with `meta` (from backbone_meta) it carries the checkpoint sha and recipe id."""
    meta = meta or {}
    return MetricInfo(name=name, higher_is_better=higher, backbone=backbone,
                      backbone_checkpoint_sha256=meta.get("checkpoint_sha256"),
                      recipe=meta.get("recipe_id"), kind=kind, preset=preset)


def clip_rows(outputs: dict[str, np.ndarray], key: str, n: int, backbone: str) -> list[np.ndarray]:
    """Per-clip row blocks [(F_i, D)] from one batch of backbone outputs.

    Accepted layouts of `outputs[key]` for a batch of n clips:
      - (n, D) array: one row per clip (F_i = 1), whatever `n_frames` says;
      - (n, F, D) array, optionally with `outputs["n_frames"]` (n,) marking valid frames;
      - (sum F_i, D) array with `outputs["n_frames"]` (n,) (frames concatenated in order);
      - a list / object array of n arrays (F_i, D) (e.g. VGGish 0.96 s frames).
    """
    if key not in outputs:
        raise SabenchError(backbone, f"backbone gave no output {key!r} (has {sorted(outputs)})",
                           "pick an output name the backbone provides")
    v = outputs[key]
    counts = outputs.get("n_frames")
    if isinstance(v, (list, tuple)) or (isinstance(v, np.ndarray) and v.dtype == object):
        blocks = [np.atleast_2d(np.asarray(b, np.float64)) for b in v]  # exact sizes, no padding
    else:
        v = np.asarray(v, np.float64)
        if v.ndim == 3:
            blocks = [v[i, : int(counts[i])] if counts is not None else v[i] for i in range(v.shape[0])]
        elif v.ndim == 2 and v.shape[0] == n:  # one row per clip (n_frames, if any, is for another output)
            blocks = [v[i:i + 1] for i in range(n)]
        elif v.ndim == 2 and counts is not None:  # frames of the batch concatenated
            counts = np.asarray(counts, int)
            if len(counts) != n or int(counts.sum()) != v.shape[0]:
                raise SabenchError(backbone, f"n_frames {counts.tolist()} does not cover {v.shape[0]} rows",
                                   "n_frames must hold one frame count per clip")
            edges = np.concatenate([[0], np.cumsum(counts)])
            blocks = [v[edges[i]:edges[i + 1]] for i in range(n)]
        else:
            raise SabenchError(backbone, f"output {key!r} has shape {v.shape}", "return (B, D) or (B, F, D)")
    if len(blocks) != n:
        raise SabenchError(backbone, f"output {key!r} has {len(blocks)} clips for a batch of {n}",
                           "return one entry per input clip")
    return blocks


def iter_blocks(ctx: MetricContext, backbone: str, paths: Sequence[str], key: str
                ) -> Iterator[tuple[list[int], list[np.ndarray]]]:
    """Stream (indices, [(F_i, D) float64 blocks]) batch by batch from the context."""
    for indices, outputs in ctx.embed_audio(backbone, paths):
        yield list(indices), clip_rows(outputs, key, len(indices), backbone)


def per_clip_vectors(ctx: MetricContext, backbone: str, paths: Sequence[str], key: str) -> np.ndarray:
    """(N, D) float64: one vector per path (frame rows averaged), in `paths` order."""
    out: list[np.ndarray | None] = [None] * len(paths)
    for indices, blocks in iter_blocks(ctx, backbone, paths, key):
        for i, b in zip(indices, blocks, strict=True):
            out[i] = b.mean(axis=0)
    missing = [paths[i] for i, r in enumerate(out) if r is None]
    if missing:
        raise SabenchError(missing[0], f"{backbone} returned no {key!r} for {len(missing)} file(s)",
                           "check the embedding cache and the audio files")
    return np.stack([r for r in out if r is not None])  # (N, D): none is missing here


def slug(name: str) -> str:
    """A backbone name as an id fragment: "laion_clap:630k-audioset-best" -> "laion_clap_630k_audioset_best"."""
    return "".join(c if c.isalnum() else "_" for c in name.lower()).strip("_")


def unique_paths(paths: Sequence[str]) -> tuple[list[str], list[int]]:
    """(distinct paths in first-seen order, index of each input path in that list)."""
    pos: dict[str, int] = {}
    idx = [pos.setdefault(p, len(pos)) for p in paths]
    return list(pos), idx


def recipe_check(ctx: MetricContext, backbone: str, expected) -> dict[str, Any]:
    """Compare the backbone's recipe with the preset's expected one; report differing fields."""
    if expected is None:
        return {"preset_recipe_match": None}
    actual = asdict(ctx.backbone(backbone).info.recipe)
    diff = {k: {"preset": v, "backbone": actual.get(k)} for k, v in asdict(expected).items() if actual.get(k) != v}
    return {"preset_recipe_match": not diff, "preset_recipe_diff": diff}
