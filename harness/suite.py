"""Suite specs: a versioned benchmark definition loaded from `suites/<name>/suite.yaml`.

A suite names its task (generate | edit | reconstruct), its profile (mini | real), the
prompt loader ("module:function" returning `list[Prompt]`), the metrics to compute, the
base seed, the number of replicates, and optional duration / batch-size overrides.

    name: audiocaps-957
    version: "1"
    task: generate
    profile: real
    loader: suites.audiocaps.loader:load_prompts
    loader_args: {split: test}
    metrics: [fd_panns, {name: clap_score, args: {preset: sabench}}]
    seed: 0
    replicates: 1

Loading is strict: an unknown key is an error naming the key and the file, so a typo
(`replicate: 5`) can never silently change nothing.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import ManifestError, SabenchError
from harness.records import Prompt, freeze

TASKS = ("generate", "edit", "reconstruct")
PROFILES = ("mini", "real")
_REQUIRED = ("name", "version", "task", "profile", "loader")
_OPTIONAL = ("description", "loader_args", "metrics", "seed", "replicates", "duration",
             "batch_size", "reference", "preset")


@dataclass(frozen=True)
class MetricSpec:
    """One metric of a suite: a `METRICS` registry name and its factory arguments."""

    name: str
    args: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class SuiteSpec:
    """A benchmark definition. Every field that changes numbers is part of the run id."""

    name: str
    version: str
    task: str
    """"generate", "edit" or "reconstruct"."""
    profile: str
    """"mini" (the embedded SynthCaps world) or "real" (user weights and data)."""
    loader: str
    """"module:function" called as `function(**loader_args, data_root=data_root)`."""
    loader_args: tuple[tuple[str, Any], ...] = ()
    metrics: tuple[MetricSpec, ...] = ()
    seed: int = 0
    """Base seed; each request's seed is `derive_seed(seed, prompt.id, replicate)`."""
    replicates: int = 1
    """Generations per prompt (distinct seeds); items are named `<id>#r<k>` when > 1."""
    duration: float | None = None
    """If set, the requested duration (s) of every prompt, replacing the loader's value."""
    batch_size: int | None = None
    """If set, caps the system's batch size for this suite."""
    description: str = ""
    reference: str | None = None
    """Free text: how references are found (informational)."""
    preset: str = "sabench"
    """Metric-convention preset (`harness.metrics.presets`): backbone recipes and checkpoints."""
    source_file: str = field(default="", compare=False)
    """The YAML file this spec was loaded from (not part of its identity)."""

    def prompts(self, data_root: str | Path | None = None) -> list[Prompt]:
        """Call the loader and check ids: unique and non-empty (error names the duplicate)."""
        fn = _import_target(self.loader, f"suite {self.name} loader")
        prompts = list(fn(**dict(self.loader_args), data_root=data_root))
        if self.duration is not None:
            prompts = [_with_duration(p, float(self.duration)) for p in prompts]
        check_prompt_ids(prompts, f"suite {self.name}")
        return prompts


def _with_duration(p: Prompt, duration: float) -> Prompt:
    return Prompt(p.id, p.text, duration, p.reference, p.source, p.source_text, p.tags)


def check_prompt_ids(prompts: list[Prompt], where: str) -> None:
    """Raise `ManifestError` on an empty or duplicate prompt id (naming it)."""
    seen: set[str] = set()
    for i, p in enumerate(prompts):
        if not isinstance(p, Prompt):
            raise SabenchError(where, f"loader row {i} is a {type(p).__name__}, not a Prompt",
                               "return harness.records.Prompt objects from the loader")
        if not isinstance(p.id, str) or not p.id.strip():
            raise ManifestError(f"{where} row {i}", "empty prompt id", "give every prompt a non-empty id")
        if p.id in seen:
            raise ManifestError(f"{where} prompt id {p.id!r}", "duplicate prompt id",
                                "make prompt ids unique (outputs are matched by id)")
        seen.add(p.id)


def load_prompt_file(path: str, data_root: str | Path | None = None, duration: float = 10.0) -> list[Prompt]:
    """A generic loader: prompts from a JSON list or JSON Lines file.

    Each row: {"id", "text"} plus optional "duration", "reference", "source", "source_text",
    "tags" (mapping). A relative `path` is taken under `data_root` when given; relative audio
    paths are taken under the prompt file's folder. Use as `loader: harness.suite:load_prompt_file`.
    """
    import json

    p = Path(path) if data_root is None or Path(path).is_absolute() else Path(data_root) / path
    if not p.is_file():
        raise ManifestError(str(p), "prompt file not found", "check loader_args.path (and --data)")
    text = p.read_text(encoding="utf-8")
    try:
        rows = json.loads(text) if p.suffix == ".json" else [json.loads(x) for x in text.splitlines() if x.strip()]
    except json.JSONDecodeError as exc:
        raise ManifestError(f"{p} line {exc.lineno}", f"invalid JSON ({exc.msg})", "fix the prompt file") from None
    base = p.parent
    out = []
    for i, r in enumerate(rows):
        if not isinstance(r, dict) or "id" not in r or "text" not in r:
            raise ManifestError(f"{p} row {i}", "needs 'id' and 'text'", 'write {"id": ..., "text": ...}')
        audio = {k: (str(base / r[k]) if r.get(k) else None) for k in ("reference", "source")}
        out.append(Prompt(str(r["id"]), str(r["text"]), float(r.get("duration", duration)), audio["reference"],
                          audio["source"], r.get("source_text"), freeze(r.get("tags"))))
    return out


def _import_target(target: str, item: str) -> Any:
    if ":" not in target:
        raise SabenchError(item, f"{target!r} is not 'module:function'", "write it as package.module:function")
    module, attr = target.split(":", 1)
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise SabenchError(item, f"cannot import {target!r} ({exc})", "check the loader path") from exc


def _parse_metrics(raw: Any, where: str) -> tuple[MetricSpec, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise SabenchError(where, "'metrics' must be a list", "write metrics: [name, {name: x, args: {...}}]")
    out = []
    for m in raw:
        if isinstance(m, str):
            out.append(MetricSpec(m))
        elif isinstance(m, dict):
            unknown = set(m) - {"name", "args"}
            if unknown or "name" not in m:
                bad = ", ".join(sorted(unknown)) or "missing 'name'"
                raise SabenchError(where, f"bad metric entry {m!r} ({bad})", "use {name: ..., args: {...}}")
            args = m.get("args") or {}
            if not isinstance(args, dict):
                raise SabenchError(where, f"metric {m['name']!r}: 'args' must be a mapping", "write args: {k: v}")
            out.append(MetricSpec(str(m["name"]), freeze(args)))
        else:
            raise SabenchError(where, f"bad metric entry {m!r}", "use a name or {name: ..., args: {...}}")
    return tuple(out)


def spec_from_dict(data: dict[str, Any], where: str = "<suite>") -> SuiteSpec:
    """Validate a parsed YAML mapping and build a `SuiteSpec` (strict about keys and values)."""
    if not isinstance(data, dict):
        raise SabenchError(where, "a suite file must be a YAML mapping", "see docs/architecture.md")
    unknown = sorted(set(data) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise SabenchError(where, f"unknown key {unknown[0]!r}",
                           f"remove it or use one of: {', '.join(_REQUIRED + _OPTIONAL)}")
    missing = [k for k in _REQUIRED if k not in data]
    if missing:
        raise SabenchError(where, f"missing key {missing[0]!r}", f"add '{missing[0]}:' to the suite file")
    if data["task"] not in TASKS:
        raise SabenchError(where, f"task {data['task']!r} is not one of {TASKS}", "fix 'task:'")
    if data["profile"] not in PROFILES:
        raise SabenchError(where, f"profile {data['profile']!r} is not one of {PROFILES}", "fix 'profile:'")
    loader_args = data.get("loader_args") or {}
    if not isinstance(loader_args, dict):
        raise SabenchError(where, "'loader_args' must be a mapping", "write loader_args: {k: v}")
    replicates = _int(data.get("replicates", 1), "replicates", where, minimum=1)
    batch_size = data.get("batch_size")
    duration = data.get("duration")
    if duration is not None and (not isinstance(duration, (int, float)) or duration <= 0):
        raise SabenchError(where, f"duration {duration!r} must be a positive number of seconds", "fix 'duration:'")
    preset = str(data.get("preset", "sabench"))
    from harness.metrics.presets import PRESETS

    if preset not in PRESETS:
        raise SabenchError(where, f"unknown preset {preset!r}", f"use one of: {', '.join(sorted(PRESETS))}")
    return SuiteSpec(
        name=str(data["name"]), version=str(data["version"]), task=data["task"],
        profile=data["profile"], loader=str(data["loader"]), loader_args=freeze(loader_args),
        metrics=_parse_metrics(data.get("metrics"), where), seed=_int(data.get("seed", 0), "seed", where),
        replicates=replicates, duration=None if duration is None else float(duration),
        batch_size=None if batch_size is None else _int(batch_size, "batch_size", where, minimum=1),
        description=str(data.get("description") or ""), reference=data.get("reference"),
        preset=preset, source_file=where)


def _int(value: Any, key: str, where: str, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or (minimum is not None and value < minimum):
        bound = f" >= {minimum}" if minimum is not None else ""
        raise SabenchError(where, f"{key} {value!r} must be an integer{bound}", f"fix '{key}:'")
    return value


def load_suite(name_or_path: str | Path) -> SuiteSpec:
    """A suite by registry name (`SUITES` entries are yaml paths) or by file/folder path."""
    import yaml

    path = _suite_path(name_or_path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SabenchError(str(path), f"invalid YAML ({exc.__class__.__name__})", "fix the syntax") from exc
    return spec_from_dict(data, str(path))


def _suite_path(name_or_path: str | Path) -> Path:
    p = Path(name_or_path)
    looks_like_path = isinstance(name_or_path, Path) or p.suffix in (".yaml", ".yml") or "/" in str(name_or_path)
    if looks_like_path or p.exists():
        if p.is_dir():
            p = p / "suite.yaml"
        if not p.is_file():
            raise SabenchError(str(p), "suite file not found", "give a suite name (sabench list) or a suite.yaml path")
        return p
    from harness.registry import SUITES, load_catalog

    load_catalog()
    entry = SUITES.get(str(name_or_path))
    return Path(entry) if not isinstance(entry, SuiteSpec) else Path(entry.source_file)


__all__ = ["SuiteSpec", "MetricSpec", "load_suite", "spec_from_dict", "check_prompt_ids", "load_prompt_file", "TASKS", "PROFILES"]
