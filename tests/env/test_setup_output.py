"""scripts/setup.sh's output: the intended msclap/transformers conflict is one explaining line,
not pip's ERROR block; an unintended conflict still shows pip's ERROR lines."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "explain_conflicts.py"
HEADER = ("ERROR: pip's dependency resolver does not currently take into account all the packages that "
          "are installed. This behaviour is the source of the following dependency conflicts.")
MSCLAP = ("msclap 1.3.4 requires transformers<5.0.0,>=4.34.0, but you have transformers 5.23.0 "
          "which is incompatible.")


def _filter(text: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT)], input=text, capture_output=True, text=True,
                          timeout=60)


def test_intended_conflict_is_one_line_without_error():
    out = _filter(f"{HEADER}\n{MSCLAP}\n")
    assert out.returncode == 0
    lines = out.stdout.splitlines()
    assert len(lines) == 1 and "ERROR" not in out.stdout
    assert lines[0].startswith("setup: transformers 5 installed over msclap's declared transformers<5, on purpose")


def test_unintended_conflict_keeps_pips_error():
    other = "laion-clap 1.1.7 requires numpy<2.0.0,>=1.23.5, but you have numpy 2.4.6 which is incompatible."
    out = _filter(f"{HEADER}\n{MSCLAP}\n{other}\n")
    lines = out.stdout.splitlines()
    assert lines[0].startswith("setup: transformers 5 installed over msclap")
    assert lines[1:] == [HEADER, other]


def test_other_output_passes_through_unchanged():
    text = "WARNING: something pip says\nSuccessfully installed x-1.0\n"
    assert _filter(text).stdout == text


def test_setup_pipes_the_overrides_step_through_the_filter():
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    step = setup[setup.index("requirements/overrides.txt -c"):]
    assert "| .venv/bin/python scripts/explain_conflicts.py" in step.split("fi", 1)[0]
    assert "set -euo pipefail" in setup  # a failing pip still fails the setup through the pipe
