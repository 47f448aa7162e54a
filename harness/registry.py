"""One registry type for systems, suites, metrics and backbones.

Entries are registered either eagerly (decorator) or lazily as a "module:attr" string, so
`sabench list` and name lookups never import torch or model packages. Unknown names raise
a `RegistryError` with close-match suggestions.

    SYSTEMS.register_lazy("semanticaudio", "systems.semanticaudio.adapter:SemanticAudioSystem")
    cls = SYSTEMS.get("semanticaudio")

Packages outside harness/ (systems/, suites/ and the mini world under suites/synthcaps/)
register from their own `catalog.py`; harness code finds them only through these registries.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from harness.errors import RegistryError

T = TypeVar("T")


class Registry(Generic[T]):
    """A name -> object map with lazy "module:attr" placeholders."""

    def __init__(self, kind: str):
        self.kind = kind
        self._eager: dict[str, T] = {}
        self._lazy: dict[str, str] = {}
        self._help: dict[str, str] = {}

    def register(self, name: str, help: str = "") -> Callable[[T], T]:
        def deco(obj: T) -> T:
            self._add(name, help)
            self._eager[name] = obj
            return obj
        return deco

    def register_lazy(self, name: str, target: str, help: str = "") -> None:
        if ":" not in target:
            raise ValueError(f"lazy target must be 'module:attr', got {target!r}")
        self._add(name, help)
        self._lazy[name] = target

    def _add(self, name: str, help: str) -> None:
        if name in self._eager or name in self._lazy:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._help[name] = help

    def get(self, name: str) -> T:
        if name in self._eager:
            return self._eager[name]
        if name in self._lazy:
            module, attr = self._lazy[name].split(":", 1)
            obj = getattr(importlib.import_module(module), attr)
            self._eager[name] = obj
            return obj
        raise RegistryError(name, f"unknown {self.kind}", self._suggest(name))

    def _suggest(self, name: str) -> str:
        names = self.names()
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        return f"{hint}available: {', '.join(names)}"

    def target(self, name: str) -> str | None:
        """The "module:attr" a lazily registered name stands for (None for an eager entry)."""
        if name not in self:
            raise RegistryError(name, f"unknown {self.kind}", self._suggest(name))
        return self._lazy.get(name)

    def __contains__(self, name: str) -> bool:
        return name in self._eager or name in self._lazy

    def names(self) -> list[str]:
        return sorted(set(self._eager) | set(self._lazy))

    def help(self, name: str) -> str:
        return self._help.get(name, "")

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


SYSTEMS: Registry[Any] = Registry("system")
SUITES: Registry[Any] = Registry("suite")
METRICS: Registry[Any] = Registry("metric")
BACKBONES: Registry[Any] = Registry("backbone")
ENCODER_BUNDLES: Registry[Any] = Registry("encoder bundle")
"""SemanticAudio / Base Model encoder bundles: name -> `function(weights_root) -> Encoders`
(a checkpoint's config.json may name only these, by name or by their "module:function")."""
PROFILE_CHECKPOINTS: Registry[Any] = Registry("profile")
"""Profiles other than "real" that ship their own system checkpoints: profile ->
`function(system_name, leaf) -> Path` returning a verified checkpoint folder."""
TRAINERS: Registry[Any] = Registry("trainable world")
"""`sabench <world> train`: world name -> `main(argv) -> int`."""

_LOADED = False


def load_catalog() -> None:
    """Register every built-in entry (lazily). Idempotent and cheap: imports no torch."""
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    from harness import catalog  # noqa: F401  (registers as a side effect)
