"""The one item-id codec: an item is a prompt id, plus `#r<k>` when a suite has replicates.

    item_id("Y1a2b", 0, 1) == "Y1a2b"        item_id("Y1a2b", 2, 3) == "Y1a2b#r2"
    parse_item_id("Y1a2b#r2") == ("Y1a2b", 2)  parse_item_id("Y1a2b") == ("Y1a2b", 0)
    split_item_id("Y1a2b") == ("Y1a2b", None)  prompt_of("Y1a2b#r2") == "Y1a2b"

Results, folder systems (`Y123#r2.wav`), exports and reports all use these names, so they
are built and parsed only here.
"""

from __future__ import annotations

import re

_REPLICATE = re.compile(r"^(?P<prompt>.+)#r(?P<k>0|[1-9][0-9]*)$")


def item_id(prompt_id: str, replicate: int, replicates: int) -> str:
    """The item id of one (prompt, replicate); a plain prompt id when the suite has one replicate."""
    return prompt_id if replicates == 1 else replicate_id(prompt_id, replicate)


def replicate_id(prompt_id: str, replicate: int) -> str:
    """`<prompt id>#r<k>`: the replicate form, whatever the suite's number of replicates."""
    return f"{prompt_id}#r{int(replicate)}"


def split_item_id(text: str) -> tuple[str, int | None]:
    """(prompt id, replicate) of an item id; replicate None for a plain prompt id."""
    m = _REPLICATE.match(text)
    return (m.group("prompt"), int(m.group("k"))) if m else (text, None)


def parse_item_id(text: str) -> tuple[str, int]:
    """(prompt id, replicate) of an item id; a plain id is replicate 0."""
    prompt, k = split_item_id(text)
    return prompt, 0 if k is None else k


def prompt_of(text: str) -> str:
    """The prompt id an item id belongs to (`Y1#r2` -> `Y1`; a plain id is returned as is)."""
    return split_item_id(text)[0]


__all__ = ["item_id", "replicate_id", "split_item_id", "parse_item_id", "prompt_of"]
