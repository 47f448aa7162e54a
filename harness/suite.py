"""Suite specs: a versioned benchmark definition loaded from `suites/<name>/suite.yaml`.

A suite names its task (generate | edit | reconstruct), its profile (mini | real), the
prompt loader ("module:function" returning `list[Prompt]`), the metrics to compute, the
base seed, the number of replicates, and optional duration / batch-size overrides.

    name: audiocaps
    version: "1.0.0"
    task: generate
    profile: real
    loader: suites.audiocaps.loader:load_prompts
    loader_args: {captions: 957-last, on_missing: error}
    metrics: [fd_pann, is_pann, {name: clap_laion, args: {}}]
    preset: sabench            # bound into every metric by the run plan (harness.plan)
    seed: 42
    replicates: 1

Loading is strict: an unknown key is an error naming the key and the file, so a typo
(`replicate: 5`) can never silently change nothing.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import ManifestError, SabenchError
from harness.records import Prompt, freeze
from harness.validate import Field, call_checked, check_field

TASKS = ("generate", "edit", "reconstruct")
PROFILES = ("mini", "real")
_REQUIRED = ("name", "version", "task", "profile", "loader")
_OPTIONAL = ("description", "loader_args", "metrics", "seed", "replicates", "duration",
             "batch_size", "reference", "preset")
FIELDS = {
    "name": Field("str", nonempty=True), "version": Field("version", nonempty=True),
    "task": Field("str", choices=TASKS), "profile": Field("str", choices=PROFILES),
    "loader": Field("str", nonempty=True), "description": Field("str", optional=True),
    "seed": Field("int"), "replicates": Field("int", minimum=1), "batch_size": Field("int", minimum=1, optional=True),
    "duration": Field("float", minimum=1e-6, optional=True), "reference": Field("str", optional=True),
    "preset": Field("str", nonempty=True),
}
"""The type of every scalar key of a suite file (loader_args and metrics are checked apart)."""

ALLOW_CODE_ENV = "SABENCH_ALLOW_CODE"
"""Set to 1 (or pass --allow-code) to let suite files name loaders outside the project (docs/trust.md)."""
LOADERS = {"prompt_file": "harness.suite:load_prompt_file", "id_subset": "harness.suite_options:load_subset"}
"""Registered loader names -> "module:function" (a suite may write `loader: prompt_file`)."""
TRUSTED_LOADER_PACKAGE = "suites."
"""Loaders defined in modules of the project's own `suites` package are always allowed."""


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
        item = f"{self.source_file or 'suite ' + self.name} loader {self.loader!r}"
        fn = resolve_loader(self.loader, item)
        prompts = list(call_checked(fn, dict(self.loader_args), item, "'loader_args:'", {"data_root": data_root}))
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


def allow_code(on: bool = True) -> None:
    """The `--allow-code` trust decision: suite files may name any importable loader."""
    if on:
        os.environ[ALLOW_CODE_ENV] = "1"
    else:
        os.environ.pop(ALLOW_CODE_ENV, None)


def code_allowed() -> bool:
    return os.environ.get(ALLOW_CODE_ENV, "").strip().lower() in ("1", "true", "yes")


def resolve_loader(target: str, item: str) -> Any:
    """A suite's loader: a registered name, a function of the project's `suites` package (or
    `harness.suite:load_prompt_file`), or, only with `--allow-code`, any "module:function"."""
    target = LOADERS.get(target, target)
    if ":" not in target:
        raise SabenchError(item, f"{target!r} is neither a registered loader nor 'module:function'",
                           f"use one of {sorted(LOADERS)} or suites.<package>.<module>:<function>")
    module, attr = target.split(":", 1)
    own = target in LOADERS.values() or (module.startswith(TRUSTED_LOADER_PACKAGE) and not attr.startswith("_"))
    if not own and not code_allowed():
        raise SabenchError(item, "names code outside the project's suites package (suite files may only "
                           "name registered loaders)", f"use a loader under suites.* or one of {sorted(LOADERS)}, "
                           f"or pass --allow-code / {ALLOW_CODE_ENV}=1 if you trust this suite file (docs/trust.md)")
    try:
        fn = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise SabenchError(item, f"cannot import {target!r} ({exc})", "check the loader path") from exc
    if own and not code_allowed() and (not callable(fn) or getattr(fn, "__module__", None) != module):
        raise SabenchError(item, f"{target!r} is not a loader defined in {module}",
                           "name a function defined in that module")
    return fn


def make_metric(spec: SuiteSpec, metric: MetricSpec) -> Any:
    """The suite's metric built from the `METRICS` registry; an argument the factory does not
    take (or a bad value it rejects with TypeError) is one line naming the suite and metric."""
    from harness.registry import METRICS, load_catalog

    load_catalog()
    factory = METRICS.get(metric.name)
    item = f"{spec.source_file or 'suite ' + spec.name} metric {metric.name!r}"
    return call_checked(factory, dict(metric.args), item, "its 'args:'", constructor=True)


def _parse_metrics(raw: Any, where: str) -> tuple[MetricSpec, ...]:
    if not isinstance(raw, list) or not raw:
        raise SabenchError(where, f"'metrics' must be a non-empty list, got {raw!r}",
                           "write metrics: [name, {name: x, args: {...}}] (a suite without metrics scores nothing)")
    out = []
    for m in raw:
        if isinstance(m, str) and m.strip():
            out.append(MetricSpec(m))
        elif isinstance(m, dict):
            unknown = set(m) - {"name", "args"}
            if unknown or "name" not in m:
                bad = ", ".join(sorted(map(str, unknown))) or "missing 'name'"
                raise SabenchError(where, f"bad metric entry {m!r} ({bad})", "use {name: ..., args: {...}}")
            name = check_field(m["name"], Field("str", nonempty=True), "metrics name", where)
            args = _mapping(m.get("args"), f"metric {name!r} args", where)
            out.append(MetricSpec(name, freeze(args)))
        else:
            raise SabenchError(where, f"bad metric entry {m!r}", "use a name or {name: ..., args: {...}}")
    return tuple(out)


def _mapping(raw: Any, key: str, where: str) -> dict[str, Any]:
    """None -> {}; otherwise a mapping with string keys (an argument name is never a number)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise SabenchError(where, f"{key} {raw!r} is not a mapping", f"write {key.split()[-1]}: {{k: v}}")
    bad = [k for k in raw if not isinstance(k, str) or not k]
    if bad:
        raise SabenchError(where, f"{key}: key {bad[0]!r} is not a name", "use identifier keys")
    return dict(raw)


def spec_from_dict(data: dict[str, Any], where: str = "<suite>") -> SuiteSpec:
    """Validate a parsed YAML mapping and build a `SuiteSpec` (strict about keys, types, values)."""
    if not isinstance(data, dict):
        raise SabenchError(where, "a suite file must be a YAML mapping", "see docs/architecture.md")
    unknown = sorted(map(str, set(data) - set(_REQUIRED) - set(_OPTIONAL)))
    if unknown:
        raise SabenchError(where, f"unknown key {unknown[0]!r}",
                           f"remove it or use one of: {', '.join(_REQUIRED + _OPTIONAL)}")
    missing = [k for k in _REQUIRED if k not in data]
    if missing:
        raise SabenchError(where, f"missing key {missing[0]!r}", f"add '{missing[0]}:' to the suite file")
    v = {k: check_field(data[k], f, k, where) for k, f in FIELDS.items() if k in data}
    preset = v.get("preset") or "sabench"
    from harness.metrics.presets import PRESETS

    if preset not in PRESETS:
        raise SabenchError(where, f"unknown preset {preset!r}", f"use one of: {', '.join(sorted(PRESETS))}")
    return SuiteSpec(
        name=v["name"], version=v["version"], task=v["task"], profile=v["profile"], loader=v["loader"],
        loader_args=freeze(_mapping(data.get("loader_args"), "loader_args", where)),
        metrics=_parse_metrics(data.get("metrics"), where), seed=v.get("seed", 0),
        replicates=v.get("replicates", 1), duration=v.get("duration"), batch_size=v.get("batch_size"),
        description=v.get("description") or "", reference=v.get("reference"), preset=preset, source_file=where)


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


__all__ = ["SuiteSpec", "MetricSpec", "load_suite", "make_metric", "resolve_loader", "allow_code", "code_allowed",
           "spec_from_dict", "check_prompt_ids", "load_prompt_file", "TASKS", "PROFILES"]
