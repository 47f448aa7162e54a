"""A listening-test design and the study built from it.

A `Design` names the runs (systems) to rate, the test type, how many items per system (drawn
with a seeded draw that is recorded in the study), the raters' target count and the quality
controls. `build_study` turns it into clips (loudness-normalised playback copies under opaque
ids) and trials in the results store; `add_raters` gives each rater a token and their own
seeded trial order.

Test types:
- `mos`: absolute category rating 1-5 of overall audio quality (the paper's Table 1 wording).
- `mos-edit`: the source clip, the target text and the edited clip; 1-5 overall edit quality
  and naturalness. The unedited source is rated as a row of its own ("@source").
- `ab`: which of two systems' clips (same prompt, order randomised per rater) is better.

Controls (every rater gets all of them): hidden references (the suite's ground-truth clip,
where the suite has one), low anchors (a degraded copy, `playback.anchor`), attention checks
(the page asks for a given answer). For `ab` the reference/anchor control is a pair whose
better side is known.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from harness.errors import SabenchError
from harness.listen import playback
from harness.listen.store import Clip, ListenStore, Trial
from harness.seeding import derive_seed, numpy_rng

TYPES = ("mos", "mos-edit", "ab")
ATTENTION_VALUES = (2, 4, 1, 5)
"""The answers attention checks ask for, in turn (A/B: 2 = the second clip, 1 = the first)."""


@dataclass(frozen=True)
class Design:
    study: str
    """Name of the study (unique in the results store)."""
    type: str = "mos"
    runs: tuple[str, ...] = ()
    """Run ids of the systems to rate (resolved by the caller)."""
    items: int = 30
    """Items per system, drawn without replacement from the items every run has audio for."""
    seed: int = 0
    raters: int = 20
    """Target number of raters (tokens made up front; more can be added)."""
    references: int = 3
    """Hidden-reference trials per rater (0: none; only where the suite has references)."""
    anchors: int = 3
    """Low-anchor trials per rater."""
    attention: int = 2
    """Attention checks per rater."""
    per_rater: int | None = None
    """Main trials per rater (None: all); a rotating, balanced share of a seeded order."""
    min_play: float = 1.0
    """Fraction of each clip that must be played before a rating is accepted (1.0: to the end)."""
    lufs: float = -23.0
    """Playback loudness of every clip (LUFS, ITU-R BS.1770)."""
    suite: str | None = None
    """Suite name or suite.yaml whose prompts give references/sources (default: the runs' suite)."""

    def validate(self) -> Design:
        bad = []
        if self.type not in TYPES:
            bad.append(("type", f"unknown test type {self.type!r}", f"use one of {', '.join(TYPES)}"))
        if not self.study or not all(c.isalnum() or c in "-_." for c in self.study):
            bad.append(("study", f"bad study name {self.study!r}", "use letters, digits, - _ ."))
        for name, lo in (("items", 1), ("raters", 1), ("references", 0), ("anchors", 0), ("attention", 0)):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < lo:
                bad.append((name, f"must be an integer >= {lo}, got {v!r}", f"set {name} to a whole number"))
        if self.per_rater is not None and (not isinstance(self.per_rater, int) or self.per_rater < 1):
            bad.append(("per_rater", f"must be a positive integer, got {self.per_rater!r}", "or leave it out"))
        if not (0.0 < float(self.min_play) <= 1.0):
            bad.append(("min_play", f"must be in (0, 1], got {self.min_play}", "1.0 = played to the end"))
        if not (-40.0 <= float(self.lufs) <= -10.0):
            bad.append(("lufs", f"{self.lufs} LUFS is outside [-40, -10]", "use e.g. -23"))
        if self.type == "ab" and len(self.runs) != 2:
            bad.append(("runs", f"an A/B test compares exactly 2 runs, got {len(self.runs)}", "pick two systems"))
        if self.type != "ab" and not self.runs:
            bad.append(("runs", "no runs to rate", "run `sabench run` first or name runs"))
        if bad:
            key, problem, fix = bad[0]
            raise SabenchError(f"listening design {key}", problem, fix)
        return self


def load_design(path: str | Path, **overrides: Any) -> dict[str, Any]:
    """A design file (YAML mapping of `Design` fields; `runs` may name run ids, system names or
    row labels) merged with command-line overrides. Unknown keys are refused."""
    import yaml

    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SabenchError(str(p), f"cannot read the design file ({type(exc).__name__})",
                           "pass a readable YAML file") from None
    if not isinstance(data, dict):
        raise SabenchError(str(p), "a design file must be a YAML mapping", "write key: value lines")
    known = {f.name for f in fields(Design)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise SabenchError(str(p), f"unknown design key {unknown[0]!r}", f"use: {', '.join(sorted(known))}")
    data.update({k: v for k, v in overrides.items() if v is not None})
    return data


def _suite_prompts(design: Design, suite_name: str, data_root: Path | None) -> dict[str, Any]:
    """Prompts by id from the suite (for references and sources); {} when the suite is unknown."""
    from harness.suite import load_suite

    try:
        spec = load_suite(design.suite or suite_name)
        return {p.id: p for p in spec.prompts(data_root)}
    except SabenchError:
        if design.suite:
            raise
        return {}


def _labels(results: Any, runs: Sequence[Any]) -> dict[str, str]:
    from reports.tables import run_labels

    stored = results.labels()
    names = run_labels(runs, stored or None)
    return {r.run_id: n for r, n in zip(runs, names, strict=True)}


def build_study(results_path: Path, design: Design, clip_dir: Path, data_root: Path | None = None) -> dict[str, Any]:
    """Prepare the clips and trials of `design` and store the study; returns the stored design."""
    from harness.results import ResultsStore

    design.validate()
    results = ResultsStore(results_path)
    runs = [results.load_run(r) for r in design.runs]
    if len({(r.suite, r.suite_version) for r in runs}) > 1:
        raise SabenchError(f"study {design.study}", "the runs come from different suites or suite versions",
                           "rate runs of one suite per study (one study per suite)")
    samples = {r.run_id: {i: Path(p) for i, (p, _) in results.samples(r.run_id).items() if Path(p).is_file()}
               for r in runs}
    texts = {i: t for r in runs for i, (_, t) in results.samples(r.run_id).items()}
    common = sorted(set.intersection(*(set(s) for s in samples.values())))
    if not common:
        raise SabenchError(f"study {design.study}", "no item has audio from every run",
                           "re-run the systems (their artifacts are missing) or pick other runs")
    rng = numpy_rng(derive_seed(design.seed, design.study, "draw"))
    draw = sorted(rng.choice(common, size=min(design.items, len(common)), replace=False).tolist())
    prompts = _suite_prompts(design, runs[0].suite, data_root)
    maker = _Maker(design, clip_dir)
    trials = _trials(design, runs, samples, texts, draw, prompts, maker, rng)
    stored = {**asdict(design), "runs": list(design.runs), "draw": draw, "suite_name": runs[0].suite,
              "suite_version": runs[0].suite_version, "labels": _labels(results, runs),
              "n_available": len(common), "check_clip": maker.check_clip()}
    results.close()
    ListenStore(results_path).create_study(design.study, stored, maker.clips, trials)
    return stored


class _Maker:
    """Prepares playback copies under opaque ids (one per (source file, degraded) pair)."""

    def __init__(self, design: Design, folder: Path):
        self.design, self.folder = design, folder
        self.clips: list[Clip] = []
        self._seen: dict[tuple[str, bool], str] = {}

    def clip(self, src: Path | str, role: str, degrade: bool = False) -> str:
        key = (str(src), degrade)
        if key in self._seen:
            return self._seen[key]
        cid = secrets.token_hex(12)
        seed = derive_seed(self.design.seed, self.design.study, "anchor", str(src)) if degrade else None
        secs = playback.prepare(src, self.folder / f"{cid}.wav", self.design.lufs, seed)
        self.clips.append(Clip(cid, str(self.folder / f"{cid}.wav"), role, secs))
        self._seen[key] = cid
        return cid

    def check_clip(self) -> str:
        cid = secrets.token_hex(12)
        secs = playback.check_tone(self.folder / f"{cid}.wav", self.design.lufs,
                                   derive_seed(self.design.seed, self.design.study, "check"))
        self.clips.append(Clip(cid, str(self.folder / f"{cid}.wav"), "check", secs))
        return cid


def _trials(design, runs, samples, texts, draw, prompts, maker: _Maker, rng) -> list[Trial]:
    kind = design.type
    out: list[Trial] = []

    def add(control, cond_a, item, clip_a, cond_b=None, clip_b=None, expect=None):
        p = prompts.get(item.split("#", 1)[0])
        src = maker.clip(p.source, "source") if kind == "mos-edit" and p is not None and p.source else None
        out.append(Trial(secrets.token_hex(12), kind, control, cond_a, cond_b, item, clip_a, clip_b, src,
                         texts.get(item, p.text if p else item), p.source_text if p and kind == "mos-edit" else None,
                         expect))

    if kind == "ab":
        a, b = runs
        for item in draw:
            add("", a.run_id, item, maker.clip(samples[a.run_id][item], "sample"),
                b.run_id, maker.clip(samples[b.run_id][item], "sample"))
    else:
        for run in runs:
            for item in draw:
                add("", run.run_id, item, maker.clip(samples[run.run_id][item], "sample"))
        if kind == "mos-edit":
            for item in draw:
                p = prompts.get(item.split("#", 1)[0])
                if p is not None and p.source:
                    add("", "@source", item, maker.clip(p.source, "source"))
    with_ref = [i for i in draw if (p := prompts.get(i.split("#", 1)[0])) is not None and p.reference]
    order = rng.permutation(len(with_ref)).tolist()
    refs = [with_ref[k] for k in order[: design.references]]
    for item in refs:
        ref = prompts[item.split("#", 1)[0]].reference
        if kind == "ab":
            add("pair", "@reference", item, maker.clip(ref, "reference"), "@anchor",
                maker.clip(ref, "anchor", degrade=True))
        else:
            add("reference", "@reference", item, maker.clip(ref, "reference"))
    if kind != "ab":
        pool = [(prompts[i.split("#", 1)[0]].reference, i) for i in refs] or \
               [(samples[runs[0].run_id][i], i) for i in draw]
        for k in range(design.anchors):
            src, item = pool[k % len(pool)]
            add("anchor", "@anchor", item, maker.clip(src, "anchor", degrade=True))
    for k in range(design.attention):
        item = draw[int(rng.integers(len(draw)))]
        run = runs[k % len(runs)]
        clip = maker.clip(samples[run.run_id][item], "sample")
        expect = ATTENTION_VALUES[k % len(ATTENTION_VALUES)]
        if kind == "ab":
            add("attention", run.run_id, item, clip, run.run_id, clip, expect=1 + k % 2)
        else:
            add("attention", run.run_id, item, clip, expect=expect)
    return out


def add_raters(store: ListenStore, study: str, n: int, origin: str = "web") -> list[str]:
    """`n` new raters, each with a token and their own seeded order of trials; returns tokens."""
    design = store.design_json(study)
    if design is None:
        raise SabenchError(f"study {study}", "not in this results store", "create it with `sabench listen`")
    trials = store.trials(study)
    main = [t for t in trials if not t.control]
    controls = [t for t in trials if t.control]
    spread = numpy_rng(derive_seed(design["seed"], study, "spread")).permutation(len(main)).tolist()
    tokens = []
    for _ in range(n):
        k = len(store.raters(study))
        rng = numpy_rng(derive_seed(design["seed"], study, "rater", k))
        share = main
        if design.get("per_rater") and design["per_rater"] < len(main):
            m = design["per_rater"]
            share = [main[spread[(k * m + j) % len(main)]] for j in range(m)]
        mine = share + controls
        order = rng.permutation(len(mine)).tolist()
        swaps = rng.random(len(mine)) < 0.5
        rows = [(secrets.token_urlsafe(9), mine[i].trial_id,
                 bool(swaps[j]) and mine[i].kind == "ab" and mine[i].control != "attention")
                for j, i in enumerate(order)]
        token = secrets.token_urlsafe(12)
        store.add_rater(study, token, rows, origin)
        tokens.append(token)
    return tokens


def condition_label(design: Mapping[str, Any], condition: str) -> str:
    names = {"@reference": "hidden reference", "@anchor": "low anchor", "@source": "source (unedited)"}
    return names.get(condition) or design.get("labels", {}).get(condition, condition)


__all__ = ["ATTENTION_VALUES", "Design", "TYPES", "add_raters", "build_study", "condition_label", "load_design"]
