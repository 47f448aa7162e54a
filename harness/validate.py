"""Strict typed fields for everything a user writes as configuration.

Suite YAML, job YAML and system parameters (`name:k=v,...`, job `params:`) go through these
helpers, so a value of the wrong type is one `SabenchError` naming the file/key and the fix,
never a silent coercion. Examples of what they refuse: `skip_incapable: "no"` (a string, which
`bool()` would read as true), `version: 1.10` (a float that would become "1.1"), `steps: 0`,
`name: [a]`, and unknown keyword arguments to a loader or metric factory (instead of a
`TypeError` traceback).

    check_field(raw, Field("int", minimum=1), "replicates", "suites/x/suite.yaml")
    call_checked(factory, {"backbone": "x"}, "suite x metric 'fd'", "fix its 'args:'")
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from harness.errors import SabenchError

KINDS = ("bool", "int", "float", "str", "version")
_WORDS = {"bool": "true or false (unquoted)", "int": "an integer", "float": "a number",
          "str": "a string", "version": "a string or an integer (quote versions like \"1.10\")"}


@dataclass(frozen=True)
class Field:
    """The type of one configuration value.

    kind: "bool" | "int" | "float" | "str" | "version" (str, or int turned into str).
    minimum / maximum: inclusive bounds for int and float.
    choices: allowed values (after the type check).
    optional: None (YAML `~` or an absent key) is allowed.
    nonempty: a str must not be blank.
    """

    kind: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[Any, ...] = ()
    optional: bool = False
    nonempty: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown field kind {self.kind!r}")

    def describe(self) -> str:
        if self.choices:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        text = _WORDS[self.kind]
        if self.minimum is not None and self.maximum is not None:
            return f"{text} in [{self.minimum:g}, {self.maximum:g}]"
        if self.minimum is not None:
            return f"{text} >= {self.minimum:g}"
        if self.maximum is not None:
            return f"{text} <= {self.maximum:g}"
        return text + (" (not empty)" if self.nonempty else "")


def _typed(value: Any, kind: str) -> tuple[bool, Any]:
    """(ok, converted) for one kind; bools are never numbers, numbers never strings."""
    if kind == "bool":
        return isinstance(value, bool), value
    if isinstance(value, bool):
        return False, value
    if kind == "int":
        return isinstance(value, int), value
    if kind == "float":
        return isinstance(value, (int, float)), float(value) if isinstance(value, (int, float)) else value
    if kind == "version":
        return isinstance(value, (str, int)), str(value) if isinstance(value, (str, int)) else value
    return isinstance(value, str), value


def check_field(value: Any, field: Field, key: str, where: str) -> Any:
    """`value` checked against `field` (ints widened to float for "float"); else SabenchError."""
    if value is None and field.optional:
        return None
    type_ok, out = _typed(value, field.kind)
    ok = type_ok
    if ok and field.kind in ("int", "float"):
        ok = not (field.minimum is not None and out < field.minimum) and \
            not (field.maximum is not None and out > field.maximum) and out == out  # NaN refused
    if ok and field.nonempty and isinstance(out, str) and not out.strip():
        ok = False
    if ok and field.choices and out not in field.choices:
        ok = False
    if not ok:
        kind = "" if type_ok or value is None else f" (a YAML {type(value).__name__})"
        raise SabenchError(where, f"{key} {value!r}{kind} is not {field.describe()}", _fix(value, field, key))
    return out


def yaml_float_text(x: float) -> str:
    """`x` written so that YAML 1.1 (PyYAML) reads a float back: 1e-05 -> "1.0e-05"."""
    text = repr(float(x))
    if "e" not in text:
        return text
    mantissa, exp = text.split("e")
    return f"{mantissa if '.' in mantissa else mantissa + '.0'}e{exp if exp[0] in '+-' else '+' + exp}"


def _fix(value: Any, field: Field, key: str) -> str:
    if field.kind == "float" and isinstance(value, str):
        try:
            return f"fix '{key}': YAML reads {value!r} as text; write {yaml_float_text(float(value))}"
        except ValueError:
            pass
    return f"fix '{key}'"


def check_fields(data: Mapping[str, Any], fields: Mapping[str, Field], where: str) -> dict[str, Any]:
    """Every present key of `data` that has a `Field` checked; returns the converted values."""
    return {k: check_field(v, fields[k], k, where) for k, v in data.items() if k in fields}


def field_for_default(default: Any, name: str = "") -> Field:
    """The `Field` a parameter's default implies: bool/int/float/str; None -> optional str.

    Integer parameters whose name ends in "steps" must be >= 1 (zero steps is never meant)."""
    if isinstance(default, bool):
        return Field("bool")
    if isinstance(default, int):
        return Field("int", minimum=1 if name.endswith("steps") else None)
    if isinstance(default, float):
        return Field("float")
    if default is None:
        return Field("str", optional=True)
    return Field("str")


def check_params(owner: str, params: Mapping[str, Any], defaults: Mapping[str, Any],
                 fields: Mapping[str, Field] | None = None) -> dict[str, Any]:
    """System parameters: each value checked against `fields` or the type of its default.

    Unknown names are the caller's business (they differ per system); only known keys are typed.
    Values are returned unchanged (an int given for a float stays an int): parameters are part
    of a system's identity and run ids, which validation must not move.
    """
    fields = dict(fields or {})
    for key, value in params.items():
        if key in fields or key in defaults:
            check_field(value, fields.get(key) or field_for_default(defaults[key], key), key, f"system {owner}")
    return dict(params)


def accepted_kwargs(fn: Callable[..., Any]) -> tuple[set[str] | None, set[str]]:
    """(names it accepts or None when it takes **kwargs, names it requires)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None, set()
    params = sig.parameters.values()
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return None, set()
    names = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    required = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
                and p.default is p.empty}
    return names, required


def check_kwargs(fn: Callable[..., Any], kwargs: Mapping[str, Any], item: str, where_args: str,
                 implicit: tuple[str, ...] = ()) -> None:
    """Refuse keyword arguments `fn` does not take (and missing required ones) by name.

    implicit: names the harness passes itself (e.g. `data_root` for loaders), not the user.
    """
    names, required = accepted_kwargs(fn)
    if names is None:
        return
    absent = [n for n in implicit if n not in names]
    if absent:
        raise SabenchError(item, f"{getattr(fn, '__name__', fn)!r} does not take {absent[0]!r}",
                           f"name a function that accepts {', '.join(implicit)}")
    user = sorted(names - set(implicit))
    unknown = sorted(set(kwargs) - names)
    if unknown:
        raise SabenchError(item, f"unknown argument {unknown[0]!r}",
                           f"remove it from {where_args} or use: {', '.join(user) or '(none)'}")
    missing = sorted(required - set(kwargs) - set(implicit))
    if missing:
        raise SabenchError(item, f"missing argument {missing[0]!r}", f"add it to {where_args}")


def call_checked(fn: Callable[..., Any], kwargs: Mapping[str, Any], item: str, where_args: str,
                 implicit: Mapping[str, Any] | None = None, constructor: bool = False) -> Any:
    """`fn(**kwargs, **implicit)` after `check_kwargs`.

    constructor: `fn` only builds an object (a metric factory, possibly forwarding **kwargs to
    another factory): a `TypeError` it raises is about its arguments and becomes a one-line
    `SabenchError`. Otherwise (a loader doing real work) a `TypeError` is a bug and propagates.
    """
    implicit = dict(implicit or {})
    check_kwargs(fn, kwargs, item, where_args, tuple(implicit))
    if not constructor:
        return fn(**dict(kwargs), **implicit)
    try:
        return fn(**dict(kwargs), **implicit)
    except TypeError as exc:
        raise SabenchError(item, f"bad arguments ({str(exc).splitlines()[0]})", f"fix {where_args}") from None


__all__ = ["Field", "check_field", "yaml_float_text", "check_fields", "field_for_default", "check_params",
           "check_kwargs", "call_checked", "accepted_kwargs"]
