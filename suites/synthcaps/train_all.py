"""One command for the whole mini world: SynthCaps corpus -> mini backbones -> mini systems.

    python -m suites.synthcaps.train_all                 # = sabench mini train
    python -m suites.synthcaps.train_all --quick --out OUT_DIR     # a few steps each (CI)

Step 1 renders the corpus and trains the five backbones (`suites.synthcaps.train_backbones`,
into `<out>/`); step 2 trains SemanticAudio (mlp d16, mlp d64, rawPE) and the Base Model on
the new backbones' encoders (`suites.synthcaps.train_systems`, into `<out>/systems/`). Both
steps are deterministic from `--seed` at a fixed thread count; each writes a sha256 manifest.
With the default `--out` the committed checkpoints are replaced; rerun `sabench run` and
rewrite `suites/synthcaps/baseline.json` afterwards (see docs/mini_world.md).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from suites.synthcaps.weights import DEFAULT_DIR


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="sabench mini train", description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(DEFAULT_DIR), help="backbones here, systems in <out>/systems")
    ap.add_argument("--quick", action="store_true", help="tiny corpus and a few steps per stage")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--skip-backbones", action="store_true", help="reuse the backbones already in --out")
    a = ap.parse_args(argv)
    from suites.synthcaps import train_backbones, train_systems

    out, t0 = Path(a.out), time.time()
    common = ["--seed", str(a.seed), "--threads", str(a.threads)] + (["--quick"] if a.quick else [])
    if not a.skip_backbones:
        train_backbones.main(["--out", str(out), *common])
        print(f"backbones done in {time.time() - t0:.0f} s")
    old = os.environ.get("SABENCH_MINI_CHECKPOINTS")
    os.environ["SABENCH_MINI_CHECKPOINTS"] = str(out)           # the systems' encoders = these backbones
    try:
        train_systems.main(["--out", str(out / "systems"), *common])
    finally:
        if old is None:
            os.environ.pop("SABENCH_MINI_CHECKPOINTS", None)
        else:
            os.environ["SABENCH_MINI_CHECKPOINTS"] = old
    print(f"mini world trained in {time.time() - t0:.0f} s -> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
