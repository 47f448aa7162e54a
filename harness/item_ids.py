"""Item ids: the one place where `<prompt id>#r<k>` is built and parsed.

A suite with `replicates: 1` names each item by its prompt id; with `replicates: N > 1` each
(prompt, replicate) pair is an item named `<prompt id>#r<k>` (k = 0 .. N-1). Results, folder
systems (`Y123#r2.wav`) and exports all use these names, so they are made only here.
"""

from __future__ import annotations

import re

_REPLICATE = re.compile(r"^(?P<prompt>.+)#r(?P<k>0|[1-9][0-9]*)$")


def item_id(prompt_id: str, replicate: int = 0, replicates: int = 1) -> str:
    """The item id of replicate `replicate` of `prompt_id` in a suite with `replicates` per prompt."""
    return prompt_id if replicates == 1 else replicate_id(prompt_id, replicate)


def replicate_id(prompt_id: str, replicate: int) -> str:
    """`<prompt id>#r<k>`: the replicate form, whatever the suite's number of replicates."""
    return f"{prompt_id}#r{int(replicate)}"


def split_item_id(value: str) -> tuple[str, int | None]:
    """(prompt id, replicate) of an item id; replicate None for a plain prompt id."""
    m = _REPLICATE.match(value)
    return (m["prompt"], int(m["k"])) if m else (value, None)


def prompt_of(value: str) -> str:
    """The prompt id an item id belongs to (`Y1#r2` -> `Y1`; a plain id is returned as is)."""
    return split_item_id(value)[0]


__all__ = ["item_id", "replicate_id", "split_item_id", "prompt_of"]
