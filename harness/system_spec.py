"""System specs: the text that names a system and its parameters, and building one from it.

    "sine"                            -> ("sine", {})
    "semanticaudio:d=128,steps=50"    -> ("semanticaudio", {"d": 128, "steps": 50})

Values are YAML scalars ("4" -> 4, "true" -> True, "0.5" -> 0.5). The same spec is used on
the command line (`--system`), in job files (`suites/jobs/*.yaml`) and by library code that
needs a system by name (the editing scorer, the mini gate). Building a system never reads
weights: that happens in `System.load()`, when the system is first asked for audio.
"""

from __future__ import annotations

from typing import Any

from harness.errors import SabenchError


def parse_system_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """"name" or "name:k=v,k=v" -> (name, params); values are YAML scalars ("4" -> 4)."""
    import yaml

    name, _, rest = str(spec).partition(":")
    params: dict[str, Any] = {}
    for part in filter(None, rest.split(",")):
        key, eq, value = part.partition("=")
        if not eq or not key.strip():
            raise SabenchError(f"--system {spec}", f"bad parameter {part!r}", "write name:key=value,key=value")
        if key.strip() in params:
            raise SabenchError(f"--system {spec}", f"parameter {key.strip()!r} given twice", "give each parameter once")
        params[key.strip()] = yaml.safe_load(value) if value.strip() else ""
    return name.strip(), params


def build_system(spec: str) -> Any:
    """The `System` a spec names, constructed with its parameters (no weights read yet)."""
    from harness.registry import SYSTEMS, load_catalog

    load_catalog()
    name, params = parse_system_spec(spec)
    cls = SYSTEMS.get(name)
    try:
        return cls(**params)
    except TypeError as exc:
        raise SabenchError(f"--system {spec}", f"bad parameters ({exc})", "see the system's docstring") from exc


__all__ = ["parse_system_spec", "build_system"]
