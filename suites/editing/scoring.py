"""A ready-made scorer for the editing benchmark's quality filter: a sabench system edits each
candidate's source clip, and a CLAP backbone scores the source and the edit against the
target text (the SemanticAudio paper filters with its own editor and CLAP, Appendix B).

    python -m suites.editing.construct --csv test.csv --out editing.jsonl \
        --scorer-system semanticaudio:variant=mlp,d=128,device=auto \
        --scorer-clap laion_clap:630k-audioset-best --audio-dir ~/audiocaps/test --weights ~/weights

Per candidate: source = the clip found in `audio_dir` (`Y<id>`, `<id>` or `<id>_<start>`);
edit = `system.edit` with the candidate's source and target captions, seed
`derive_seed(seed, candidate id)`, stored content-addressed under `cache_dir` (a re-run edits
nothing twice); score = (cos(CLAP(source), CLAP(target text)), cos(CLAP(edit), CLAP(target
text))), exactly the `clap_target` / `delta_clap` metrics' cosine. A candidate whose clip is
missing or whose edit fails scores (nan, nan), which the filter drops; their count is reported.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import SabenchError, describe
from harness.seeding import derive_seed


class SystemClapScorer:
    """`Scorer` for `suites.editing.construct.filter_candidates` (see the module docstring)."""

    def __init__(self, system: Any, clap: str, audio_dir: str | Path, *, seed: int = 0,
                 cache_dir: str | Path | None = None, profile: str = "real", score_device: str | None = None):
        from harness.paths import cache_root
        from harness.system_spec import build_system as make_system

        self.system = make_system(system) if isinstance(system, str) else system
        if "edit" not in getattr(self.system, "capabilities", ()):
            raise SabenchError(f"scorer system {self.system.name}", "cannot edit",
                               "choose a system whose capabilities include 'edit'")
        self.clap, self.audio_dir, self.seed = clap, Path(audio_dir), int(seed)
        self.cache_dir = Path(cache_dir) if cache_dir else cache_root() / "editing-scorer"
        self.profile, self.score_device = profile, score_device
        self.dropped: dict[str, str] = {}
        """Candidate id -> why it scored (nan, nan)."""
        self._source_sha: dict[str, str] = {}
        """Source path -> content sha256 (a clip serves up to 14 candidates: hashed once)."""

    @property
    def name(self) -> str:
        return f"system={self.system.name}@{self.system.info.checkpoint_sha256[:12]};clap={self.clap};seed={self.seed}"

    def __call__(self, candidates: Sequence[Any]) -> list[tuple[float, float]]:
        from harness.metrics.common import per_clip_vectors
        from harness.metrics.numerics import cosine

        sources, edits = self._edit_all(candidates)
        ok = [i for i, c in enumerate(candidates) if c.id not in self.dropped]
        out = [(math.nan, math.nan)] * len(candidates)
        if not ok:
            return out
        ctx = self._context()
        text = np.asarray(ctx.embed_text(self.clap, [candidates[i].target_text for i in ok]), np.float64)
        src = per_clip_vectors(ctx, self.clap, [sources[i] for i in ok], "embedding")      # (N, D)
        edit = per_clip_vectors(ctx, self.clap, [edits[i] for i in ok], "embedding")       # (N, D)
        for i, s, e in zip(ok, cosine(src, text), cosine(edit, text), strict=True):
            out[i] = (float(s), float(e))
        return out

    def _context(self):
        from harness.context import RunContext
        from harness.metrics.presets import backbone_args

        return RunContext(self.profile, backbone_args=backbone_args("sabench"), device=self.score_device)

    def _edit_all(self, candidates: Sequence[Any]) -> tuple[list[str | None], list[str | None]]:
        """Source paths and edited-clip paths (None where dropped), editing batch by batch."""
        from harness.artifacts import ArtifactStore
        from suites.common import index_audio, match_clip

        index, store = index_audio(self.audio_dir), ArtifactStore(self.cache_dir / "artifacts")
        sources: list[str | None] = [None] * len(candidates)
        edits: list[str | None] = [None] * len(candidates)
        todo = []
        for i, c in enumerate(candidates):
            src = match_clip(index, c.youtube_id, c.start_time)
            if src is None:
                self.dropped[c.id] = f"no clip for {c.youtube_id} in {self.audio_dir}"
                continue
            sources[i] = str(src)
            req = self._request(c, src)
            hit = store.get_audio(req.key(self.system.info))
            if hit is not None:
                edits[i] = hit.path
            else:
                todo.append((i, req))
        size = max(1, int(getattr(self.system, "batch_size", 1)))
        for k in range(0, len(todo), size):
            self._edit_batch(todo[k:k + size], candidates, store, edits)
        return sources, edits

    def _request(self, cand: Any, src: Path):
        from harness.hashing import sha256_file
        from harness.records import EditRequest, Prompt

        prompt = Prompt(cand.id, cand.target_text, 10.0, source=str(src), source_text=cand.source_text)
        if str(src) not in self._source_sha:
            self._source_sha[str(src)] = sha256_file(src)
        return EditRequest(prompt, self._source_sha[str(src)], derive_seed(self.seed, cand.id))

    def _edit_batch(self, batch, candidates, store, edits) -> None:
        from harness import audio as audio_io

        try:
            outs = self.system.edit([r for _, r in batch], [audio_io.read(r.source) for _, r in batch])
            if len(outs) != len(batch):
                raise SabenchError(f"scorer system {self.system.name}",
                                   f"returned {len(outs)} outputs for {len(batch)} requests",
                                   "return one Audio per request, in order")
        except Exception as exc:  # noqa: BLE001 -- one failing batch drops its candidates, by name
            for i, _ in batch:
                self.dropped[candidates[i].id] = describe(exc)
            return
        for (i, req), audio in zip(batch, outs, strict=True):
            edits[i] = store.put_audio(req.key(self.system.info), audio).path
