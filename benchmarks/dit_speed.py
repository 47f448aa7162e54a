"""DiT throughput: training steps and sampling steps per second, and achieved FLOP/s as a
fraction of this machine's dense matmul FLOP/s measured in the same run.

    python benchmarks/dit_speed.py [--preset small] [--batch 8] [--frames 250] [--device cpu]

FLOPs are counted by `torch.utils.flop_counter.FlopCounterMode` on one real step (matmuls
and attention; elementwise ops are not counted, so the fraction is a lower bound on how
busy the matmul units are). The matmul reference is the best of several square fp32
(bf16 on CUDA) matmuls of size `--matmul-n`. Target: >= 40 % of the matmul rate.
"""

from __future__ import annotations

import argparse
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from harness.seeding import torch_generator
from systems.semanticaudio.dit import DiT, count_parameters, preset
from systems.semanticaudio.flow import Cond, FlowConfig, flow_loss, guided_velocity


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(fn, device: str, repeat: int) -> float:
    """Best wall time of `repeat` calls (after one warm-up)."""
    fn()
    _sync(device)
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        _sync(device)
        best = min(best, time.perf_counter() - t0)
    return best


def matmul_flops(n: int, device: str, dtype, repeat: int = 5) -> float:
    g = torch_generator(0)
    a = torch.randn(n, n, generator=g).to(device, dtype)
    b = torch.randn(n, n, generator=g).to(device, dtype)
    return 2 * n ** 3 / timed(lambda: a @ b, device, repeat)


def counted(fn) -> int:
    with FlopCounterMode(display=False) as fc:
        fn()
    return int(fc.get_total_flops())


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--preset", default="small")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--frames", type=int, default=250)
    ap.add_argument("--tokens", type=int, default=32)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--matmul-n", type=int, default=1024)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch default)")
    a = ap.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    dev = a.device
    cfg = preset(a.preset, in_dim=128, text_dim=1024, global_dim=512)
    g = torch_generator(0)
    net = DiT(cfg).to(dev)
    B, T, L = a.batch, a.frames, a.tokens
    x0 = torch.randn(B, T, 128, generator=g).to(dev)                  # (B, T, 128) acoustic latents
    cond = Cond(torch.randn(B, L, 1024, generator=g), torch.ones(B, L, dtype=torch.bool),
                torch.randn(B, 512, generator=g)).to(dev)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-4)
    amp = dict(device_type="cuda", dtype=torch.bfloat16, enabled=dev.startswith("cuda"))

    def train_step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast(**amp):
            loss = flow_loss(net, x0, cond, FlowConfig(), torch_generator(1))
        loss.backward()
        opt.step()

    @torch.no_grad()
    def sample_step():                                                  # one Euler step with CFG (2B rows)
        with torch.autocast(**amp):
            guided_velocity(net, x0, 0.5, cond, 4.5)

    f_train, f_sample = counted(train_step), counted(sample_step)
    t_train, t_sample = timed(train_step, dev, a.repeat), timed(sample_step, dev, a.repeat)
    peak = matmul_flops(a.matmul_n, dev, torch.bfloat16 if dev.startswith("cuda") else torch.float32)
    print(f"device {dev}, threads {torch.get_num_threads()}, preset {a.preset} "
          f"({count_parameters(net) / 1e6:.1f} M params), batch {B} x {T} frames, {L} text tokens")
    print(f"dense matmul ({a.matmul_n}^3): {peak / 1e9:.1f} GFLOP/s")
    for name, f, t, n in (("train step", f_train, t_train, B), ("sampling step (CFG)", f_sample, t_sample, B)):
        rate = f / t
        print(f"{name:>20}: {t * 1e3:8.1f} ms, {n / t:7.1f} clips/s, {rate / 1e9:7.1f} GFLOP/s "
              f"= {100 * rate / peak:5.1f} % of matmul peak (target >= 40 %)")


if __name__ == "__main__":
    main()
