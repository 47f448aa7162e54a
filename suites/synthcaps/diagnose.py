"""Where a mini system loses the prompted events: the same event detector and CLAP on each
stage of the generation chain, on the `mini-generation` prompts.

    python -m suites.synthcaps.diagnose [--n 184] [--variant mlp --d 16] [--cfg 4.5,2]

Rows (each scored like the suite: event presence = detected set equals the prompt's, event
order over foreground pairs, CLAP = cosine of `mini_clap` audio and text embeddings):

1. `reference`: the rendered clips (the detector's own ceiling);
2. `vae round trip`: decode(encode(reference)) through `mini_vae` (every system's ceiling:
   all of them generate VAE latents);
3. `synthesizer | true semantics`: SemanticAudio's synthesizer from the reference's own
   semantic latents and the caption (the planner's ceiling);
4. `semanticaudio` / `base-model` generation at each planner/base CFG of `--cfg`.

A diagnostic, not a suite: the numbers are close to the suite's but computed in one process
without the artifact store (CLAP on the raw prompt text). Seeds are the row indices.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import lru_cache

import numpy as np
import torch

from harness.audio import read
from suites.synthcaps import metrics as N
from suites.synthcaps.suite_loaders import generation

BATCH = 16


@lru_cache(maxsize=1)
def _scorers():
    """The suite's detector and CLAP, loaded (and sha256-verified) once per process."""
    from suites.synthcaps.backbones.backbones import MiniClap, MiniSemantic

    sem, clap = MiniSemantic(), MiniClap()
    sem.load()
    clap.load()
    return sem, clap


def score(wavs: np.ndarray, prompts: Sequence) -> dict[str, float]:
    """wavs (B, N) @ 16 kHz -> mean event presence, event order and CLAP over `prompts`."""
    sem, clap = _scorers()
    pres, order, cos = [], [], []
    for i in range(0, len(wavs), 32):
        rows, ps = list(wavs[i:i + 32]), prompts[i:i + 32]
        frames, audio = sem.embed(rows)["frame_logits"], clap.embed(rows)["embedding"]   # (b, T25, 14), (b, 128)
        text = clap.embed_text([p.text for p in ps])                                   # (b, 128)
        for j, p in enumerate(ps):
            probs = N.sigmoid(frames[j])
            pres.append(N.presence_exact(N.detected_sources(probs), p.tag("events", ())))
            o = N.order_accuracy(probs, p.tag("order", ()))
            if o is not None:
                order.append(o)
            cos.append(float(np.dot(audio[j], text[j])))
    return {"presence": float(np.mean(pres)), "order": float(np.mean(order)), "clap": float(np.mean(cos))}


def _batched(fn: Callable[[slice], torch.Tensor], n: int) -> np.ndarray:
    return torch.cat([fn(slice(i, min(i + BATCH, n))) for i in range(0, n, BATCH)]).numpy()


def rows(n: int, variant: str, d: int, cfgs: Sequence[float], planner: str = "planner"):
    """Yield (row name, scores) for every stage of the chain."""
    from systems.base_model import BaseModelSystem
    from systems.semanticaudio.adapter import SemanticAudioSystem

    prompts = generation(split="test", n=n, min_foreground=2)
    ref = torch.from_numpy(np.stack([read(p.reference).samples[0] for p in prompts]))  # (n, N) @ 16 kHz
    texts, seeds, size = [p.text for p in prompts], list(range(len(prompts))), ref.shape[-1]
    yield "reference", score(ref.numpy(), prompts)
    base = BaseModelSystem(profile="mini")
    base.load()
    yield "vae round trip", score(_batched(lambda s: base._pipe.reconstruct(ref[s]), len(ref)), prompts)
    sa = SemanticAudioSystem(profile="mini", variant=variant, d=d, planner=planner)
    sa.load()
    pipe, frames = sa._pipe, -(-size // 640)

    def oracle(s: slice) -> torch.Tensor:
        z = pipe.synthesize(pipe.semantic(ref[s], frames), pipe.text_cond(texts[s]), seeds[s])
        return pipe.decode(z, size)

    yield f"synthesizer | true semantics ({variant} d{d})", score(_batched(oracle, len(ref)), prompts)
    for cfg in cfgs:                     # same weights, only the guidance scale changes
        for label, p, knob in ((f"semanticaudio {variant} d{d} {planner}", pipe, "planner_cfg"),
                               ("base-model", base._pipe, "base_cfg")):
            p.icfg = replace(p.icfg, **{knob: cfg})
            wav = _batched(lambda s, p=p: p.generate(texts[s], frames, size, seeds[s]), len(ref))
            yield f"{label}, CFG {cfg:g}", score(wav, prompts)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=184)
    ap.add_argument("--variant", default="mlp")
    ap.add_argument("--d", type=int, default=16)
    ap.add_argument("--planner", default="planner")
    ap.add_argument("--cfg", default="4.5", help="comma list of planner / Base Model CFG scales")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    print(f"{'row':52s} presence  order   CLAP")
    for name, s in rows(a.n, a.variant, a.d, [float(c) for c in a.cfg.split(",")], a.planner):
        print(f"{name:52s} {s['presence']:8.3f} {s['order']:6.3f} {s['clap']:6.3f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
