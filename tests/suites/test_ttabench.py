"""TTA-Bench loader on the published prompt files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.errors import SabenchError
from suites.ttabench.loader import EXPECTED_COUNTS, load_prompts


def test_accuracy_default(data_root: Path):
    prompts = load_prompts(data_root=data_root)
    assert len(prompts) == 1500
    assert prompts[0].id == "prompt_0001" and prompts[-1].id == "prompt_1500"
    assert prompts[0].text.startswith("A railroad crossing rings")
    counts = {}
    for p in prompts:
        counts[p.tag("event_count")] = counts.get(p.tag("event_count"), 0) + 1
    assert counts == {1: 280, 2: 414, 3: 343, 4: 241, 5: 222}  # datasets.md §2.1


@pytest.mark.parametrize("dimension", sorted(EXPECTED_COUNTS))
def test_every_dimension(data_root: Path, dimension: str):
    prompts = load_prompts(dimension, data_root=data_root)
    assert len(prompts) == EXPECTED_COUNTS[dimension]
    assert all(p.tag("dimension") == dimension for p in prompts)
    if dimension == "fairness":
        assert "prompt_2325" not in {p.id for p in prompts}
    if dimension == "toxicity":
        assert prompts[0].tag("categories") == ("hate",)


def test_bad_files(tmp_path: Path):
    (tmp_path / "acc_prompt.json").write_text(json.dumps([{"id": "p1", "prompt_text": "x"}]))
    with pytest.raises(SabenchError, match="prompt_XXXX"):
        load_prompts(prompts_dir=str(tmp_path), strict_count=False)
    with pytest.raises(SabenchError, match="1500"):
        load_prompts(prompts_dir=str(tmp_path))
    with pytest.raises(SabenchError, match="unknown TTA-Bench dimension"):
        load_prompts("speed", prompts_dir=str(tmp_path))
    (tmp_path / "bias_prompt.json").write_text(json.dumps(
        [{"id": "prompt_0001", "prompt_text": "a", "Dimensions of evaluation": "Accuracy"}]))
    with pytest.raises(SabenchError, match="not bias"):
        load_prompts("bias", prompts_dir=str(tmp_path), strict_count=False)
