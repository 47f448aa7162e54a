"""Core records: frozen dataclasses that flow through the pipeline and into results.

SuiteSpec -> Prompt -> GenerationRequest / EditRequest -> System -> AudioSample
-> metrics -> ItemScore / Aggregate -> RunResult.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from harness import SCHEMA_VERSION
from harness.hashing import sha256_json


def _frozen_map(m: Mapping[str, Any] | None) -> tuple[tuple[str, Any], ...]:
    """Mappings are stored as sorted tuples so records stay hashable."""
    return tuple(sorted((m or {}).items()))


@dataclass(frozen=True)
class Prompt:
    """One benchmark row."""

    id: str
    """Unique within its suite; outputs are matched to prompts by this id, never by order."""
    text: str
    """The caption or prompt text (the target text for editing rows)."""
    duration: float = 10.0
    """Requested duration in seconds."""
    reference: str | None = None
    """Path of the reference audio (ground truth / reconstruction input / edit target), if any."""
    source: str | None = None
    """Editing rows: path of the source audio."""
    source_text: str | None = None
    """Editing rows: caption of the source audio (None = unknown, use null conditioning)."""
    tags: tuple[tuple[str, Any], ...] = ()
    """Free labels, e.g. (("category", "Sound Removal"),). Use `Prompt.tag()`."""

    def tag(self, name: str, default: Any = None) -> Any:
        return dict(self.tags).get(name, default)

    def with_tags(self, **tags: Any) -> Prompt:
        merged = dict(self.tags)
        merged.update(tags)
        return Prompt(self.id, self.text, self.duration, self.reference, self.source,
                      self.source_text, _frozen_map(merged))


@dataclass(frozen=True)
class SystemInfo:
    """Identity of a generator; its fingerprint is part of every generation cache key."""

    name: str
    version: str
    checkpoint_sha256: str
    """sha256 of the checkpoint file(s) (combined), or "none" for a checkpoint-free system."""
    sample_rate: int
    """Native output sample rate in Hz."""
    channels: int = 1
    parameters: tuple[tuple[str, Any], ...] = ()
    """Every knob that changes outputs (steps, CFG, variant ...)."""

    def fingerprint(self) -> str:
        return sha256_json(asdict(self))


@dataclass(frozen=True)
class GenerationRequest:
    """A prompt to render with one seed."""

    prompt: Prompt
    seed: int
    """Per-request seed, derived from (suite seed, prompt id, replicate); part of the key."""
    replicate: int = 0
    parameters: tuple[tuple[str, Any], ...] = ()

    def key(self, system: SystemInfo) -> str:
        """Cache key: what produced the audio (system, text, duration, seed, params, schema)."""
        return sha256_json({
            "kind": "generate", "system": system.fingerprint(), "text": self.prompt.text,
            "duration": self.prompt.duration, "seed": self.seed, "replicate": self.replicate,
            "parameters": list(self.parameters), "schema": SCHEMA_VERSION,
        })


@dataclass(frozen=True)
class EditRequest:
    """Edit `source` audio from `source_text` (None = unknown) towards `target_text`."""

    prompt: Prompt
    """The editing row (prompt.source, prompt.source_text, prompt.text = target)."""
    source_sha256: str
    """Content hash of the source audio file: part of the key."""
    seed: int
    parameters: tuple[tuple[str, Any], ...] = ()
    replicate: int = 0
    """Which replicate of the prompt (the seed already differs; named for folder systems)."""

    @property
    def source(self) -> str:
        assert self.prompt.source is not None
        return self.prompt.source

    @property
    def source_text(self) -> str | None:
        return self.prompt.source_text

    @property
    def target_text(self) -> str:
        return self.prompt.text

    def key(self, system: SystemInfo) -> str:
        return sha256_json({
            "kind": "edit", "system": system.fingerprint(), "source": self.source_sha256,
            "source_text": self.source_text, "target_text": self.target_text,
            "duration": self.prompt.duration, "seed": self.seed,
            "parameters": list(self.parameters), "schema": SCHEMA_VERSION,
        })


@dataclass(frozen=True)
class ReconstructRequest:
    """Encode and decode `prompt.reference` through a system."""

    prompt: Prompt
    source_sha256: str
    seed: int = 0
    replicate: int = 0
    """Which replicate of the prompt (the seed already differs; named for folder systems)."""

    def key(self, system: SystemInfo) -> str:
        return sha256_json({
            "kind": "reconstruct", "system": system.fingerprint(), "source": self.source_sha256,
            "seed": self.seed, "schema": SCHEMA_VERSION,
        })


@dataclass(frozen=True, eq=False)
class Audio:
    """An in-memory waveform."""

    samples: np.ndarray
    """(C, T) float32, nominally in [-1, 1]."""
    sample_rate: int

    @property
    def channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def frames(self) -> int:
        return int(self.samples.shape[1])

    @property
    def duration(self) -> float:
        return self.frames / float(self.sample_rate)


@dataclass(frozen=True)
class AudioSample:
    """One produced clip in the artifact store."""

    key: str
    """The request key that produced it."""
    path: str
    sample_rate: int
    channels: int
    frames: int
    sha256: str
    """sha256 of the stored file's bytes."""
    seconds: float = 0.0
    """Wall time spent producing it (informational; not part of any key)."""


@dataclass(frozen=True)
class AudioRecipe:
    """How `harness.audio` shapes audio for one consumer (backbone or metric).

    Every field changes numbers, so the whole recipe is recorded in results.
    """

    sample_rate: int
    mono: str = "mean"
    """Down-mix policy: "mean" (channel average) or "first" (first channel)."""
    resampler: str = "sinc_kaiser_best"
    """Resampler name; see `harness.audio.RESAMPLERS`."""
    length: str = "full"
    """"full", "pad_min" (zero-pad to min_seconds), "crop" (crop/pad to exactly max_seconds),
    "truncate" (keep at most max_seconds, never pad: av-benchmark)."""
    min_seconds: float = 0.0
    max_seconds: float = 0.0
    dc_remove: bool = False
    peak_normalize_db: float | None = None
    """Peak-normalise to this level in dBFS (e.g. -1.0) or None."""
    int16_roundtrip: bool = False
    """Quantise to int16 and back (what some toolkits' file paths do)."""
    dc_before_resample: bool = False
    """With dc_remove: subtract the mean before resampling (audioldm_eval) instead of after."""

    def as_dict(self) -> dict[str, Any]:
        """asdict without fields added later at their default, so older recipe ids and run ids
        (which hash this dict) are unchanged."""
        d = asdict(self)
        if not d["dc_before_resample"]:
            del d["dc_before_resample"]
        return d

    def id(self) -> str:
        return sha256_json(self.as_dict())[:16]


@dataclass(frozen=True)
class BackboneInfo:
    name: str
    checkpoint_sha256: str
    sample_rate: int
    recipe: AudioRecipe
    version: str = "1"
    device: str = "cpu"
    """Where the backbone runs (numerics may differ by device at float rounding level)."""


@dataclass(frozen=True)
class MetricInfo:
    """What a metric is; copied into every result."""

    name: str
    higher_is_better: bool
    backbone: str | None = None
    backbone_checkpoint_sha256: str | None = None
    recipe: str | None = None
    """Recipe id (or description) used to shape audio for this metric."""
    version: str = "1"
    kind: str = "item"
    """"item" (mean of per-item scores, bootstrap CI) or "set" (one statistic per run)."""
    preset: str = "sabench"
    """The metric-convention preset the run plan bound into this metric (`harness.metrics.presets`)."""
    backbone_version: str | None = None
    """The resolved backbone's `BackboneInfo.version` (None: no backbone, or a pre-plan result)."""
    backbone_device: str | None = None
    """Where the backbone ran (None: no backbone, or a pre-plan result)."""


@dataclass(frozen=True)
class ItemScore:
    item_id: str
    metric: str
    value: float


@dataclass(frozen=True)
class Aggregate:
    metric: str
    value: float
    ci_low: float | None = None
    ci_high: float | None = None
    n: int = 0
    extras: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Failure:
    item_id: str
    stage: str
    """"generate", "load", "metric:<name>" ..."""
    message: str


@dataclass(frozen=True)
class RunPlan:
    """A run's whole identity, fixed before any work (`harness.plan.build_plan`); `run_id` is its hash.

    Stored with the run (without the per-sample list, whose hash `samples_sha256` it keeps), so a
    report knows n, `--limit`, the backbones and everything else that produced the numbers."""

    suite: str
    suite_version: str
    profile: str
    task: str
    preset: str
    seed: int
    replicates: int
    limit: int | None
    """`--limit` (first N prompts in loader order), None for the whole suite."""
    n_prompts: int
    """Prompts in the plan (after `limit`)."""
    n_suite_prompts: int
    """Prompts the suite's loader returned (before `limit`)."""
    inputs: tuple[tuple[str, Any], ...]
    """How prompts were loaded: loader, its arguments, duration override."""
    system: SystemInfo
    metrics: tuple[MetricInfo, ...]
    """Final identities, backbones resolved and preset bound."""
    backbones: tuple[BackboneInfo, ...]
    samples_sha256: str
    """sha256 of [[item id, request key], ...] in plan order."""
    n_samples: int
    samples: tuple[Any, ...] = field(default=(), compare=False, repr=False)
    """The `harness.plan.PlannedSample`s (not stored; empty on a plan read back from the store)."""

    @property
    def n_items(self) -> int:
        """Items the plan asks for: prompts x replicates (items whose input is missing included)."""
        return self.n_prompts * self.replicates

    def to_dict(self) -> dict[str, Any]:
        """JSON-able identity (everything but the per-sample list)."""
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "samples"}
        d["system"] = asdict(self.system)
        d["metrics"] = [asdict(m) for m in self.metrics]
        d["backbones"] = [{**asdict(b), "recipe": b.recipe.as_dict()} for b in self.backbones]
        d["inputs"] = [[k, v] for k, v in self.inputs]
        return d

    @property
    def run_id(self) -> str:
        return sha256_json({"plan": self.to_dict(), "schema": SCHEMA_VERSION})[:20]

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RunPlan:
        d = dict(d)
        sysd = dict(d["system"])
        sysd["parameters"] = tuple(tuple(p) for p in sysd.get("parameters", ()))
        d["system"] = SystemInfo(**sysd)
        d["metrics"] = tuple(MetricInfo(**m) for m in d["metrics"])
        d["backbones"] = tuple(BackboneInfo(**{**b, "recipe": AudioRecipe(**b["recipe"])}) for b in d["backbones"])
        d["inputs"] = tuple((k, v) for k, v in d["inputs"])
        return cls(**d)


@dataclass(frozen=True)
class RunResult:
    """Everything a report needs about one (suite, system) run."""

    run_id: str
    suite: str
    suite_version: str
    profile: str
    """"mini" or "real": reports always name it."""
    system: SystemInfo
    metrics: tuple[MetricInfo, ...]
    aggregates: tuple[Aggregate, ...]
    items: tuple[ItemScore, ...] = ()
    failures: tuple[Failure, ...] = ()
    environment: tuple[tuple[str, Any], ...] = ()
    created: str = ""
    plan: RunPlan | None = None
    """The run plan (None only for results written before run plans existed, results schema 1)."""

    def aggregate(self, metric: str) -> Aggregate | None:
        for a in self.aggregates:
            if a.metric == metric:
                return a
        return None


def freeze(m: Mapping[str, Any] | None) -> tuple[tuple[str, Any], ...]:
    """Public helper: a mapping as a sorted tuple of pairs (for record fields)."""
    return _frozen_map(m)


__all__ = [
    "Prompt", "SystemInfo", "GenerationRequest", "EditRequest", "ReconstructRequest", "Audio",
    "AudioSample", "AudioRecipe", "BackboneInfo", "MetricInfo", "ItemScore", "Aggregate",
    "Failure", "RunPlan", "RunResult", "freeze",
]

