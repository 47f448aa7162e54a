"""Derived, explicit seeds. No code in sabench touches a global RNG.

`derive_seed(base, *parts)` hashes its inputs, so the seed of a request depends only on the
suite's base seed, the prompt id and the replicate index -- never on listing order or on
how many items were generated before it.
"""

from __future__ import annotations

import hashlib

import numpy as np


def derive_seed(base: int, *parts: object) -> int:
    """A 63-bit seed from a base seed and any number of labelled parts.

    >>> derive_seed(0, "prompt-1", 0) == derive_seed(0, "prompt-1", 0)
    True
    """
    h = hashlib.sha256(str(int(base)).encode())
    for p in parts:
        h.update(b"\x1f")
        h.update(str(p).encode("utf-8"))
    return int.from_bytes(h.digest()[:8], "little") & ((1 << 63) - 1)


def numpy_rng(seed: int) -> np.random.Generator:
    """A numpy Generator for one explicit seed."""
    return np.random.default_rng(int(seed))


def torch_generator(seed: int, device: str = "cpu"):
    """A torch.Generator for one explicit seed (torch imported lazily)."""
    import torch

    g = torch.Generator(device=device)
    g.manual_seed(int(seed) & ((1 << 63) - 1))
    return g
