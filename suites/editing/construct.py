"""Build the editing benchmark: the SemanticAudio paper's Appendix B as a deterministic procedure.

1. **Edit generation** (`generate_candidates`): for each AudioCaps test clip, one caption
   (default: the last of its rows, the 957-list rule), and each rule of `rules.RULES`: a
   minimal edit by single-element substitution, addition or removal; at most one candidate
   per (clip, category).
2. **Quality filtering** (`filter_candidates`): a pluggable scorer returns, per candidate,
   CLAP(source audio, target text) and CLAP(edited audio, target text); keep pairs with
   ΔCLAP > `min_delta` and source-to-target CLAP < `max_source_target`. The paper states no
   thresholds; both are parameters and recorded in the file header.
3. **Balanced selection** (`select_balanced`): `n` pairs (200) spread over the 14 categories
   by round-robin water-filling (or the paper's Table 6 counts), seeded shuffle inside each
   category, distinct clips within a category.
4. `write_benchmark` writes JSON Lines: one header object, then one object per pair.

    python -m suites.editing.construct --csv test.csv --out editing.jsonl [--scorer mod:fn]
    python -m suites.editing.construct --csv test.csv --out editing.jsonl \
        --scorer-system semanticaudio:variant=mlp,d=128 --scorer-clap laion_clap:630k-audioset-best \
        --audio-dir ~/audiocaps/test --weights ~/weights        # a sabench system as the editor
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from harness.errors import SabenchError
from harness.hashing import sha256_file, sha256_json
from harness.paths import atomic_write_bytes
from harness.seeding import derive_seed, numpy_rng
from suites.audiocaps.loader import Row, by_clip, read_rows
from suites.editing.rules import CATEGORIES, PAPER_COUNTS, RULES, RULES_VERSION, slug

FORMAT = "sabench-editing-benchmark"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Candidate:
    """One proposed edit pair."""

    id: str
    category: str
    youtube_id: str
    audiocap_id: str
    start_time: int
    source_text: str
    target_text: str
    rule: str
    clap_source_target: float | None = None
    """CLAP(source audio, target text), filled by filtering."""
    clap_edited_target: float | None = None
    """CLAP(edited audio, target text), filled by filtering."""


Scorer = Callable[[Sequence[Candidate]], Sequence[tuple[float, float]]]
"""Per candidate: (CLAP(source audio, target text), CLAP(edited audio, target text))."""


def pick_captions(rows: Sequence[Row], caption_choice: str = "last",
                  clip_ids: Sequence[str] | None = None) -> list[Row]:
    """One row per clip ("first" | "last"), or every row ("all"); optionally only `clip_ids`."""
    clips = by_clip(list(rows))
    keep = set(clip_ids) if clip_ids is not None else None
    out: list[Row] = []
    for yid, group in clips.items():
        if keep is not None and yid not in keep:
            continue
        if caption_choice == "last":
            out.append(group[-1])
        elif caption_choice == "first":
            out.append(group[0])
        elif caption_choice == "all":
            out.extend(group)
        else:
            raise SabenchError(caption_choice, "unknown caption choice", "use first, last or all")
    return out


def generate_candidates(rows: Sequence[Row]) -> list[Candidate]:
    """Every rule-table edit of every row; at most one per (row, category); file order."""
    out: list[Candidate] = []
    for row in rows:
        caption = row.caption.strip()
        done: set[str] = set()
        for rule in RULES:
            if rule.category in done:
                continue
            target = rule.apply(caption)
            if target is None or target.strip().lower() == caption.lower():
                continue
            done.add(rule.category)
            out.append(Candidate(
                id=f"{slug(rule.category)}:{row.audiocap_id}", category=rule.category,
                youtube_id=row.youtube_id, audiocap_id=row.audiocap_id, start_time=int(row.start_time),
                source_text=caption, target_text=target, rule=_rule_name(rule)))
    return out


def _rule_name(rule: object) -> str:
    kind = type(rule).__name__.lower()
    if kind == "sub":
        return f"sub:{rule.old}>{rule.new}"  # type: ignore[attr-defined]
    return kind


def filter_candidates(candidates: Sequence[Candidate], scorer: Scorer, min_delta: float = 0.0,
                      max_source_target: float = 0.3) -> list[Candidate]:
    """Keep pairs with ΔCLAP > min_delta and CLAP(source, target) < max_source_target."""
    scores = list(scorer(candidates))
    if len(scores) != len(candidates):
        raise SabenchError("editing scorer", f"returned {len(scores)} scores for {len(candidates)} candidates",
                           "return one (source_target, edited_target) pair per candidate")
    kept = []
    for cand, (src, edited) in zip(candidates, scores, strict=True):
        src, edited = float(src), float(edited)
        if edited - src > min_delta and src < max_source_target:
            kept.append(replace(cand, clap_source_target=src, clap_edited_target=edited))
    return kept


def quotas(available: dict[str, int], n: int, mode: str = "equal") -> dict[str, int]:
    """Pairs per category: round-robin water-filling in category order ("equal"), or the
    paper's Table 6 counts scaled to `n` with the shortfall redistributed ("paper")."""
    q = {c: 0 for c in CATEGORIES}
    if mode == "paper":
        for c in CATEGORIES:
            q[c] = min(available.get(c, 0), round(PAPER_COUNTS[c] * n / 200))
    elif mode != "equal":
        raise SabenchError(mode, "unknown quota mode", "use equal or paper")
    total = sum(q.values())
    while total < n:
        progressed = False
        for c in CATEGORIES:
            if total < n and q[c] < available.get(c, 0):
                q[c] += 1
                total += 1
                progressed = True
        if not progressed:
            raise SabenchError("editing benchmark", f"only {total} usable pairs for {n} requested",
                               "lower n or relax the filtering thresholds")
    return q


def select_balanced(candidates: Sequence[Candidate], n: int = 200, seed: int = 0,
                    mode: str = "equal") -> list[Candidate]:
    """`n` pairs balanced over the categories; deterministic for a seed. Ids become
    `<category_slug>-<NNN>` (numbered within the category, in selection order)."""
    per_cat: dict[str, list[Candidate]] = {c: [] for c in CATEGORIES}
    for cand in candidates:
        per_cat[cand.category].append(cand)
    for c, cands in per_cat.items():  # distinct clips within a category, first occurrence kept
        seen: set[str] = set()
        per_cat[c] = [x for x in cands if not (x.youtube_id in seen or seen.add(x.youtube_id))]
    q = quotas({c: len(v) for c, v in per_cat.items()}, n, mode)
    chosen: list[Candidate] = []
    for c in CATEGORIES:
        pool = sorted(per_cat[c], key=lambda x: x.id)
        order = numpy_rng(derive_seed(seed, "editing-select", c)).permutation(len(pool))
        picked = sorted((pool[i] for i in order[:q[c]]), key=lambda x: x.id)
        chosen += [replace(x, id=f"{slug(c)}-{k:03d}") for k, x in enumerate(picked, 1)]
    return chosen


def write_benchmark(path: Path, pairs: Sequence[Candidate], params: dict, version: str = "1.0.0") -> None:
    """JSON Lines: a header (format, version, parameters, per-category counts), then the pairs."""
    header = {"format": FORMAT, "format_version": FORMAT_VERSION, "version": version,
              "rules_version": RULES_VERSION, "n": len(pairs),
              "counts": {c: sum(p.category == c for p in pairs) for c in CATEGORIES}, "params": params}
    lines = [json.dumps(header, sort_keys=True, ensure_ascii=False)]
    lines += [json.dumps(asdict(p), sort_keys=True, ensure_ascii=False) for p in pairs]
    atomic_write_bytes(Path(path), ("\n".join(lines) + "\n").encode("utf-8"))


def build(csv_path: Path, out: Path, scorer: Scorer | None = None, scorer_name: str = "none",
          n: int = 200, seed: int = 0, min_delta: float = 0.0, max_source_target: float = 0.3,
          caption_choice: str = "last", mode: str = "equal", clip_ids: Sequence[str] | None = None,
          version: str = "1.0.0") -> list[Candidate]:
    """The whole procedure; every knob goes into the header. `scorer=None` skips filtering
    (recorded as `"scorer": "none"`: an unfiltered candidate set, not the paper's)."""
    rows = pick_captions(read_rows(csv_path), caption_choice, clip_ids)
    cands = generate_candidates(rows)
    kept = filter_candidates(cands, scorer, min_delta, max_source_target) if scorer else cands
    pairs = select_balanced(kept, n=n, seed=seed, mode=mode)
    params = {"source_csv_sha256": sha256_file(csv_path), "caption_choice": caption_choice,
              "clip_ids_sha256": None if clip_ids is None else sha256_json(sorted(clip_ids)),
              "scorer": scorer_name, "min_delta": min_delta, "max_source_target": max_source_target,
              "seed": seed, "n": n, "quota_mode": mode, "candidates": len(cands), "after_filter": len(kept)}
    write_benchmark(out, pairs, params, version)
    return pairs


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m suites.editing.construct", description=__doc__.split("\n")[0])
    ap.add_argument("--csv", required=True, help="AudioCaps dataset/test.csv")
    ap.add_argument("--out", required=True, help="benchmark file to write (.jsonl)")
    ap.add_argument("--scorer", default=None, help="'module:function' returning a Scorer-compatible callable")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--min-delta", type=float, default=0.0)
    ap.add_argument("--max-source-target", type=float, default=0.3)
    ap.add_argument("--captions", default="last", choices=("first", "last", "all"))
    ap.add_argument("--quotas", default="equal", choices=("equal", "paper"))
    ap.add_argument("--clips", default=None, help="only these clips: a public list (957 TSV, Tango/AudioLDM JSON, ids)")
    ap.add_argument("--scorer-system", default=None,
                    help="a sabench system spec that edits each candidate (suites.editing.scoring)")
    ap.add_argument("--scorer-clap", default="laion_clap:630k-audioset-best", help="CLAP backbone of that scorer")
    ap.add_argument("--scorer-seed", type=int, default=0)
    ap.add_argument("--audio-dir", default=None, help="AudioCaps test clips (else $SABENCH_AUDIOCAPS_AUDIO)")
    ap.add_argument("--weights", default=None, help="weights directory (else $SABENCH_WEIGHTS)")
    ap.add_argument("--score-device", default=None, help="device of the CLAP backbone (cpu, cuda, auto)")
    args = ap.parse_args(argv)
    clip_ids = None
    if args.clips:
        from suites.audiocaps.loader import read_id_list

        clip_ids = read_id_list(Path(args.clips))
    scorer, scorer_name = _scorer(args)
    pairs = build(Path(args.csv), Path(args.out), scorer, scorer_name, args.n, args.seed,
                  args.min_delta, args.max_source_target, args.captions, args.quotas, clip_ids)
    dropped = getattr(scorer, "dropped", {})
    if dropped:
        print(f"{len(dropped)} candidate(s) could not be scored (dropped), e.g. "
              f"{next(iter(dropped))}: {next(iter(dropped.values()))}")
    print(f"wrote {len(pairs)} pairs to {args.out}")
    return 0


def _scorer(args: argparse.Namespace) -> tuple[Scorer | None, str]:
    """--scorer module:function, or --scorer-system (a sabench editor + CLAP), or none."""
    if args.scorer and args.scorer_system:
        raise SabenchError("--scorer", "give --scorer or --scorer-system, not both", "drop one of them")
    if args.scorer:
        import importlib

        module, attr = args.scorer.split(":", 1)
        return getattr(importlib.import_module(module), attr), args.scorer
    if not args.scorer_system:
        return None, "none"
    import os

    from harness.devices import resolve_device
    from suites.editing.scoring import SystemClapScorer

    if args.weights:
        os.environ["SABENCH_WEIGHTS"] = str(args.weights)
    audio_dir = args.audio_dir or os.environ.get("SABENCH_AUDIOCAPS_AUDIO")
    if not audio_dir:
        raise SabenchError("--scorer-system", "needs the AudioCaps test clips to edit",
                           "pass --audio-dir or set $SABENCH_AUDIOCAPS_AUDIO")
    device = resolve_device("--score-device", args.score_device) if args.score_device else None
    scorer = SystemClapScorer(args.scorer_system, args.scorer_clap, audio_dir, seed=args.scorer_seed,
                              score_device=device)
    return scorer, scorer.name


if __name__ == "__main__":
    raise SystemExit(main())
