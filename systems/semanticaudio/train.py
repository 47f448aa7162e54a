"""Training for the three stages (synthesizer + head, then planner, or base).

    python -m systems.semanticaudio.train --stage synthesizer --data shards/ --out ckpt/synthesizer
    python -m systems.semanticaudio.train --stage planner --data shards/ --out ckpt/planner \
        --synthesizer ckpt/synthesizer
    python -m systems.semanticaudio.train --stage base --data shards/ --out ckpt/base
    torchrun --nproc_per_node 8 -m systems.semanticaudio.train ...      # DDP when WORLD_SIZE > 1

Python API (what the mini world uses): `Trainer(TrainConfig(...), CachedData(...), head=...)`
then `.train()`; see docs/semanticaudio.md.

Determinism / exact resume: the data order of step s comes from a permutation seeded by
(seed, epoch), and all noise of step s (t, eps, dropout) from a generator seeded by
(seed, step, micro-batch, rank); so no generator state needs saving and a resumed run
reproduces the uninterrupted loss trajectory bit for bit (same device and threads).
LR: linear warm-up over `warmup` steps, then x `decay_factor` at each of `decay_steps`.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch

from harness.seeding import derive_seed, torch_generator
from systems.semanticaudio import checkpoint
from systems.semanticaudio.data import CachedData, load_shards
from systems.semanticaudio.dit import preset
from systems.semanticaudio.flow import FlowConfig
from systems.semanticaudio.heads import HeadConfig, ProjectionHead
from systems.semanticaudio.model import FlowModel, ModelConfig, frozen_head


@dataclass(frozen=True)
class TrainConfig:
    stage: str = "synthesizer"
    preset: str = "mini"
    dit: dict = field(default_factory=dict)
    """DiTConfig overrides on top of the preset (in_dim/frame_dim/text dims are set from data)."""
    variant: str = "mlp"
    d: int = 128
    lr: float = 1e-4
    betas: tuple[float, float] = (0.9, 0.999)
    weight_decay: float = 0.01
    warmup: int = 1000
    decay_steps: tuple[int, ...] = (200_000, 400_000)
    decay_factor: float = 0.5
    steps: int = 500_000
    batch_size: int = 32
    """Per-rank micro-batch size."""
    grad_accum: int = 1
    grad_clip: float = 1.0
    seed: int = 0
    flow: FlowConfig = FlowConfig()
    save_every: int = 10_000
    log_every: int = 100
    out_dir: str = ""
    device: str = "cpu"
    bf16: bool = True
    """bf16 autocast; applied on CUDA only."""
    encoders: str = ""
    """"module:function" of the encoders the data was made with (recorded in checkpoints)."""
    ema: float = 0.0
    """Decay of an exponential moving average of the weights, updated after every optimizer
    step; when > 0 the average is what `model.safetensors` holds (and what inference uses),
    the raw weights go to `raw.safetensors` beside `optimizer.pt` for an exact resume.
    0 = no average (`model.safetensors` = the raw weights)."""

    def to_dict(self) -> dict:
        return asdict(self)


def lr_at(cfg: TrainConfig, step: int) -> float:
    warm = min(1.0, (step + 1) / max(1, cfg.warmup))
    return cfg.lr * warm * cfg.decay_factor ** sum(step >= s for s in cfg.decay_steps)


def model_config(cfg: TrainConfig, data: CachedData, head_cfg: HeadConfig | None) -> ModelConfig:
    over = dict(cfg.dit, text_dim=data.tokens.shape[-1], global_dim=data.glob.shape[-1])
    if cfg.stage == "synthesizer":
        head_cfg = HeadConfig(cfg.variant, data.semantic.shape[-1], cfg.d)
        over.update(in_dim=data.acoustic.shape[-1], frame_dim=head_cfg.d)
    elif cfg.stage == "planner":
        over.update(in_dim=head_cfg.d, frame_dim=0)
    else:
        head_cfg = None
        over.update(in_dim=data.acoustic.shape[-1], frame_dim=0)
    return ModelConfig(cfg.stage, preset(cfg.preset, **over), head_cfg)


class Trainer:
    """Owns the model, optimizer and data for one stage; `train()` runs to cfg.steps."""

    def __init__(self, cfg: TrainConfig, data: CachedData, head: ProjectionHead | None = None):
        if cfg.stage in ("synthesizer",) and data.semantic is None:
            raise ValueError("synthesizer training needs semantic frames in the data")
        if cfg.stage == "planner":
            if head is None:
                raise ValueError("planner training needs the frozen head of a trained synthesizer")
            with torch.no_grad():                                      # targets: P(semantic), once
                data = replace(data, acoustic=head(data.semantic.float()), semantic=None)
        self.cfg, self.data, self.step = cfg, data, 0
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        mcfg = model_config(cfg, data, None if head is None else head.cfg)
        self.model = FlowModel(mcfg, seed=derive_seed(cfg.seed, "init", cfg.stage)).to(cfg.device)
        self.model.set_stats(data.acoustic.to(cfg.device))
        self.net = self._maybe_ddp(self.model)
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=cfg.lr, betas=cfg.betas,
                                     weight_decay=cfg.weight_decay)
        if not 0.0 <= cfg.ema < 1.0:
            raise ValueError(f"ema must be in [0, 1), got {cfg.ema}")
        self.ema = copy.deepcopy(self.model).requires_grad_(False) if cfg.ema else None

    def _maybe_ddp(self, model):
        if self.world <= 1:
            return model
        import torch.distributed as dist
        from torch.nn.parallel import DistributedDataParallel

        if not dist.is_initialized():
            dist.init_process_group("nccl" if self.cfg.device.startswith("cuda") else "gloo")
        ids = [torch.device(self.cfg.device).index] if self.cfg.device.startswith("cuda") else None
        return DistributedDataParallel(model, device_ids=ids, find_unused_parameters=True)

    def batch_indices(self, step: int, micro: int) -> torch.Tensor:
        """This rank's rows for (step, micro): a slice of the seeded per-epoch permutation."""
        n, per = len(self.data), self.cfg.batch_size * self.world
        start = ((step * self.cfg.grad_accum + micro) * per) + self.rank * self.cfg.batch_size
        pos = torch.arange(start, start + self.cfg.batch_size)         # global sample positions
        out = torch.empty_like(pos)
        for epoch in pos.div(n, rounding_mode="floor").unique().tolist():
            perm = torch.randperm(n, generator=torch_generator(derive_seed(self.cfg.seed, "epoch", epoch)))
            sel = pos.div(n, rounding_mode="floor") == epoch
            out[sel] = perm[pos[sel] % n]
        return out

    def train_step(self) -> float:
        cfg, dev = self.cfg, self.cfg.device
        for g in self.opt.param_groups:
            g["lr"] = lr_at(cfg, self.step)
        self.opt.zero_grad(set_to_none=True)
        total = 0.0
        for micro in range(cfg.grad_accum):
            idx = self.batch_indices(self.step, micro)
            gen = torch_generator(derive_seed(cfg.seed, "step", self.step, micro, self.rank))
            x, cond = self.data.acoustic[idx].to(dev), self.data.cond(idx, dev)
            with torch.autocast("cuda", torch.bfloat16, enabled=cfg.bf16 and dev.startswith("cuda")):
                loss = self.net(x, cond, cfg.flow, gen)               # DDP all-reduces via forward
            (loss / cfg.grad_accum).backward()
            total += float(loss.detach()) / cfg.grad_accum
        if cfg.grad_clip:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
        self.opt.step()
        if self.ema is not None:
            with torch.no_grad():                                      # ema <- ema + (1 - decay) (w - ema)
                for e, w in zip(self.ema.parameters(), self.model.parameters(), strict=True):
                    e.lerp_(w, 1.0 - cfg.ema)
        self.step += 1
        return total

    def extra(self) -> dict:
        return {"step": self.step, "train": self.cfg.to_dict(), "flow": self.cfg.flow.to_dict(),
                "encoders": self.cfg.encoders}

    @property
    def inference_model(self) -> FlowModel:
        """What model.safetensors holds: the average when ema > 0, else the trained weights."""
        return self.model if self.ema is None else self.ema

    def save(self, out_dir: str | Path | None = None) -> Path | None:
        if self.rank != 0:
            return None
        d = checkpoint.save(out_dir or self.cfg.out_dir, self.inference_model, self.extra(), self.opt)
        if self.ema is not None:
            checkpoint.save_raw(d, self.model)
        return d

    def resume(self, ckpt_dir: str | Path) -> None:
        conf = checkpoint.load_into(ckpt_dir, self.inference_model)
        if self.ema is not None:
            checkpoint.load_raw(ckpt_dir, self.model)
        checkpoint.load_optimizer(ckpt_dir, self.opt)
        self.step = int(conf["step"])

    def train(self, until: int | None = None, log=print) -> list[float]:
        losses, t0 = [], time.time()
        until = self.cfg.steps if until is None else until
        while self.step < until:
            losses.append(self.train_step())
            if self.cfg.log_every and self.step % self.cfg.log_every == 0 and self.rank == 0:
                log(f"step {self.step} loss {losses[-1]:.4f} lr {lr_at(self.cfg, self.step - 1):.2e} "
                    f"{(time.time() - t0) / len(losses):.3f}s/step")
            if self.cfg.out_dir and self.cfg.save_every and self.step % self.cfg.save_every == 0:
                self.save()
        return losses


# ----------------------------------------------------------------------------- CLI

def _parse(argv=None) -> tuple[TrainConfig, argparse.Namespace]:
    ap = argparse.ArgumentParser(prog="python -m systems.semanticaudio.train", description=__doc__.split("\n")[0])
    ap.add_argument("--stage", choices=("synthesizer", "planner", "base"), required=True)
    ap.add_argument("--data", required=True, help="folder of shard-*.safetensors (see data.precompute)")
    ap.add_argument("--out", required=True, help="checkpoint folder to write")
    ap.add_argument("--synthesizer", help="trained synthesizer checkpoint (planner stage: frozen head)")
    ap.add_argument("--resume", help="checkpoint folder to resume from (exact)")
    ap.add_argument("--preset", default="mini")
    ap.add_argument("--dit", default="{}", help='JSON DiTConfig overrides, e.g. {"depth": 6}')
    ap.add_argument("--variant", default="mlp", choices=("mlp", "ddt", "rawpe"))
    ap.add_argument("--d", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--warmup", type=int, default=1000)
    ap.add_argument("--decay-steps", default="200000,400000")
    ap.add_argument("--steps", type=int, default=500_000)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--grad-accum", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--save-every", type=int, default=10_000)
    ap.add_argument("--log-every", type=int, default=100)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--no-bf16", action="store_true")
    ap.add_argument("--encoders", default="", help="module:function of the encoders used for --data")
    ap.add_argument("--ema", type=float, default=0.0,
                    help="EMA decay of the saved weights, e.g. 0.9999 (0 = save the raw weights)")
    a = ap.parse_args(argv)
    if a.device.startswith("cuda") and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        a.device = f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
    decay = tuple(int(s) for s in a.decay_steps.split(",") if s)
    cfg = TrainConfig(stage=a.stage, preset=a.preset, dit=json.loads(a.dit), variant=a.variant, d=a.d, lr=a.lr,
                      weight_decay=a.weight_decay, warmup=a.warmup, decay_steps=decay, steps=a.steps,
                      batch_size=a.batch_size, grad_accum=a.grad_accum, seed=a.seed, save_every=a.save_every,
                      log_every=a.log_every, out_dir=a.out, device=a.device, bf16=not a.no_bf16, encoders=a.encoders,
                      ema=a.ema)
    return cfg, a


def main(argv=None) -> None:
    cfg, a = _parse(argv)
    data, head = load_shards(a.data), None
    if cfg.stage == "planner":
        if not a.synthesizer:
            raise SystemExit("--stage planner needs --synthesizer <trained synthesizer checkpoint>")
        synth, _ = checkpoint.load_model(a.synthesizer)
        head = frozen_head(synth)
    trainer = Trainer(cfg, data, head)
    if a.resume:
        trainer.resume(a.resume)
    trainer.train()
    trainer.save()


if __name__ == "__main__":
    main()
