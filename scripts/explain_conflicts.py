"""Filter pip's output in scripts/setup.sh: an intended dependency conflict becomes one line saying
why, anything else passes through unchanged (stdlib only; reads stdin, writes stdout).

pip reports an override installed on purpose (requirements/overrides.txt) as
    ERROR: pip's dependency resolver does not currently take into account ...
    msclap 1.3.4 requires transformers<5.0.0,>=4.34.0, but you have transformers 5.23.0 which is incompatible.
which reads like a failed install. Each INTENDED entry is (pattern of pip's conflict line,
the explanation printed instead); a conflict line matching none of them is kept, and so is
pip's header above it, so an unintended conflict still shows as pip's own ERROR.

    pip install -r requirements/overrides.txt 2>&1 | python scripts/explain_conflicts.py
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator

HEADER = "ERROR: pip's dependency resolver does not currently take into account"
INTENDED = [
    (re.compile(r"^msclap \S+ requires transformers<5"),
     "setup: transformers 5 installed over msclap's declared transformers<5, on purpose "
     "(msclap runs on it; PE-A-Frame and diffusers need it: requirements/overrides.txt)"),
    (re.compile(r"^descript-audiotools \S+ requires protobuf<3\.20"),
     "setup: protobuf >=3.20.3 installed over descript-audiotools' declared <3.20, on purpose "
     "(ray needs it; audiotools only touches protobuf for TensorBoard logging: requirements/ray.txt)"),
]


def explain(lines: Iterable[str]) -> Iterator[str]:
    """pip's lines (without newlines) -> the lines to show."""
    held: str | None = None  # pip's header, shown only if an unintended conflict follows
    for line in lines:
        if line.startswith(HEADER):
            held = line
            continue
        note = next((text for pattern, text in INTENDED if pattern.match(line)), None)
        if note is not None:
            yield note
            continue
        if held is not None and re.match(r"^\S+ \S+ requires ", line):
            yield held
            held = None
        yield line


def main() -> int:
    for out in explain(line.rstrip("\n") for line in sys.stdin):
        print(out, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
