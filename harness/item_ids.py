"""The one item-id codec: an item is a prompt id, plus `#r<k>` when a suite has replicates.

    item_id("Y1a2b", 0, 1) == "Y1a2b"        item_id("Y1a2b", 2, 3) == "Y1a2b#r2"
    parse_item_id("Y1a2b#r2") == ("Y1a2b", 2)  parse_item_id("Y1a2b") == ("Y1a2b", 0)
"""

from __future__ import annotations

import re

_REPLICATE = re.compile(r"^(?P<prompt>.+)#r(?P<k>0|[1-9][0-9]*)$")


def item_id(prompt_id: str, replicate: int, replicates: int) -> str:
    """The item id of one (prompt, replicate); a plain prompt id when the suite has one replicate."""
    return prompt_id if replicates == 1 else f"{prompt_id}#r{replicate}"


def parse_item_id(text: str) -> tuple[str, int]:
    """(prompt id, replicate) of an item id; a plain id is replicate 0."""
    m = _REPLICATE.match(text)
    return (m.group("prompt"), int(m.group("k"))) if m else (text, 0)


__all__ = ["item_id", "parse_item_id"]
