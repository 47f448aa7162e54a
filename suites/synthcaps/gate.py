"""The CI gate of the committed mini models: a small, fixed mini run compared with
`suites/synthcaps/baseline.json` through `reports.gate`.

    python -m suites.synthcaps.gate                    # run + compare (exit 1 on regression)
    python -m suites.synthcaps.gate --write-baseline   # after retraining (sabench mini train)

The gate run: suite `mini-generation`, its first `LIMIT` prompts, system `semanticaudio`
(mlp, d 16) with exactly the parameters of `suites/jobs/mini.yaml`, on the committed
checkpoints (or `checkpoint_root`). The run is deterministic at a fixed thread count, so the
tolerances below only absorb float differences across CPUs and library versions; a change
that degrades a committed model (backbone or system) moves the numbers well past them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

BASELINE = Path(__file__).resolve().parent / "baseline.json"
SUITE = "mini-generation"
LIMIT = 48
"""IS needs at least 10 clips (10 splits); 48 gives event presence and order a resolution of
1/48 per item (24 before the systems were strong enough to register on them) and keeps the run
near a minute on one core."""
SYSTEM = ("semanticaudio", {"variant": "mlp", "d": 16})
TOLERANCES = {
    "mini_fd": ("rel", 0.08),            # FD of 48 clips in a 128-d space amplifies float noise
    "mini_is": ("rel", 0.05),
    "mini_kl_ref_to_gen": ("abs", 0.3),
    "mini_clap": ("abs", 0.02),          # cosine in [-1, 1]
    "mini_event_presence": ("abs", 0.07),   # 3 of 48 items may flip at a threshold (float noise across CPUs)
    "mini_event_order": ("abs", 0.07),
}


def system_params(name: str, match: dict[str, Any]) -> dict[str, Any]:
    """The parameters the default job gives this system (from suites/jobs/mini.yaml)."""
    from harness.job import load_job
    from harness.system_spec import parse_system_spec as parse_system

    for group in load_job("mini").groups:
        for spec in group.systems:
            sys_name, params = parse_system(spec)
            if sys_name == name and all(params.get(k) == v for k, v in match.items()):
                return params
    raise KeyError(f"{name} {match} is not in suites/jobs/mini.yaml")


def gate_run(out_dir: str | Path, checkpoint_root: str | Path | None = None, limit: int = LIMIT):
    """Run the gate configuration into `out_dir`; returns the `RunResult`."""
    from harness.registry import SYSTEMS, load_catalog
    from harness.runner import run_suite
    from harness.suite import load_suite

    load_catalog()
    name, match = SYSTEM
    params = system_params(name, match)
    if checkpoint_root is not None:
        params["checkpoint"] = str(Path(checkpoint_root) / f"{params['variant']}-d{params['d']}")
    system = SYSTEMS.get(name)(**params)
    return run_suite(load_suite(SUITE), system, out_dir=out_dir, limit=limit, progress=False)


def degrade_planner(src: str | Path, dst: str | Path, scale: float, seed: int = 0) -> None:
    """Copy variant folder `src` to `dst`, adding N(0, (scale * std)^2) to every weight matrix of
    its planner (std of that matrix; seeded): the regression the gate must catch."""
    import shutil

    import torch
    from safetensors.torch import load_file, save_file

    shutil.copytree(src, dst)
    if scale == 0:
        return
    path = Path(dst) / "planner" / "model.safetensors"
    state = load_file(str(path))
    gen = torch.Generator().manual_seed(seed)
    for k, v in state.items():
        if v.dim() == 2 and v.numel() > 64:
            state[k] = v + scale * v.std() * torch.randn(v.shape, generator=gen)
    save_file(state, str(path))


def compare(run, baseline: str | Path = BASELINE):
    from reports.gate import Tolerance, read_baseline
    from reports.gate import compare as gate_compare

    tol = {k: Tolerance(kind, amount) for k, (kind, amount) in TOLERANCES.items()}
    return gate_compare(run, read_baseline(baseline), tol)


def main(argv=None) -> int:
    import tempfile

    from reports.gate import write_baseline

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write-baseline", action="store_true", help=f"write {BASELINE.name} from this run")
    ap.add_argument("--out", help="run folder (default: a temporary folder)")
    a = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)                               # the thread count of the baseline and the CI test
    with tempfile.TemporaryDirectory() as tmp:
        run = gate_run(a.out or tmp)
        if a.write_baseline:
            print(f"baseline written: {write_baseline(run, BASELINE)}")
            return 0
        result = compare(run)
    print(result.table(), end="")
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
