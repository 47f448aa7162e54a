"""Pure float64 numerics behind the metrics: Fréchet distance, Inception Score, KL, cosine
(bootstrap confidence intervals: `harness.scoring.bootstrap_ci`).

Everything here takes and returns numpy arrays / floats, touches no global RNG and imports
no torch, so it can be checked against closed forms (tests/metrics/test_numerics.py).
Conventions and their sources are in docs/metrics.md and reference/metrics.md §1, §3, §4.
"""

from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import linalg

from harness.errors import SabenchError

FD_EPS = 1e-6
"""Diagonal offset added when sqrtm of the product is not finite (pytorch-fid)."""
FD_IMAG_ATOL = 1e-3
"""Largest tolerated |imag| on the diagonal of sqrtm(S1 S2) (pytorch-fid)."""
FD_EIG_WARN = 1e-3
"""fadtk warns when the sqrtm and eigenvalue traces differ by more than this."""


# --------------------------------------------------------------------------- Fréchet distance

@dataclass(frozen=True)
class FrechetResult:
    """The Fréchet distance and the diagnostics that explain a suspicious value."""

    value: float
    """||mu1 - mu2||^2 + Tr S1 + Tr S2 - 2 Tr sqrtm(S1 S2) (pytorch-fid formula)."""
    imag_residue: float
    """Max |imag| of sqrtm(S1 S2) before the real part was kept (0.0 if it was real)."""
    used_eps: bool
    """True when sqrtm was not finite and eps = 1e-6 was added to both diagonals."""
    trace_sqrt: float
    """Tr sqrtm(S1 S2) from scipy's sqrtm (what `value` uses)."""
    trace_sqrt_eig: float
    """Tr sqrt(S1 S2) from the eigenvalues of S1 S2 (fadtk's cross-check)."""
    eig_crosscheck: float
    """|trace_sqrt - trace_sqrt_eig|; fadtk warns above 1e-3."""
    n1: int | None
    n2: int | None
    dim: int
    rank_deficient: bool
    """True when a set has N <= dim samples, so its covariance is singular."""
    warnings: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _passes_disp() -> bool:
    """True where scipy's sqrtm still takes `disp=True` by default (SciPy < 1.16)."""
    p = inspect.signature(linalg.sqrtm).parameters.get("disp")
    return p is not None and p.default is True


_PASS_DISP = _passes_disp()


def _sqrtm(a: np.ndarray) -> np.ndarray:
    """scipy sqrtm of `a` (pytorch-fid's matrix). The root is the same with or without `disp`;
    disp=False only adds an error estimate (two more n^3 products) that is never read. SciPy
    >= 1.16 deprecated `disp` (its default only warns), so there it is left out; older SciPy
    gets disp=False, as pytorch-fid passes, so nothing is printed."""
    if not _PASS_DISP:
        return np.asarray(linalg.sqrtm(a))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            out = linalg.sqrtm(a, disp=False)
        except TypeError:  # SciPy >= 1.18 removed `disp`
            return np.asarray(linalg.sqrtm(a))
    return np.asarray(out[0] if isinstance(out, tuple) else out)


def _trace_sqrt_eig(prod: np.ndarray) -> float:
    """Tr sqrt(S1 S2) as the sum of square roots of the eigenvalues of prod = S1 S2 (fadtk)."""
    ev = linalg.eigvals(prod).astype(np.complex128)
    return float(np.sqrt(ev).sum().real)


def frechet_distance(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray, cov2: np.ndarray,
                     n1: int | None = None, n2: int | None = None,
                     eps: float = FD_EPS) -> FrechetResult:
    """Fréchet distance between N(mu1, cov1) and N(mu2, cov2), pytorch-fid formula and safeguards.

    Args:
        mu1, mu2: (D,) means. cov1, cov2: (D, D) unbiased covariances.
        n1, n2: sample counts behind each set (for the N <= D warning); optional.
        eps: diagonal offset for the non-finite retry.

    Raises:
        SabenchError: shapes disagree, or sqrtm leaves an imaginary diagonal above 1e-3.
    """
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    s1, s2 = np.atleast_2d(np.asarray(cov1, np.float64)), np.atleast_2d(np.asarray(cov2, np.float64))
    d = mu1.shape[0]
    if mu2.shape != (d,) or s1.shape != (d, d) or s2.shape != (d, d):
        raise SabenchError("frechet_distance", f"shape mismatch mu {mu1.shape}/{mu2.shape}, "
                           f"cov {s1.shape}/{s2.shape}", "compare statistics of the same backbone output")
    notes: list[str] = []
    rank_def = any(n is not None and n <= d for n in (n1, n2))
    if rank_def:
        notes.append(f"N <= dim (n1={n1}, n2={n2}, dim={d}): covariances are singular; "
                     "FD is biased and sensitive to library versions")
    diff = mu1 - mu2
    prod = s1 @ s2  # (D, D), formed once: sqrtm and the eigenvalue cross-check read it
    covmean = _sqrtm(prod)
    used_eps = False
    if not np.isfinite(covmean).all():
        used_eps = True
        notes.append(f"sqrtm not finite; added eps={eps} to both diagonals")
        off = np.eye(d) * eps
        covmean = _sqrtm((s1 + off) @ (s2 + off))
        if not np.isfinite(covmean).all():
            raise SabenchError("frechet_distance", "sqrtm(S1 S2) is not finite even with eps",
                               "check the embeddings for NaN/Inf or constant features")
    imag = 0.0
    if np.iscomplexobj(covmean):
        imag = float(np.max(np.abs(covmean.imag)))
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=FD_IMAG_ATOL):
            raise SabenchError("frechet_distance", f"imaginary component {imag:.3g} in sqrtm(S1 S2)",
                               "use more samples than feature dimensions or check for NaN embeddings")
        covmean = covmean.real
    tr = float(np.trace(covmean))
    tr_eig = _trace_sqrt_eig(prod)
    check = abs(tr - tr_eig)
    if check > FD_EIG_WARN:
        notes.append(f"high error in sqrtm calculation: |{tr:.6g} - {tr_eig:.6g}| > {FD_EIG_WARN}")
    value = float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * tr)
    return FrechetResult(value, imag, used_eps, tr, tr_eig, check, n1, n2, d, rank_def, tuple(notes))


# --------------------------------------------------------------------------- softmax helpers

def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax in float64. (N, C) -> (N, C)."""
    x = np.asarray(logits, np.float64)
    m = x.max(axis=1, keepdims=True)
    z = x - m
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def softmax(logits: np.ndarray) -> np.ndarray:
    return np.exp(log_softmax(logits))


# --------------------------------------------------------------------------- Inception Score

def inception_score(logits: np.ndarray, splits: int = 10, shuffle_seed: int | None = 2020) -> tuple[float, float]:
    """Inception Score over classifier logits, audioldm_eval / torch-fidelity convention.

    Rows are permuted with `np.random.RandomState(shuffle_seed)` (None: no shuffle), softmax is
    taken per row, the rows are cut into `splits` contiguous chunks [k N/s, (k+1) N/s), and each
    chunk scores exp(mean_rows KL(p || mean p)). Returns (mean, population std) over chunks.
    """
    x = np.asarray(logits)
    if x.ndim != 2 or x.shape[0] < splits:
        raise SabenchError("inception_score", f"need (N >= {splits}, C) logits, got {x.shape}",
                           "score at least as many clips as splits, or lower `splits`")
    n = x.shape[0]
    if shuffle_seed is not None:
        x = x[np.random.RandomState(shuffle_seed).permutation(n)]  # local RNG, not global
    log_p = log_softmax(x)  # (N, C) float64
    p = np.exp(log_p)
    scores = []
    for k in range(splits):
        lo, hi = k * n // splits, (k + 1) * n // splits
        pc, lpc = p[lo:hi], log_p[lo:hi]
        log_q = np.log(pc.mean(axis=0, keepdims=True))  # (1, C)
        scores.append(float(np.exp((pc * (lpc - log_q)).sum(axis=1).mean())))
    return float(np.mean(scores)), float(np.std(scores))


# --------------------------------------------------------------------------- KL divergence

KL_DIRECTIONS = ("ref_to_gen", "gen_to_ref")


def kl_divergence(p: np.ndarray, q: np.ndarray, eps: float | None = None) -> np.ndarray:
    """Row-wise KL(p || q) = sum_c p (log p - log(q + eps)) on probabilities, 0 log 0 = 0.

    `eps` is added to q inside the log only (audioldm_eval and stable-audio-metrics put 1e-6
    there through `kl_div(log(q + 1e-6), p)`); None means exact. (N, C) -> (N,).
    """
    p, q = np.atleast_2d(np.asarray(p, np.float64)), np.atleast_2d(np.asarray(q, np.float64))
    log_q = np.log(q + eps) if eps else np.log(q)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * (np.log(np.where(p > 0, p, 1.0)) - log_q), 0.0)
    return terms.sum(axis=1)


def kl_softmax(gen_logits: np.ndarray, ref_logits: np.ndarray, direction: str,
               eps: float | None = None) -> np.ndarray:
    """Per-pair KL between softmax class distributions of generated and reference clips.

    direction "ref_to_gen": KL(ref || gen) (audioldm_eval, av-benchmark);
    direction "gen_to_ref": KL(gen || ref) (stable-audio-metrics).
    eps None: exact log-softmax (av-benchmark); eps=1e-6: added to the second argument's
    probabilities inside the log (audioldm_eval, stable-audio-metrics). (N, C) x2 -> (N,).
    """
    if direction not in KL_DIRECTIONS:
        raise SabenchError("kl_softmax", f"unknown direction {direction!r}", f"use one of {KL_DIRECTIONS}")
    g, r = np.atleast_2d(gen_logits), np.atleast_2d(ref_logits)
    if g.shape != r.shape:
        raise SabenchError("kl_softmax", f"logit shapes differ {g.shape} vs {r.shape}",
                           "pair generated and reference clips one to one")
    p, q = (r, g) if direction == "ref_to_gen" else (g, r)
    if not eps:  # exact: sum P (log P - log Q) with log-softmax on both sides
        lp, lq = log_softmax(p), log_softmax(q)
        return (np.exp(lp) * (lp - lq)).sum(axis=1)
    return kl_divergence(softmax(p), softmax(q), eps)


# --------------------------------------------------------------------------- cosine
# (the bootstrap CI lives in harness.scoring.bootstrap_ci: one implementation)

def cosine(a: np.ndarray, b: np.ndarray, eps: float = 1e-8) -> np.ndarray:
    """Row-wise cosine a.b / max(|a| |b|, eps) (torch.nn.functional.cosine_similarity). (N, D) x2 -> (N,)."""
    a, b = np.atleast_2d(np.asarray(a, np.float64)), np.atleast_2d(np.asarray(b, np.float64))
    if a.shape != b.shape:
        raise SabenchError("cosine", f"shapes differ {a.shape} vs {b.shape}", "embed with one backbone")
    denom = np.maximum(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), eps)
    return (a * b).sum(axis=1) / denom

