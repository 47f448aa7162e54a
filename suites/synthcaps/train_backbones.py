"""Rebuild SynthCaps and train all mini backbones, deterministically, on CPU.

    python -m suites.synthcaps.train_backbones --out suites/synthcaps/checkpoints
    python -m suites.synthcaps.train_backbones --out OUT_DIR --quick     # a few steps each

Writes `<name>.safetensors` + `<name>.json` for mini_classifier, mini_clap, mini_semantic,
mini_vae and mini_quality, `manifest.json` (sha256 of every file) and `metrics.json` (the
quality bars on SynthCaps test, see suites/synthcaps/evaluation.py).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from pathlib import Path

import torch

from harness.seeding import derive_seed
from suites.synthcaps import evaluation as E
from suites.synthcaps import training as T
from suites.synthcaps.corpus import CorpusConfig, render_split
from suites.synthcaps.weights import save_backbone as save

FULL_STEPS = {"classifier": 600, "clap": 500, "semantic": 600, "vae": 6000, "quality": 500}
QUICK_STEPS = {k: 2 for k in FULL_STEPS}


def _args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="suites/synthcaps/checkpoints")
    p.add_argument("--quick", action="store_true", help="tiny corpus, 2 steps per stage")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads (recorded; 1 is fastest on a shared machine)")
    p.add_argument("--n-train", type=int, default=3000)
    p.add_argument("--n-test", type=int, default=300)
    return p.parse_args(argv)


def _train_stages(train, test, stats, steps, seed, out: Path, log):
    results = {}
    stages = [
        ("mini_classifier", lambda: T.train_classifier(train, stats, steps["classifier"], seed, log),
         lambda m: E.eval_classifier(m, test.audio, test.clip_labels)),
        ("mini_clap", lambda: T.train_clap(train, stats, steps["clap"], seed, log),
         lambda m: E.eval_clap(m, test.audio, test.text_ids[:, 0])),
        ("mini_semantic", lambda: T.train_semantic(train, stats, steps["semantic"], seed, log),
         lambda m: E.eval_semantic(m, test.audio, test.frame_labels)),
        ("mini_vae", lambda: T.train_vae(train, steps["vae"], seed, log),
         lambda m: E.eval_vae(m, test.audio[:50])),
        ("mini_quality", lambda: T.train_quality(train, stats, steps["quality"], seed, log),
         lambda m: E.eval_quality(m, test.audio, seed)),
    ]
    for name, train_fn, eval_fn in stages:
        t0 = time.time()
        model, config = train_fn()
        config.update({"name": name, "seed": seed, "steps": steps[name[5:]]})
        save(model, config, name, out)
        results[name] = {**eval_fn(model), "train_seconds": round(time.time() - t0, 1)}
        log(f"{name}: {results[name]}")
    return results


def main(argv=None) -> int:
    a = _args(argv)
    threads, det = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(a.threads)
    torch.use_deterministic_algorithms(True)
    try:
        t0 = time.time()
        cfg = CorpusConfig(seed=a.seed, n_train=16 if a.quick else a.n_train,
                           n_test=8 if a.quick else a.n_test)
        cs, audio, labels = render_split(cfg, "train")
        train = T.make_data(cs, audio, labels)
        cs, audio, labels = render_split(cfg, "test")
        test = T.make_data(cs, audio, labels)
        print(f"corpus {cfg.id()} rendered in {time.time() - t0:.1f} s")
        stats = T.mel_stats(train.audio)
        out = Path(a.out)
        steps = QUICK_STEPS if a.quick else FULL_STEPS
        results = _train_stages(train, test, stats, steps, derive_seed(a.seed, "mini-backbones"),
                             out, print)
        meta = {"corpus": asdict(cfg), "corpus_id": cfg.id(), "threads": a.threads,
                "quick": a.quick, "steps": steps, "total_seconds": round(time.time() - t0, 1),
                "results": results}
        (out / "metrics.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
        print(json.dumps(results, indent=1))
    finally:
        torch.use_deterministic_algorithms(det)
        torch.set_num_threads(threads)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
