"""TTA-Bench prompt files (arXiv 2509.02398) -> `Prompt`s.

Each dimension is one JSON list of objects with `id` = `prompt_XXXX` and `prompt_text`.
The "1,500 prompts" papers report (SemanticAudio included) are the accuracy file, the default.
Quirks handled: fairness has 299 rows (prompt_2325 absent); toxicity rows carry no
"Dimensions of evaluation" field; optional fields become tags.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from harness.errors import ManifestError, SabenchError
from harness.records import Prompt, freeze
from suites.common import check_unique, find_file

FILES = {
    "accuracy": "acc_prompt.json",
    "generalization": "generalization_prompt.json",
    "robustness": "robustness_prompt.json",
    "fairness": "fairness_prompt.json",
    "bias": "bias_prompt.json",
    "toxicity": "toxicity_prompt.json",
}
CHOICES = {"dimension": tuple(FILES)}
"""Allowed values of loader arguments (checked up front by `harness.suite_options`)."""
EXPECTED_COUNTS = {"accuracy": 1500, "generalization": 300, "robustness": 300, "fairness": 299,
                   "bias": 300, "toxicity": 300}
_ID = re.compile(r"^prompt_\d{4}$")
_TAG_FIELDS = ("event_count", "event_relation", "source", "perturbation_type", "Fairness_type", "notes")


def load_prompts(dimension: str = "accuracy", prompts_dir: str | None = None, duration: float = 10.0,
                 strict_count: bool = True, data_root: str | Path | None = None) -> list[Prompt]:
    """Prompts of one TTA-Bench dimension.

    Args:
        dimension: one of `FILES` (accuracy, generalization, robustness, fairness, bias, toxicity).
        prompts_dir: folder with the prompt files (else `$SABENCH_TTABENCH`, else
            `<data_root>/ttabench`).
        strict_count: refuse a file whose row count differs from the published one.
    """
    if dimension not in FILES:
        raise SabenchError(dimension, "unknown TTA-Bench dimension", f"choose one of {', '.join(FILES)}")
    path = find_file(f"TTA-Bench {FILES[dimension]}", [FILES[dimension]], explicit=prompts_dir,
                     env="SABENCH_TTABENCH", data_root=data_root, subdirs=("ttabench", ""),
                     fix="set $SABENCH_TTABENCH or loader_args.prompts_dir to the folder of TTA-Bench "
                         "prompt files (xiquan-li/Resonate ttabench/prompts/)")
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ManifestError(str(path), f"not valid JSON ({exc})", "use the published prompt file") from None
    if not isinstance(rows, list):
        raise ManifestError(str(path), "is not a JSON list", "use the published prompt file")
    if strict_count and len(rows) != EXPECTED_COUNTS[dimension]:
        raise ManifestError(str(path), f"has {len(rows)} rows, the published file has "
                            f"{EXPECTED_COUNTS[dimension]}", "use the published file or strict_count: false")
    prompts = [_prompt(path, i, row, dimension, duration) for i, row in enumerate(rows)]
    check_unique([p.id for p in prompts], str(path))
    return prompts


def _prompt(path: Path, index: int, row: object, dimension: str, duration: float) -> Prompt:
    item = f"{path.name} row {index}"
    if not isinstance(row, dict):
        raise ManifestError(item, "is not an object", "use the published prompt file")
    pid, text = row.get("id"), row.get("prompt_text")
    if not isinstance(pid, str) or not _ID.match(pid):
        raise ManifestError(item, f"id {pid!r} is not of the form prompt_XXXX", "fix the id")
    if not isinstance(text, str) or not text.strip():
        raise ManifestError(f"{item} ({pid})", "empty prompt_text", "fix the prompt text")
    dim_field = row.get("Dimensions of evaluation")
    if dim_field is not None and str(dim_field).lower() != dimension:
        raise ManifestError(f"{item} ({pid})", f"is a {dim_field!r} prompt, not {dimension}",
                            "load each dimension from its own file")
    tags = {"dimension": dimension}
    for name in _TAG_FIELDS:
        if row.get(name) is not None:
            tags[name.lower()] = row[name]
    if row.get("event_list") is not None:
        tags["event_list"] = tuple(row["event_list"])
    if row.get("categories") is not None:
        tags["categories"] = tuple(row["categories"])
    return Prompt(pid, text, float(duration), tags=freeze(tags))
