"""The item-id codec: `<prompt id>#r<k>` built and parsed in one place."""

from __future__ import annotations

import pytest

from harness.item_ids import item_id, prompt_of, replicate_id, split_item_id


def test_single_replicate_suites_use_the_prompt_id():
    assert item_id("Y123", 0, 1) == "Y123"
    assert item_id("Y123", 2, 3) == "Y123#r2" == replicate_id("Y123", 2)


@pytest.mark.parametrize("value, parsed", [
    ("Y123#r2", ("Y123", 2)), ("Y123#r0", ("Y123", 0)), ("Y123", ("Y123", None)),
    ("a#b#r10", ("a#b", 10)),        # a '#' inside a prompt id is kept
    ("a#b", ("a#b", None)), ("x#r", ("x#r", None)), ("x#r01", ("x#r01", None)), ("#r1", ("#r1", None)),
])
def test_split_round_trips(value, parsed):
    assert split_item_id(value) == parsed
    assert prompt_of(value) == parsed[0]
    if parsed[1] is not None:
        assert replicate_id(*parsed) == value
