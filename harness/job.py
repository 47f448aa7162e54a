"""Jobs: a named set of (suites x systems) runs in one YAML file, run by `sabench run --job`.

`suites/jobs/<name>.yaml` (or any path):

    title: SemanticAudio paper, Tables 1-4      # optional, shown by `sabench list jobs`
    compare_to: base-model                      # optional: the report's paired-differences baseline
    skip_incapable: false                       # optional: true = a system that lacks a suite's
                                                #   task is skipped (noted) instead of failing
    runs:                                       # one or more groups; each is suites x systems
      - suites: [audiocaps, ttabench]           # suite names / suite.yaml paths, or
                                                #   {profile: mini} = every registered suite of it
        systems:                                # "name", "name:k=v,..." or {name: .., params: {..}}
          - {name: semanticaudio, params: {d: 128}, label: "d=128"}   # optional row label
          - tangoflux

Unknown keys are refused by name (a typo must not silently drop a run). The job with no
arguments (`sabench` / `sabench run`) is `mini`: the mini leaderboard.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import SabenchError
from harness.validate import Field, check_field, yaml_float_text

DEFAULT_JOB = "mini"
JOB_KEYS = {"title", "compare_to", "skip_incapable", "runs"}
JOB_FIELDS = {"title": Field("str", optional=True), "compare_to": Field("str", optional=True, nonempty=True),
              "skip_incapable": Field("bool")}
GROUP_KEYS = {"suites", "systems"}


@dataclass(frozen=True)
class JobGroup:
    suites: tuple[str, ...]
    systems: tuple[str, ...]
    """System specs in the CLI's form: "name" or "name:k=v,k=v"."""
    labels: tuple[str | None, ...] = ()
    """Row label per system in this group's reports (None: the default label)."""

    def label(self, spec: str) -> str | None:
        return dict(zip(self.systems, self.labels, strict=False)).get(spec)  # labels may be () (all default)


@dataclass(frozen=True)
class Job:
    name: str
    title: str
    groups: tuple[JobGroup, ...]
    compare_to: str | None = None
    skip_incapable: bool = False

    def label(self, suite: str, spec: str) -> str | None:
        """The row label the job gives `spec` in `suite` (first group with both), if any."""
        for g in self.groups:
            if suite in g.suites and spec in g.systems and g.label(spec):
                return g.label(spec)
        return None

    def pairs(self) -> list[tuple[str, str]]:
        """(suite, system spec) in run order, without repeats."""
        out: list[tuple[str, str]] = []
        for g in self.groups:
            out += [(s, m) for s in g.suites for m in g.systems if (s, m) not in out]
        return out


def jobs_dir() -> Path:
    from harness.paths import REPO_ROOT

    return REPO_ROOT / "suites" / "jobs"


def job_names() -> list[str]:
    return sorted(p.stem for p in jobs_dir().glob("*.yaml"))


def job_title(name: str) -> str:
    """The job's `title` (YAML only: suites and systems are not resolved)."""
    import yaml

    data = yaml.safe_load(job_path(name).read_text(encoding="utf-8")) or {}
    return str(data.get("title") or name) if isinstance(data, dict) else name


def job_path(name_or_path: str) -> Path:
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or p.exists():
        if not p.is_file():
            raise SabenchError(str(p), "job file not found", "pass an existing YAML file or a job name")
        return p
    p = jobs_dir() / f"{name_or_path}.yaml"
    if not p.is_file():
        raise SabenchError(f"job {name_or_path!r}", "no such job",
                           f"use one of {job_names()} or a path to a job YAML file")
    return p


def system_spec(entry: Any, where: str) -> str:
    """A job's system entry -> the CLI's "name:k=v,..." spec."""
    if isinstance(entry, str) and entry.strip():
        return entry.strip()
    if isinstance(entry, dict) and set(entry) <= {"name", "params", "label"} and isinstance(entry.get("name"), str):
        params = entry.get("params") or {}
        if not isinstance(params, dict):
            raise SabenchError(where, f"system {entry['name']!r}: params {params!r} is not a mapping",
                               "write params: {key: value}")
        if "label" in entry:
            check_field(entry["label"], Field("str", nonempty=True), f"system {entry['name']!r} label", where)
        bad = [k for k, v in params.items() if isinstance(v, (list, dict)) or any(c in str(v) for c in ",=:")]
        if bad:
            raise SabenchError(where, f"system {entry['name']!r}: parameter(s) {bad} are not plain scalars",
                               "use numbers, booleans or strings without ',', '=' or ':'")
        text = ",".join(f"{k}={_scalar_text(v, k, entry['name'], where)}" for k, v in params.items())
        return entry["name"] + (f":{text}" if text else "")
    raise SabenchError(where, f"bad system entry {entry!r}",
                       "write \"name\", \"name:k=v\" or {name: .., params: {..}, label: ..}")


def _scalar_text(value: Any, key: str, system: str, where: str) -> str:
    """A job parameter written so that the CLI's YAML-scalar parsing reads back the same value
    (a quoted "no" stays a string; 1e-05 gets a mantissa dot so YAML reads a float)."""
    import yaml

    text = yaml_float_text(value) if isinstance(value, float) else str(value)
    if value is not None and yaml.safe_load(text) != value:
        if isinstance(value, str) and "'" not in value:
            return f"'{value}'"
        raise SabenchError(where, f"system {system!r}: parameter {key} {value!r} cannot be passed on",
                           "write it as a plain number, boolean or simple string")
    return text


def _suites(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, dict) and set(value) == {"profile"}:
        from harness.registry import SUITES, load_catalog
        from harness.suite import load_suite

        load_catalog()
        names = tuple(n for n in SUITES.names() if load_suite(n).profile == value["profile"])
        if not names:
            raise SabenchError(where, f"no registered suite has profile {value['profile']!r}",
                               "check the profile name (`sabench list suites`)")
        return names
    if isinstance(value, list) and value and all(isinstance(s, str) and s for s in value):
        return tuple(value)
    raise SabenchError(where, f"bad suites {value!r}", "write a list of suite names or {profile: NAME}")


def load_job(name_or_path: str = DEFAULT_JOB) -> Job:
    import yaml

    path = job_path(name_or_path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise SabenchError(str(path), f"not valid YAML ({exc})", "fix the job file") from exc
    if not isinstance(data, dict):
        raise SabenchError(str(path), "a job file is a mapping", "see harness/job.py for the layout")
    unknown = sorted(set(data) - JOB_KEYS)
    if unknown:
        raise SabenchError(str(path), f"unknown key(s) {unknown}", f"use {sorted(JOB_KEYS)}")
    runs = data.get("runs")
    if not isinstance(runs, list) or not runs:
        raise SabenchError(str(path), "no runs", "add `runs:` with at least one {suites, systems} group")
    groups = []
    for i, g in enumerate(runs):
        where = f"{path} runs[{i}]"
        if not isinstance(g, dict) or set(g) != GROUP_KEYS:
            raise SabenchError(where, f"a group has exactly the keys {sorted(GROUP_KEYS)}, got {g!r}",
                               "write {suites: [...], systems: [...]}")
        if not isinstance(g["systems"], list) or not g["systems"]:
            raise SabenchError(where, "no systems", "list at least one system")
        labels = tuple(str(s["label"]) if isinstance(s, dict) and s.get("label") else None for s in g["systems"])
        groups.append(JobGroup(_suites(g["suites"], where),
                               tuple(system_spec(s, where) for s in g["systems"]), labels))
    v = {k: check_field(data[k], f, k, str(path)) for k, f in JOB_FIELDS.items() if k in data}
    compare = v.get("compare_to")
    if compare is not None:
        _check_compare_to(compare, groups, str(path))
    return Job(path.stem, v.get("title") or path.stem, tuple(groups), compare, v.get("skip_incapable", False))


def _check_compare_to(compare: str, groups: list[JobGroup], where: str) -> None:
    """`compare_to` must name a system of the job (its registry name or a row label)."""
    import difflib

    known = sorted({s.partition(":")[0].strip() for g in groups for s in g.systems}
                   | {lab for g in groups for lab in g.labels if lab})
    if compare not in known:
        close = difflib.get_close_matches(compare, known, n=1, cutoff=0.5)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise SabenchError(where, f"compare_to {compare!r} is not a system or label of this job",
                           f"{hint}use one of: {', '.join(known)}")
