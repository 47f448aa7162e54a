"""Streaming accumulator of Gaussian statistics (count, mean, scatter) for FD.

`GaussianStats` keeps only (count, mean, scatter) in float64 and merges batches with the
parallel (Chan et al.) update, so FD over 10,000 clips never holds all embeddings:

    n = na + nb;  delta = mean_b - mean_a
    mean = mean_a + delta * nb / n
    M2   = M2_a + M2_b + outer(delta, delta) * na * nb / n        cov = M2 / (n - 1)

This equals np.mean / np.cov(rowvar=False) of the concatenated rows (tested to 1e-10) and
is the same merge fadtk uses for per-directory statistics.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import SabenchError


class GaussianStats:
    """Running mean and scatter matrix of D-dimensional rows, float64."""

    def __init__(self, dim: int | None = None, meta: Mapping[str, Any] | None = None):
        self.count = 0
        self.dim = dim
        self._mean = np.zeros(dim, np.float64) if dim else None  # (D,)
        self._m2 = np.zeros((dim, dim), np.float64) if dim else None  # (D, D) scatter
        self.meta: dict[str, Any] = dict(meta or {})
        """Provenance (backbone, checkpoint sha256, recipe id, output key); saved with the stats."""

    # ---------------------------------------------------------------- accumulate
    def update(self, rows: np.ndarray) -> GaussianStats:
        """Add a batch of rows (B, D); any float dtype, accumulated in float64."""
        x = np.asarray(rows, np.float64)
        if x.ndim == 1:
            x = x[None, :]
        if x.ndim != 2:
            raise SabenchError("GaussianStats.update", f"expected (B, D) rows, got shape {x.shape}",
                               "pool per-frame embeddings to rows before updating")
        if x.shape[0] == 0:
            return self
        if not np.isfinite(x).all():
            raise SabenchError("GaussianStats.update", "non-finite embedding values",
                               "check the audio for NaN/Inf and the backbone for overflow")
        mb = x.mean(axis=0)  # (D,)
        xc = x - mb
        self._merge(x.shape[0], mb, xc.T @ xc)
        return self

    def merge_summary(self, n: int, mean: np.ndarray, scatter: np.ndarray) -> GaussianStats:
        """Fold in a block given as (row count, mean (D,), scatter about its own mean (D, D))."""
        if n:
            self._merge(int(n), np.asarray(mean, np.float64), np.asarray(scatter, np.float64))
        return self

    def _merge(self, nb: int, mb: np.ndarray, m2b: np.ndarray) -> None:
        if self.dim is None or self._mean is None:
            self.dim = mb.shape[0]
            self._mean, self._m2 = np.zeros(self.dim), np.zeros((self.dim, self.dim))
        if mb.shape[0] != self.dim:
            raise SabenchError("GaussianStats", f"dimension {mb.shape[0]} != accumulated {self.dim}",
                               "do not mix outputs of different backbones or layers")
        na = self.count
        n = na + nb
        delta = mb - self._mean
        self._mean = self._mean + delta * (nb / n)
        self._m2 = self._m2 + m2b + np.outer(delta, delta) * (na * nb / n)
        self.count = n

    def merge(self, other: GaussianStats) -> GaussianStats:
        """Fold another accumulator into this one (e.g. shards from several workers)."""
        if other.count:
            self._merge(other.count, *other._accumulated())
        return self

    def _accumulated(self) -> tuple[np.ndarray, np.ndarray]:
        """(mean (D,), scatter (D, D)) float64; an accumulator without rows is an error."""
        if not self.count or self._mean is None or self._m2 is None:
            raise SabenchError("GaussianStats", "no rows accumulated", "score at least two clips")
        return self._mean, self._m2

    # ---------------------------------------------------------------- results
    @property
    def mean(self) -> np.ndarray:
        return self._accumulated()[0].copy()

    @property
    def cov(self) -> np.ndarray:
        """Unbiased covariance (divides by N - 1), like np.cov(rowvar=False)."""
        if self.count < 2:
            raise SabenchError("GaussianStats", f"covariance needs >= 2 rows, have {self.count}",
                               "score at least two clips (or frames)")
        return self._accumulated()[1] / (self.count - 1)

    # ---------------------------------------------------------------- persistence
    def save(self, path: str | Path) -> None:
        """Write count, mean, scatter and provenance to a .npz file (atomic rename)."""
        path = Path(path)
        mean, m2 = self._accumulated()
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, count=np.int64(self.count), mean=mean, m2=m2,
                 meta=np.array(json.dumps(self.meta, sort_keys=True)))
        tmp.replace(path)

    @classmethod
    def load(cls, path: str | Path) -> GaussianStats:
        """Read statistics written by `save`, or a plain {mu, sigma, n} file (fadtk/pytorch-fid style)."""
        try:
            with np.load(path, allow_pickle=False) as z:
                keys = set(z.files)
                if {"count", "mean", "m2"} <= keys:
                    st = cls(int(z["mean"].shape[0]), json.loads(str(z["meta"])) if "meta" in keys else {})
                    st.count = int(z["count"])
                    st._mean, st._m2 = z["mean"].astype(np.float64), z["m2"].astype(np.float64)  # (D,), (D, D)
                    return st
                if {"mu", "sigma"} <= keys:
                    n = int(z["n"]) if "n" in keys else 0
                    if n < 2:
                        raise SabenchError(str(path), "mu/sigma stats without a sample count 'n'",
                                           "add n (number of rows) to the file")
                    st = cls(int(z["mu"].shape[0]), {"source": "mu/sigma file"})
                    st.count, st._mean, st._m2 = n, z["mu"].astype(np.float64), z["sigma"].astype(np.float64) * (n - 1)
                    return st
        except (OSError, ValueError) as exc:
            raise SabenchError(str(path), f"unreadable statistics file ({exc})",
                               "recompute the reference statistics") from exc
        raise SabenchError(str(path), f"not a statistics file (keys {sorted(keys)})",
                           "write it with GaussianStats.save or provide mu, sigma, n")
