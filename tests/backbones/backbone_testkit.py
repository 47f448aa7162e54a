"""Test kit for the real-backbone tests: seeded construction, noise clips, and tiny tokenizer
and config files in the published on-disk formats.

Byte-level BPE (`vocab.json` + `merges.txt`, GPT-2 / RoBERTa / BART format) and WordPiece
(`vocab.txt`, BERT format). The vocabularies are small but complete at the byte level, so any
text tokenises; the real loaders read them exactly as they read the published files.
"""

from __future__ import annotations

import json
from pathlib import Path

MERGES = [("Ġ", "a"), ("d", "o"), ("Ġ", "do"), ("g", "s"), ("Ġdo", "gs"), ("r", "a"), ("i", "n"),
          ("ra", "in"), ("Ġ", "rain")]


def byte_chars() -> list[str]:
    """The 256 byte-level symbols in GPT-2 order ('!' first, so '!' is id 0 for GPT-2)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for c in cs]


def write_bpe(folder: Path, head: list[str], tail: list[str]) -> int:
    """vocab.json (head specials, bytes, merged symbols, tail specials) + merges.txt. Returns size."""
    folder.mkdir(parents=True, exist_ok=True)
    symbols = head + byte_chars() + ["".join(m) for m in MERGES] + tail
    vocab = {s: i for i, s in enumerate(dict.fromkeys(symbols))}
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    lines = ["#version: 0.2"] + [f"{a} {b}" for a, b in MERGES]
    (folder / "merges.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(vocab)


def write_roberta(folder: Path, layers: int = 1) -> int:
    n = write_bpe(folder, ["<s>", "<pad>", "</s>", "<unk>"], ["<mask>"])
    cfg = {"architectures": ["RobertaForMaskedLM"], "model_type": "roberta", "vocab_size": n,
           "hidden_size": 768, "num_hidden_layers": layers, "num_attention_heads": 12,
           "intermediate_size": 256, "max_position_embeddings": 514, "type_vocab_size": 1,
           "layer_norm_eps": 1e-5, "pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2}
    (folder / "config.json").write_text(json.dumps(cfg))
    return n


def write_bart(folder: Path) -> int:
    return write_bpe(folder, ["<s>", "<pad>", "</s>", "<unk>"], ["<mask>"])


def write_gpt2(folder: Path, layers: int = 1) -> int:
    n = write_bpe(folder, [], ["<|endoftext|>"])
    cfg = {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "vocab_size": n,
           "n_embd": 768, "n_layer": layers, "n_head": 12, "n_positions": 128, "n_inner": 256,
           "bos_token_id": n - 1, "eos_token_id": n - 1}
    (folder / "config.json").write_text(json.dumps(cfg))
    return n


def write_bert(folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + list("abcdefghijklmnopqrstuvwxyz") + ["dog", "rain"]
    (folder / "vocab.txt").write_text("\n".join(words) + "\n")
    return len(words)


def write_laion_tokenizers(weights: Path, layers: int = 1) -> None:
    root = weights / "laion_clap" / "tokenizers"
    write_roberta(root / "roberta-base", layers)
    write_bert(root / "bert-base-uncased")
    write_bart(root / "facebook-bart-base")


def build_seeded(factory, seed: int = 0):
    """Construct a module under a seeded, forked torch RNG (test-only; restores the state)."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return factory()


def noise(n: int, seed: int, scale: float = 0.1):
    """(n,) float32 Gaussian noise from an explicit seed."""
    import numpy as np

    return (np.random.default_rng(seed).standard_normal(n) * scale).astype(np.float32)
