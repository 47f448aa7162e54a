"""Optional backends: import a package that only an extra installs, or say which extra.

The core (`pip install sabench`: the mini world, reports, fetch) imports none of the heavy or
conflicting packages; each backend imports its own where it is used, through `require`:

    transformers = require("transformers", extra="clap", item="backbone laion_clap")

A missing package is one `MissingExtraError` line naming the extra to install
(`pip install 'sabench[clap]'`); a package that is installed but fails to import (a version
that does not match) is one line too, with the import's own message.

`EXTRAS` is the table of extras -> distributions; pyproject.toml's
[project.optional-dependencies] lists the same names (tests/harness/test_extras.py).
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from harness.errors import SabenchError

DISTRIBUTIONS = {
    "transformers": "transformers",
    "diffusers": "diffusers",
    "msclap": "msclap",
    "audiobox_aesthetics": "audiobox-aesthetics",
    "dac": "descript-audio-codec",
    "dasheng": "dasheng",
    "torchaudio": "torchaudio",
    "starlette": "starlette",
    "uvicorn": "uvicorn",
    "pyloudnorm": "pyloudnorm",
    "ray": "ray",
    "laion_clap": "laion-clap",
}
"""Import name -> the distribution pip installs it from (where the two differ, this says so)."""

EXTRAS: dict[str, tuple[str, ...]] = {
    "clap": ("laion_clap", "transformers"),
    "msclap": ("msclap", "transformers"),
    "aesthetics": ("audiobox_aesthetics",),
    "panns": (),
    "dac": ("dac",),
    "semanticaudio": ("dac", "transformers"),
    "semanticvocoder": ("dasheng", "torchaudio", "transformers"),
    "tangoflux": ("diffusers", "transformers"),
    "resonate": ("transformers",),
    "ray": ("ray",),
    "listen": ("starlette", "uvicorn", "pyloudnorm"),
}
"""Extra -> the modules sabench imports from it (`panns` needs nothing beyond the core: the
PANNs networks are sabench's own; the extra exists so `sabench[panns]` keeps working)."""


class MissingExtraError(SabenchError):
    """A backend's package is not installed (or does not import)."""


def install_hint(extra: str) -> str:
    return f"pip install 'sabench[{extra}]'"


def require(module: str, *, extra: str, item: str | None = None) -> ModuleType:
    """Import `module` (dotted names allowed) or raise a one-line `MissingExtraError`.

    `extra` must be a key of `EXTRAS` whose modules include `module`'s top-level package, or
    "all" (shared helpers used by several backends, e.g. the tiny T5 of the test variants).
    """
    top, who = module.split(".")[0], item or module
    dist = _check(top, extra)
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] != top:
            raise _broken(who, dist, extra, exc) from None
        raise MissingExtraError(who, f"needs the {dist} package, which is not installed",
                                install_hint(extra)) from None
    except ImportError as exc:
        raise _broken(who, dist, extra, exc) from None


def ensure_installed(module: str, *, extra: str, item: str | None = None) -> None:
    """Like `require` without importing (for packages whose import has side effects that the
    caller must set up first, such as laion_clap's module-level tokenizers)."""
    top = module.split(".")[0]
    dist = _check(top, extra)
    if importlib.util.find_spec(top) is None:
        raise MissingExtraError(item or module, f"needs the {dist} package, which is not installed",
                                install_hint(extra))


def _check(top: str, extra: str) -> str:
    """The distribution of `top`; refuses an extra that does not provide it (a code error)."""
    if extra != "all" and (extra not in EXTRAS or top not in EXTRAS[extra]):
        raise ValueError(f"extra {extra!r} does not provide {top!r} (harness.extras.EXTRAS)")
    if extra == "all" and not any(top in mods for mods in EXTRAS.values()):
        raise ValueError(f"no extra provides {top!r} (harness.extras.EXTRAS)")
    return DISTRIBUTIONS.get(top, top)


def _broken(who: str, dist: str, extra: str, exc: BaseException) -> MissingExtraError:
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return MissingExtraError(who, f"{dist} is installed but does not import ({first})",
                             f"reinstall the versions sabench declares: {install_hint(extra)}")


__all__ = ["DISTRIBUTIONS", "EXTRAS", "MissingExtraError", "ensure_installed", "install_hint", "require"]
