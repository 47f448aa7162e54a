"""Batched vs one-at-a-time rendering of the third-party adapters that batch (SemanticVocoder
text-to-latent sampling; its vocoder decode), measured in one run on random weights.

    python benchmarks/adapter_batching.py [--batch 8] [--steps 10] [--device cpu] [--width 384]

The text-to-latent network is SemanticVocoder's UDiT at `--width` (depth 6) over 768-d latents
of 250 frames (10 s), with CFG (so every step is one forward over 2B rows); the vocoder is the
tiny test configuration. Outputs of the two ways agree to float32 rounding (checked here too).
Throughput does not depend on the weights' values; the ratio is what matters.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def build(width: int, device: str):
    from dataclasses import replace

    from systems.adapterkit import tiny_tokenizer
    from systems.semanticvocoder.tiny import TINY_BACKBONE, TINY_VOCODER, random_tta, tta_config
    from systems.semanticvocoder.tta import TextToAudio

    backbone = dict(TINY_BACKBONE, in_chans=768, embed_dim=width, depth=6, num_heads=max(1, width // 64),
                    context_dim=64)
    net = random_tta(tta_config(backbone, replace(TINY_VOCODER, latent_dim=768), 64), seed=0)
    net.model.to(device)
    return TextToAudio(net, tiny_tokenizer(), "random")


def timed(fn, device: str) -> tuple[float, object]:
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    out = fn()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter() - t0, out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--vocoder-steps", type=int, default=4)
    ap.add_argument("--width", type=int, default=384)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args(argv)
    tta = build(args.width, args.device)
    texts = [f"a dog barks {'loudly ' * (i % 3)}while rain falls" for i in range(args.batch)]
    gens = lambda: [torch.Generator().manual_seed(i) for i in range(args.batch)]  # noqa: E731
    render = lambda ts, gs: tta.render(ts, 10.0, gs, args.steps, 3.5, -1.0, args.vocoder_steps)  # noqa: E731
    render(texts[:1], gens()[:1])                                                    # warm-up
    t_one, ones = timed(lambda: [render([t], [g]) for t, g in zip(texts, gens(), strict=True)], args.device)
    t_all, together = timed(lambda: render(texts, gens()), args.device)
    err = max(float((together[i] - ones[i][0]).abs().max() / ones[i].abs().max()) for i in range(args.batch))
    print(f"SemanticVocoder text-to-audio, width {args.width}, {args.steps} steps + {args.vocoder_steps} vocoder "
          f"steps, 10 s, batch {args.batch} on {args.device}:")
    print(f"  one at a time {t_one:.2f} s, batched {t_all:.2f} s -> {t_one / t_all:.2f}x "
          f"(max relative difference {err:.1e})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
