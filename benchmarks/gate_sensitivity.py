"""How large a regression the mini CI gate catches, axis by axis.

    PYTHONPATH=. .venv/bin/python benchmarks/gate_sensitivity.py [--scales 0,0.05,0.1,0.25,0.5]

For each scale s, the gate's system (SemanticAudio mlp d16, `suites/synthcaps/gate.py`) is
copied with N(0, (s * std)^2) added to every weight matrix of its planner (std of that matrix;
seeded), the gate run is made on the copy, and it is compared with the committed baseline.
s = 0 is the committed model itself (the identical run must pass). Prints, per scale, each
gated metric's value, its change against the baseline, and whether the gate passed. A script,
not a test (it takes ~1 min per scale on one core); `tests/mini_systems/test_mini_gate.py`
checks s = 0 passes and s = 0.5 fails.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv=None) -> int:
    import torch

    from suites.synthcaps import gate
    from suites.synthcaps.weights import checkpoint_dir

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", default="0,0.05,0.1,0.25,0.5")
    ap.add_argument("--out", help="write the table as JSON here")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)                                   # the baseline's thread count
    name, match = gate.SYSTEM
    leaf = f"{match['variant']}-d{match['d']}"
    rows = []
    for scale in [float(s) for s in a.scales.split(",")]:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "ckpt"
            root.mkdir()
            gate.degrade_planner(checkpoint_dir() / "systems" / leaf, root / leaf, scale)
            result = gate.compare(gate.gate_run(Path(tmp) / "run", checkpoint_root=root))
        cells = {r.metric: {"value": r.current, "baseline": r.baseline, "status": r.status} for r in result.rows}
        rows.append({"scale": scale, "passed": result.passed, "metrics": cells})
        print(f"s={scale:<5g} {'PASS' if result.passed else 'FAIL'}  " + "  ".join(
            f"{m}: {c['value']:.3f} ({c['value'] - c['baseline']:+.3f}, {c['status']})"
            for m, c in cells.items() if isinstance(c["value"], float) and isinstance(c["baseline"], float)),
            flush=True)
    if a.out:
        Path(a.out).write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
