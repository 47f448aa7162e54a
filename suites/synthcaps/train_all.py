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
import subprocess
import sys
import time
from pathlib import Path

from suites.synthcaps.weights import DEFAULT_DIR, write_manifest

GROUPS = (["--variants", "mlp-d16,mlp-d64", "--no-base"], ["--variants", "rawpe-d64"])
"""The system stages in two groups (a synthesizer is 1,200 steps, a planner and the Base Model
6,000 each: 4 planners in the first group, 2 + the Base Model in the second), trained side by
side with `--jobs 2`, one after the other with `--jobs 1`; the files are the same either way
(each stage seeds itself; one training record per group)."""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="sabench mini train", description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(DEFAULT_DIR), help="backbones here, systems in <out>/systems")
    ap.add_argument("--quick", action="store_true", help="tiny corpus and a few steps per stage")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--skip-backbones", action="store_true", help="reuse the backbones already in --out")
    ap.add_argument("--jobs", type=int, default=2, help="system groups trained side by side (1 or 2)")
    a = ap.parse_args(argv)
    from suites.synthcaps import train_backbones

    out, t0 = Path(a.out), time.time()
    common = ["--seed", str(a.seed), "--threads", str(a.threads)] + (["--quick"] if a.quick else [])
    if not a.skip_backbones:
        train_backbones.main(["--out", str(out), *common])
        print(f"backbones done in {time.time() - t0:.0f} s")
    _train_groups(out, [["--out", str(out / "systems"), *common, "--no-manifest", *g] for g in GROUPS], a.jobs)
    write_manifest(out / "systems")
    print(f"mini world trained in {time.time() - t0:.0f} s -> {out}")
    return 0


def _train_groups(out: Path, groups: list[list[str]], jobs: int) -> None:
    """Run `train_systems` once per group in its own process, `jobs` at a time (1 or all), on
    the backbones in `out`."""
    import suites

    root = str(Path(suites.__file__).resolve().parents[1])     # this checkout/install, wherever the cwd is
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "SABENCH_MINI_CHECKPOINTS": str(out), "PYTHONPATH": path}  # encoders = these backbones
    cmds = [[sys.executable, "-m", "suites.synthcaps.train_systems", *g] for g in groups]
    if jobs <= 1:
        codes = [subprocess.run(c, env=env).returncode for c in cmds]
    else:
        codes = [p.wait() for p in [subprocess.Popen(c, env=env) for c in cmds]]
    if any(codes):
        raise SystemExit(f"sabench mini train: a system group failed (exit codes {codes}); see its log above")


if __name__ == "__main__":
    raise SystemExit(main())
