"""Train the mini SemanticAudio systems and the mini Base Model on SynthCaps train, with the
same `systems.semanticaudio.train.Trainer` that trains the full-size models.

    python -m suites.synthcaps.train_systems --out suites/synthcaps/checkpoints/systems
    python -m suites.synthcaps.train_systems --out OUT_DIR --quick      # a few steps each

Stages (docs/semanticaudio.md): for each head (mlp d16, mlp d64, rawpe d64) the synthesizer +
head, then the planner on the frozen head's targets; then the Base Model. Data: the first
`n_train` SynthCaps train clips (4 s, 100 latent frames), each paired with its three captions
(canonical + two paraphrases: 3 rows per clip, same audio), encoded once by the mini encoders
(`suites.synthcaps.mini_encoders`). Deterministic: corpus, init, data order and noise all
derive from `--seed` (same thread count -> identical weights). The optimizer state is not
kept (the committed folder holds weights + config only); `training-<parts>.json` records sizes,
steps, seconds per step and loss summaries; `manifest.json` the sha256 of every file.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from harness.seeding import derive_seed
from suites.synthcaps.mini_encoders import SPEC, mini_encoders
from suites.synthcaps.weights import write_manifest
from systems.semanticaudio import checkpoint
from systems.semanticaudio.data import CachedData
from systems.semanticaudio.encoders import Encoders
from systems.semanticaudio.model import frozen_head
from systems.semanticaudio.train import TrainConfig, Trainer

VARIANTS = (("mlp", 16), ("mlp", 64), ("rawpe", 64))
"""(variant, d) of the committed SemanticAudio systems (rawPE: d = the semantic width)."""
DIT = {"width": 96, "depth": 3, "heads": 4, "mlp_ratio": 2.0, "adaln": "single", "abs_pos": True}
"""DiT of every mini system (0.53 M parameters for a synthesizer: the 10 models + the backbones
stay under the 40 MB budget of committed mini checkpoints; see training-*.json). `abs_pos`:
absolute frame positions next to RoPE; without them these 3-layer planners got event order
right in 0.38 of pairs, with them 0.85 (docs/mini_world.md)."""


@dataclass(frozen=True)
class MiniPlan:
    """Every knob that changes the trained weights (recorded in training-*.json)."""

    n_train: int = 3000
    steps: dict = field(default_factory=lambda: {"synthesizer": 1200, "planner": 6000, "base": 6000})
    batch_size: int = 32
    lr: float = 1e-3
    warmup: int = 50
    decay_at: float = 0.75
    """LR x 0.5 after this fraction of each stage's steps."""
    seed: int = 0
    duration: float = 4.0
    dit: dict = field(default_factory=lambda: dict(DIT))
    variants: tuple = VARIANTS
    base: bool = True
    """Train the Base Model too."""
    planner_seeds: int = 2
    """Planners per head, each from its own seed (k = 0 in `planner/`, k >= 1 in
    `planner-seed<k>/`): the spread between seeds is what a variant comparison is judged by."""
    ema: dict = field(default_factory=lambda: {"synthesizer": 0.0, "planner": 0.999, "base": 0.999})
    """EMA decay of the saved weights per stage (`TrainConfig.ema`; 0 = raw weights). The planner
    and the Base Model, the two text-to-latent generators compared in the tables, get the same
    average; the synthesizer's 1,200 steps are too few for a 1,000-step horizon."""


QUICK = MiniPlan(n_train=12, steps={"synthesizer": 3, "planner": 3, "base": 3}, batch_size=4, warmup=1,
                 variants=(("mlp", 16),))


def planner_seed(seed: int, k: int) -> int:
    """Training seed of planner k (k = 0: the seed every stage shares, as before seeds were a knob)."""
    return derive_seed(seed, "mini-systems") if k == 0 else derive_seed(seed, "mini-systems", "planner", k)


def planner_folder(k: int) -> str:
    return "planner" if k == 0 else f"planner-seed{k}"


def encode_corpus(enc: Encoders, n: int, seed: int, duration: float, chunk: int = 50) -> CachedData:
    """SynthCaps train clips -> CachedData with 3 caption rows per clip."""
    from suites.synthcaps.corpus import CorpusConfig, render_split

    cfg = CorpusConfig(seed=seed, duration=duration, n_train=max(n, 1))
    clips, audio, _ = render_split(cfg, "train", n)                     # audio (N, T) @ 16 kHz
    wave = torch.from_numpy(audio)
    acoustic = torch.cat([enc.vae.encode(wave[i:i + chunk]) for i in range(0, len(wave), chunk)])   # (N, F, 32)
    semantic = torch.cat([enc.semantic.encode(wave[i:i + chunk]) for i in range(0, len(wave), chunk)])  # (N, F, 64)
    texts = [t for c in clips for t in (c.caption, *c.paraphrases)[:3]]
    per = len(texts) // len(clips)
    feats = enc.text.encode(texts)                                      # tokens (3N, L, 192)
    rep = torch.arange(len(clips)).repeat_interleave(per)               # row -> clip
    return CachedData(acoustic=acoustic[rep], tokens=feats.tokens, mask=feats.mask, glob=feats.glob,
                      semantic=semantic[rep])


def _run(cfg: TrainConfig, data: CachedData, head=None, log=print) -> tuple[Trainer, dict]:
    t0 = time.time()
    trainer = Trainer(cfg, data, head)
    losses = trainer.train(log=log)
    k = max(1, len(losses) // 10)
    n_params = sum(p.numel() for p in trainer.model.parameters())
    summary = {"steps": len(losses), "params": n_params, "seconds": round(time.time() - t0, 1),
               "s_per_step": round((time.time() - t0) / max(1, len(losses)), 4),
               "loss_first_10pct": round(sum(losses[:k]) / k, 4), "loss_last_10pct": round(sum(losses[-k:]) / k, 4)}
    return trainer, summary


def _save(trainer: Trainer, path: Path) -> None:
    trainer.save(path)
    for state in ("optimizer.pt", checkpoint.RAW):                   # weights + config only
        (path / state).unlink(missing_ok=True)


def train_stages(plan: MiniPlan, out: Path, enc: Encoders | None = None, log=print, manifest: bool = True) -> dict:
    """Train every stage of `plan` into `out`; returns the training record (also written).
    `manifest=False` leaves `manifest.json` to the caller (groups trained in parallel)."""
    out.mkdir(parents=True, exist_ok=True)
    enc = enc or mini_encoders()
    t0 = time.time()
    data = encode_corpus(enc, plan.n_train, plan.seed, plan.duration)
    log(f"data: {data.describe()} in {time.time() - t0:.1f} s")
    seed = derive_seed(plan.seed, "mini-systems")
    common = dict(preset="mini", dit=dict(plan.dit), batch_size=plan.batch_size, lr=plan.lr, warmup=plan.warmup,
                  seed=seed, encoders=SPEC, log_every=100, save_every=0)

    def decay(stage: str) -> tuple[int, ...]:
        return (int(plan.steps[stage] * plan.decay_at),)

    record = {"plan": {**plan.__dict__, "variants": [list(v) for v in plan.variants]},
              "data": data.describe(), "encoders": SPEC, "encoders_sha256": enc.sha256,
              "threads": torch.get_num_threads(), "stages": {}}
    for variant, d in plan.variants:
        name = f"{variant}-d{d}"
        synth, s = _run(TrainConfig(stage="synthesizer", variant=variant, d=d, steps=plan.steps["synthesizer"],
                                    decay_steps=decay("synthesizer"), ema=plan.ema["synthesizer"], **common),
                        data, log=log)
        _save(synth, out / name / "synthesizer")
        record["stages"][f"{name}/synthesizer"] = s
        log(f"{name}/synthesizer: {s}")
        for k in range(plan.planner_seeds):
            pcfg = TrainConfig(stage="planner", variant=variant, d=d, steps=plan.steps["planner"],
                               decay_steps=decay("planner"), ema=plan.ema["planner"],
                               **{**common, "seed": planner_seed(plan.seed, k)})
            planner, s = _run(pcfg, data, head=frozen_head(synth.model), log=log)
            _save(planner, out / name / planner_folder(k))
            record["stages"][f"{name}/{planner_folder(k)}"] = s
            log(f"{name}/{planner_folder(k)}: {s}")
    if plan.base:
        base, s = _run(TrainConfig(stage="base", steps=plan.steps["base"], decay_steps=decay("base"),
                                   ema=plan.ema["base"], **common), data, log=log)
        _save(base, out / "base")
        record["stages"]["base"] = s
        log(f"base: {s}")
    record["total_seconds"] = round(time.time() - t0, 1)
    tag = "-".join([f"{v}-d{d}" for v, d in plan.variants] + (["base"] if plan.base else []))
    (out / f"training-{tag}.json").write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    if manifest:
        write_manifest(out)
    return record


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="suites/synthcaps/checkpoints/systems")
    ap.add_argument("--quick", action="store_true", help="12 clips, 3 steps per stage, one head")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (recorded)")
    ap.add_argument("--variants", help="comma list of variant-dD (default: mlp-d16,mlp-d64,rawpe-d64); "
                    "'none' for the Base Model only")
    ap.add_argument("--no-base", action="store_true", help="skip the Base Model")
    ap.add_argument("--steps-scale", type=float, default=1.0, help="multiply every stage's steps (recorded)")
    ap.add_argument("--planner-seeds", type=int, help="planners per head (default 2; recorded)")
    ap.add_argument("--no-manifest", action="store_true", help="do not (re)write manifest.json (parallel groups)")
    a = ap.parse_args(argv)
    base = QUICK if a.quick else MiniPlan()
    steps = {k: max(1, int(round(v * a.steps_scale))) for k, v in base.steps.items()}
    variants = base.variants if not a.variants else tuple(
        (v.rsplit("-d", 1)[0], int(v.rsplit("-d", 1)[1])) for v in a.variants.split(",") if v != "none")
    seeds = base.planner_seeds if a.planner_seeds is None else a.planner_seeds
    plan = MiniPlan(**{**base.__dict__, "seed": a.seed, "steps": steps, "variants": variants,
                       "base": base.base and not a.no_base, "planner_seeds": seeds})
    threads = torch.get_num_threads()
    torch.set_num_threads(a.threads)
    try:
        train_stages(plan, Path(a.out), manifest=not a.no_manifest)
    finally:
        torch.set_num_threads(threads)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
