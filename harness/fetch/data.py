"""`sabench data fetch`: the benchmark text files each suite reads, from their public
repositories at pinned commits, verified by sha256, into the `--data` folder's layout.

Every file is byte-identical to the one at `owner/repo@commit:path` (the hashes were computed
from the checked copies described in ../shared/data/README.md and checked against the
repositories at those commits). No audio: AudioCaps clips must be brought by the user
(`<data>/audiocaps/audio/`), and the editing benchmark is built locally
(`python -m suites.editing.construct`). Downloads go through `harness.fetch.http` (resume,
retries, timeout) from `https://raw.githubusercontent.com` (`$SABENCH_GITHUB_RAW` overrides
the host, for mirrors and the tests); a file appears under its final name only once its sha256
matches. An existing file with another sha256 is never overwritten without `--force`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from harness.errors import SabenchError
from harness.fetch import FetchError, http
from harness.fetch.command import reason
from harness.fetch.display import Display, Outcome, human, summary
from harness.hashing import sha256_file

RAW = "https://raw.githubusercontent.com"

AUDIOCAPS = "cdjkim/audiocaps"
AUDIOCAPS_V1 = "80fb3ade6d400d4311354a360db25da051a48cc1"
AUDIOCAPS_V2 = "6b9483e0df243e635bb87ef0b2ed8b351c4ac23c"
TANGO = "declare-lab/tango"
RESONATE = "xiquan-li/Resonate"
TTABENCH_COMMIT = "e3a51de03445fc1cc2582ae263775fe7a636467d"


@dataclass(frozen=True)
class DataFile:
    relpath: str
    """Path under the data root (the layout the suite loaders search)."""
    repo: str
    commit: str
    """Full 40-hex commit: the file's bytes are fixed."""
    path: str
    """Path inside the repository."""
    sha256: str
    size: int
    suites: tuple[str, ...]
    """Suites that read it (by name)."""

    @property
    def source(self) -> str:
        return f"github {self.repo}@{self.commit[:7]}: {self.path}"

    def url(self) -> str:
        base = (os.environ.get("SABENCH_GITHUB_RAW") or RAW).rstrip("/")
        return f"{base}/{self.repo}/{self.commit}/{self.path}"


def _f(rel: str, repo: str, commit: str, path: str, sha: str, size: int, *suites: str) -> DataFile:
    return DataFile(rel, repo, commit, path, sha, size, suites)


_TTA = {"acc": ("e333420c54d5ad00c0b6031a2449f54c613622f061c7544117ea0a5b5426147c", 697837),
        "generalization": ("19e91df8c12f80c29f5d1fcfbdbabedd6fb77fa09f20c4287b9930b4ca15644c", 115558),
        "robustness": ("016a6e9d47fd629591cbdde4fba750ef7aa1be6fa7798a06ff7734849c887487", 85446),
        "fairness": ("0f3504dc4cb692dd5b4f76baff65c6ffb6a1bcea3cb106af6bbacc36f8344445", 66814),
        "bias": ("96305a5fde61da9b9374bad9d5def77d43e51de875d42bcc414a119f8083d7c3", 74559),
        "toxicity": ("5a9ea635ebf22d88f73b7679022a0bbbfe7e10a860812f712fb1a7216418b676", 76902)}

DATA_FILES: list[DataFile] = [
    _f("audiocaps/v1/test.csv", AUDIOCAPS, AUDIOCAPS_V1, "dataset/test.csv",
       "b91c4b7ded2f4f6e7db5b9c4983dc1e1dca3d556f505b61e3fd65cac7e1c638a", 402246, "audiocaps", "editing"),
    _f("audiocaps/v1/val.csv", AUDIOCAPS, AUDIOCAPS_V1, "dataset/val.csv",
       "dab1c96641d5f3053ddb99dca3949450da9a75737bda53e11cc0aa8b102be0c3", 171918),
    _f("audiocaps/v1/train.csv", AUDIOCAPS, AUDIOCAPS_V1, "dataset/train.csv",
       "c0c5223db682b3bf724ce7e7ce58d5b36929f74572e8526a7211f92d2eef7c8e", 3576723),
    _f("audiocaps/v2/test.csv", AUDIOCAPS, AUDIOCAPS_V2, "dataset2.0/test.csv",
       "365c8a8a71c9070a8d5dba5dd44f3a781f906632a49cb82b38bebaaa8f3c5ccb", 397498),
    _f("audiocaps/v2/val.csv", AUDIOCAPS, AUDIOCAPS_V2, "dataset2.0/val.csv",
       "dfdd0f83c70fb818fbb86dcba42754abfb97f7774d811fff91a1c89d84d868c5", 169508),
    _f("audiocaps/resonate_test-audiocaps.tsv", RESONATE, "cc4d55b403b4dc29bdf5aa5400a5f2f4e3a760e5",
       "sets/test-audiocaps.tsv", "2795cbf950c504c28f97dfaa28bd9e4f134344bb7351736e52aca1b8c0bdd84c", 69497,
       "audiocaps"),
    _f("audiocaps/resonate_grpo_test_metadata.jsonl", RESONATE, "6c246ac06cd046a04cb59eee27f0b10410998172",
       "data/AudioCaps/GRPO_Meta/test_metadata.jsonl",
       "3b68673ef344188946e70db9824204518b0036ac0235001fa1234fc44b0fb45f", 97239),
    _f("audiocaps/audioldm_audiocaps_test_nonrepeat_subset_2.json", "haoheliu/audioldm_eval",
       "c9e936ea538c4db7e971d9528a2d2eb4edac975d", "example/AudioCaps/audiocaps_test_nonrepeat_subset_2.json",
       "1830860b4b717fa20da9662b12b33e2239afd40925daaa9ffcb0548824100faa", 396442, "audiocaps"),
    _f("audiocaps/tango/test_audiocaps_subset.json", TANGO, "10ff3f9d56d575cfdf43c638cb4550bdca613585",
       "data/test_audiocaps_subset.json", "90389ee3a577394e3a5063d5a2014279d2d02c7445ce4412740839c1344488e1",
       139676, "audiocaps"),
    _f("audiocaps/tango/test_audiocaps_subset_with_labels.json", TANGO, "10ff3f9d56d575cfdf43c638cb4550bdca613585",
       "data/test_audiocaps_subset_with_labels.json",
       "0f791dae32bfd56faf6a280078c8f0a7b4e22e9d9b4d9011908af632f216fe3e", 173472),
    _f("audiocaps/tango/valid_audiocaps.json", TANGO, "ceb8bd5fd7599b6a8f820b2975d9cb85b85e50f6",
       "data/valid_audiocaps.json", "b7ce79193b21ac4377d0a614416f0d10dd9c71e48104fdd29d766f44a142fe31", 325739),
    *[_f(f"ttabench/{k}_prompt.json", RESONATE, TTABENCH_COMMIT, f"ttabench/prompts/{k}_prompt.json", sha, size,
         "ttabench") for k, (sha, size) in _TTA.items()],
    _f("ttabench/README.md", RESONATE, TTABENCH_COMMIT, "ttabench/prompts/README.md",
       "11289d6e1397e738c359ea7b34c683690663df082d352c8811915e05d4e435a0", 5736, "ttabench"),
    *[_f(f"editing/zeta_MedleyMDPrompts/{name}", "HilaManor/AudioEditingCode",
         "70b0ad06a529007445b38adc427f8ff630966fe9", f"MedleyMDPrompts/{name}", sha, size)
      for name, sha, size in (
        ("captions_sources.csv", "6bd48e21e684175efd8ca65c8e70355d9e570b7759636ebe471935ecebbee212", 10568),
        ("captions_targets.csv", "4d76e79b6a1aacdd8ab53a863f20b8b2d878b65360989acaf4db2690a4d3d1b0", 67911),
        ("LICENSE", "f5b745ef98087f531e719ee8ca6a96809444573ecc7173c6fa68eaad39b3cc3f", 18658))],
]
"""The fetchable text files; `suites` = the suites whose default configuration reads them."""


def select_data(names: Iterable[str]) -> list[DataFile]:
    """Files for the named suites (every file when no name is given)."""
    names = list(names)
    if not names:
        return list(DATA_FILES)
    known = sorted({s for f in DATA_FILES for s in f.suites})
    for n in names:
        if n not in known:
            raise SabenchError(f"data fetch {n}", "no text files to fetch for this suite",
                               f"name one of: {', '.join(known)} (or none: every file)")
    return [f for f in DATA_FILES if set(f.suites) & set(names)]


def _one(df: DataFile, root: Path, force: bool, options: http.HttpOptions, display: Display) -> Outcome:
    final = root / df.relpath
    if final.is_file():
        if sha256_file(final) == df.sha256:
            return Outcome(df.relpath, "present", final.stat().st_size, "verified (sha256)")
        if not force:
            return Outcome(df.relpath, "failed", 0, f"{final}: differs from {df.source} (other sha256): not "
                           "overwritten (fix: pass --force to replace it with the published file)")
    tag = hashlib.sha256(df.url().encode()).hexdigest()[:16]
    part = root / ".fetch" / "partial" / f"{tag}-{Path(df.relpath).name}.part"
    try:
        http.download(df.url(), part, item=df.relpath, options=options, on_bytes=display.advance,
                      on_total=display.set_total)
        digest = sha256_file(part)
        if digest != df.sha256:
            part.unlink(missing_ok=True)
            raise FetchError(df.relpath, f"downloaded bytes do not match the pinned sha256 ({digest[:12]}... vs "
                             f"{df.sha256[:12]}...) from {df.url()}", "rerun; if it persists, report it")
    except SabenchError as exc:
        return Outcome(df.relpath, "failed", 0, reason(exc, df.relpath))
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(part, final)
    return Outcome(df.relpath, "fetched", df.size, df.source)


def fetch_data(names: list[str], root: Path, *, force: bool = False, dry: bool = False,
               options: http.HttpOptions = http.HttpOptions(), quiet: bool = False, bars: bool | None = None,
               echo: Callable[[str], None] = print) -> int:
    files = select_data(names)
    if root.exists() and not root.is_dir():
        raise SabenchError(str(root), "is a file, not a folder", "pass --data with a folder path")
    if dry:
        todo = [f for f in files if not ((root / f.relpath).is_file() and sha256_file(root / f.relpath) == f.sha256)]
        for f in todo:
            echo(f"would fetch {f.relpath} ({human(f.size)}) <- {f.url()}")
        echo(f"dry run: {len(todo)} of {len(files)} file(s) to fetch, total {human(sum(f.size for f in todo))}; "
             "nothing downloaded")
        return 0
    from harness.progress import enabled

    root.mkdir(parents=True, exist_ok=True)
    display = Display(len(files), sum(f.size for f in files), enabled(not quiet) if bars is None else bars, quiet)
    outcomes = []
    try:
        for df in files:
            display.begin(df.relpath)
            outcomes.append(_one(df, root, force, options, display))
            display.end(outcomes[-1])
    finally:
        display.close()
    summary(outcomes, echo, what="data")
    echo("note: audio is not fetched: put the AudioCaps clips under <data>/audiocaps/audio/ "
         "(suites/audiocaps/README.md); build the editing set with `python -m suites.editing.construct`")
    return 1 if any(o.status == "failed" for o in outcomes) else 0


__all__ = ["DataFile", "DATA_FILES", "select_data", "fetch_data"]
