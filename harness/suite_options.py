"""Suite options from the command line: a suite's `loader_args` and an id subset, strictly checked.

    sabench score --suite audiocaps --path DIR --captions 975-first --reference-dir clips/ \\
                  --missing skip --ids ids.txt
    sabench run --suite ttabench --system tangoflux --suite-arg dimension=robustness

`SuiteOptions.args` override the suite file's `loader_args` (values are YAML scalars:
`strict_count=false` -> False). Every key is checked against the loader's own parameters
before anything runs: an unknown key is a `UsageError` naming the valid keys, and a value
outside a loader's declared choices (`CHOICES` in the loader's module) names the choices.
`SuiteOptions.ids` keeps only those prompts (in the loader's order); an id the suite does not
have is an error naming it. Both change the run id (they are part of the loader identity),
so a subset never resumes or overwrites a full run.

The dedicated flags are aliases of loader arguments (`DEDICATED`): `--captions` = `captions`,
`--reference-dir` = `audio_dir` (made absolute: relative to the current folder), `--missing
fail|skip|keep` = `on_missing` error|drop|keep.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from harness.errors import UsageError
from harness.records import Prompt, freeze

DEDICATED = {"captions": "captions", "reference_dir": "audio_dir", "missing": "on_missing"}
"""Command-line flag (without dashes, '_' for '-') -> the loader argument it sets."""
MISSING = {"fail": "error", "skip": "drop", "keep": "keep"}
"""`--missing` values -> the loaders' `on_missing` values."""
SUBSET_LOADER = "id_subset"
"""The registered loader (`harness.suite.LOADERS`) that keeps a subset of another loader's prompts."""


@dataclass(frozen=True)
class SuiteOptions:
    """Loader-argument overrides and an optional prompt-id subset for the given suites."""

    args: tuple[tuple[str, Any], ...] = ()
    ids: tuple[str, ...] | None = None

    def __bool__(self) -> bool:
        return bool(self.args) or self.ids is not None


def from_flags(suite_args: Sequence[str] = (), *, captions: str | None = None,
               reference_dir: str | None = None, missing: str | None = None, ids: str | None = None) -> SuiteOptions:
    """`SuiteOptions` from the command line's `--suite-arg K=V ...` and dedicated flags."""
    given = parse_suite_args(suite_args or ())
    flags = {"captions": captions, "missing": MISSING[missing] if missing else None,
             "reference_dir": str(Path(reference_dir).expanduser().resolve()) if reference_dir else None}
    for flag, value in flags.items():
        if value is not None:
            if DEDICATED[flag] in given:
                raise UsageError(f"--{flag.replace('_', '-')}",
                                 f"sets {DEDICATED[flag]!r}, also given with --suite-arg", "give it once")
            given[DEDICATED[flag]] = value
    return SuiteOptions(tuple(sorted(given.items())), parse_ids(ids) if ids else None)


def parse_suite_args(pairs: Sequence[str]) -> dict[str, Any]:
    """["key=value", ...] -> {key: YAML scalar}; a malformed pair is a `UsageError`."""
    import yaml

    out: dict[str, Any] = {}
    for text in pairs:
        key, eq, value = str(text).partition("=")
        key = key.strip().replace("-", "_")
        if not eq or not key:
            raise UsageError(f"--suite-arg {text}", "expected KEY=VALUE", "e.g. --suite-arg captions=975-first")
        try:
            out[key] = yaml.safe_load(value) if value.strip() else ""
        except yaml.YAMLError:
            out[key] = value
    return out


def parse_ids(value: str) -> tuple[str, ...]:
    """`--ids`: a file with one id per line (blank lines and lines starting with '# ' skipped),
    or a comma-separated list."""
    path = Path(value).expanduser()
    if path.is_file():
        lines = path.read_text(encoding="utf-8-sig").splitlines()
        ids = [ln.strip() for ln in lines if ln.strip() and not ln.startswith("# ")]
    else:
        ids = [part.strip() for part in str(value).split(",") if part.strip()]
    if not ids:
        raise UsageError(f"--ids {value}", "no ids in it", "give a file with one id per line, or a,b,c")
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise UsageError(f"--ids {value}", f"id {dup[0]!r} listed twice", "list each id once")
    return tuple(ids)


def loader_parameters(loader: str) -> tuple[set[str] | None, dict[str, Sequence[Any]]]:
    """(names the loader accepts besides data_root, or None for **kwargs; declared choices)."""
    from harness.suite import resolve_loader

    fn = resolve_loader(loader, f"loader {loader!r}")  # the trust rules of suite files apply
    module = fn.__module__
    params = inspect.signature(fn).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        names = None
    else:
        names = {n for n, p in params.items() if n != "data_root"
                 and p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)}
    return names, dict(getattr(importlib.import_module(module), "CHOICES", {}))


def apply_options(spec: Any, options: SuiteOptions) -> Any:
    """`spec` with `options` applied (a new frozen `SuiteSpec`); `spec` itself when empty."""
    if not options:
        return spec
    args = dict(spec.loader_args)
    if options.args:
        names, choices = loader_parameters(spec.loader)
        for key, value in options.args:
            if names is not None and key not in names:
                raise UsageError(f"suite {spec.name}: option {key!r}", "is not an argument of its loader",
                                 f"use one of: {', '.join(sorted(names)) or '(none)'}")
            if key in choices and value not in choices[key]:
                raise UsageError(f"suite {spec.name}: {key}={value!r}", "is not a valid choice",
                                 f"use one of: {', '.join(map(str, choices[key]))}")
            args[key] = value
    if options.ids is None:
        return replace(spec, loader_args=freeze(args))
    inner = freeze({"loader": spec.loader, "loader_args": tuple(sorted(args.items())), "ids": options.ids})
    return replace(spec, loader=SUBSET_LOADER, loader_args=inner)


def load_subset(loader: str, loader_args: Sequence[tuple[str, Any]], ids: Sequence[str],
                data_root: str | Path | None = None) -> list[Prompt]:
    """The prompts of `loader(**loader_args)` whose id is in `ids`, in the loader's order."""
    from harness.suite import resolve_loader
    from harness.validate import call_checked

    item = f"loader {loader!r}"
    fn = resolve_loader(loader, item)  # the trust rules of suite files apply to the wrapped loader
    prompts = list(call_checked(fn, dict(loader_args), item, "'loader_args:'", {"data_root": data_root}))
    have = {p.id for p in prompts}
    unknown = [i for i in ids if i not in have]
    if unknown:
        shown = ", ".join(unknown[:10]) + (f" ... ({len(unknown) - 10} more)" if len(unknown) > 10 else "")
        raise UsageError(f"--ids ({len(unknown)} of {len(ids)})", f"not prompt ids of this suite: {shown}",
                           f"use the suite's prompt ids (e.g. {', '.join(sorted(have)[:3])})")
    wanted = set(ids)
    return [p for p in prompts if p.id in wanted]


__all__ = ["SuiteOptions", "apply_options", "from_flags", "parse_suite_args", "parse_ids", "load_subset",
           "DEDICATED", "MISSING"]
