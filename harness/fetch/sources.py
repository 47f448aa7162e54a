"""Where each file of the weights table is fetched from, and which files a name or a job needs.

`SOURCES` maps every relpath of `harness.weights.WEIGHT_FILES` to a `Source`: a Hugging Face
hub repo + file (+ revision) or a plain URL. Revisions: no hub commit is known for certain
here, so hub files follow the repo's default branch ("main"; `pe-a-frame-large` the
`perception_models` branch) and the commit actually served is recorded in `weights.lock`;
a later fetch of a locked file asks for that commit. Zenodo records are immutable (pinned by
record id); GitHub release assets and the AudioSet label CSV are not pinned.

`select(names, all_files, job)` turns command-line names into table entries:
- a backbone registry name (`panns16k`, `laion_clap`, `vggish`, ...),
- a system name (`tangoflux`, `resonate`, `semanticvocoder`, `semanticaudio`, `base-model`),
- a group of the table (`flan-t5-large`, `dacvae`, `panns`, ...), or one relpath;
`--for-job NAME` = the systems of the job plus the backbones of its suites' metrics.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from harness.errors import SabenchError
from harness.weights import WEIGHT_FILES, WeightFile

HF = "https://huggingface.co"
_COMMIT = re.compile(r"[0-9a-f]{40}")


@dataclass(frozen=True)
class Source:
    """Where one file is published: a hub repo + file, or a plain URL."""

    repo: str | None = None
    """Hugging Face hub model repo id ("owner/name"), or None for a plain URL."""
    file: str | None = None
    """Path of the file inside the hub repo."""
    revision: str | None = None
    """Hub revision: a 40-hex commit (pinned), a branch name, or None (= "main")."""
    url: str | None = None
    """Plain download URL (Zenodo, GitHub release, ...), when not on the hub."""
    immutable: bool = False
    """A plain URL whose bytes cannot change (a Zenodo record): pinned by address."""

    @property
    def pinned(self) -> bool:
        return bool(self.revision and _COMMIT.fullmatch(self.revision)) or (self.url is not None and self.immutable)

    @property
    def where(self) -> str:
        """One line for humans: "hub owner/name: file @ revision" or the URL."""
        if self.repo:
            return f"hub {self.repo}: {self.file} @ {self.revision or 'main'}"
        return str(self.url)

    @property
    def page(self) -> str:
        """The page to visit (licence / access request for gated hub repos)."""
        return f"{HF}/{self.repo}" if self.repo else str(self.url)


def _hub(repo: str, file: str, revision: str | None = None) -> Source:
    return Source(repo=repo, file=file, revision=revision)


_ZENODO_PANNS = "https://zenodo.org/records/3987831/files"
SOURCES: dict[str, Source] = {
    "panns/Cnn14_16k_mAP=0.438.pth":
        Source(url=f"{_ZENODO_PANNS}/Cnn14_16k_mAP%3D0.438.pth?download=1", immutable=True),
    "panns/Cnn14_mAP=0.431.pth": Source(url=f"{_ZENODO_PANNS}/Cnn14_mAP%3D0.431.pth?download=1", immutable=True),
    "panns/class_labels_indices.csv": Source(
        url="http://storage.googleapis.com/us_audioset/youtube_corpus/v1/csv/class_labels_indices.csv"),
    **{f"laion_clap/{f}": _hub("lukewys/laion_clap", f) for f in
       ("630k-audioset-best.pt", "630k-audioset-fusion-best.pt", "music_speech_audioset_epoch_15_esc_89.98.pt")},
    **{f"laion_clap/tokenizers/roberta-base/{f}": _hub("FacebookAI/roberta-base", f)
       for f in ("vocab.json", "merges.txt", "config.json")},
    "laion_clap/tokenizers/bert-base-uncased/vocab.txt": _hub("google-bert/bert-base-uncased", "vocab.txt"),
    **{f"laion_clap/tokenizers/facebook-bart-base/{f}": _hub("facebook/bart-base", f)
       for f in ("vocab.json", "merges.txt")},
    "ms_clap/CLAP_weights_2023.pth": _hub("microsoft/msclap", "CLAP_weights_2023.pth"),
    **{f"ms_clap/gpt2/{f}": _hub("openai-community/gpt2", f) for f in ("config.json", "vocab.json", "merges.txt")},
    "audiobox_aesthetics/checkpoint.pt": _hub("facebook/audiobox-aesthetics", "checkpoint.pt"),
    "vggish/vggish-10086976.pth": Source(
        url="https://github.com/harritaylor/torchvggish/releases/download/v0.1/vggish-10086976.pth"),
    **{f"flan-t5-large/{f}": _hub("google/flan-t5-large", f)
       for f in ("config.json", "model.safetensors", "spiece.model", "tokenizer.json")},
    "dacvae/weights.pth": _hub("facebook/dacvae-watermarked", "weights.pth"),
    **{f"pe-a-frame-large/{f}": _hub("facebook/pe-a-frame-large", f, "perception_models")
       for f in ("config.json", "model.safetensors")},
    **{f"tangoflux/{f}": _hub("declare-lab/TangoFlux", f)
       for f in ("config.json", "tangoflux.safetensors", "vae.safetensors")},
    **{f"resonate/{f}": _hub("AndreasXi/Resonate", f) for f in ("Resonate_GRPO.pth", "v1-44.pth")},
    **{f"resonate/bigvgan_v2_44khz_128band_512x/{f}": _hub("nvidia/bigvgan_v2_44khz_128band_512x", f)
       for f in ("config.json", "bigvgan_generator.pt")},
    **{f"semanticvocoder/{f}": _hub("ZeyuXie/SemanticVocoderSnapshot", f)
       for f in ("config.json", "semanticVocoder_epoch-270.pt")},
    "semanticvocoder/dasheng_base.pt": Source(url="https://zenodo.org/records/11511780/files/dasheng_base.pt?download=1",
                                              immutable=True),
    **{f"semanticvocoder/tta/{f}": _hub("ZeyuXie/SemanticVocoder", f) for f in ("config.json", "model.safetensors")},
}

_LAION_TOKENIZERS = "laion_clap/tokenizers/"
NEEDS: dict[str, tuple[str, ...]] = {
    # backbones (registry names): the files their load() reads; bare `laion_clap` = the
    # checkpoint the default preset's CLAP reads (`laion_clap:<checkpoint>` names another)
    "panns16k": ("panns/Cnn14_16k_mAP=0.438.pth",),
    "panns32k": ("panns/Cnn14_mAP=0.431.pth",),
    "laion_clap": (_LAION_TOKENIZERS,),
    "ms_clap": ("ms_clap/",),
    "aesthetics": ("audiobox_aesthetics/",),
    "vggish": ("vggish/",),
    # systems (registry names)
    "tangoflux": ("tangoflux/", "flan-t5-large/"),
    "resonate": ("resonate/", "flan-t5-large/"),
    "semanticvocoder": ("semanticvocoder/", "flan-t5-large/"),
    "semanticaudio": ("dacvae/", "pe-a-frame-large/", "flan-t5-large/"),
    "base-model": ("dacvae/", "pe-a-frame-large/", "flan-t5-large/"),
}
"""name -> relpaths or folder prefixes (ending in "/") of the table it reads."""

NOT_PUBLISHED: dict[str, str] = {
    "semanticaudio": "its own checkpoints (<weights>/semanticaudio/{planner,synthesizer,...}) are not in the "
                     "weights table: train them (systems/semanticaudio) or copy them in",
    "base-model": "its checkpoint (<weights>/semanticaudio/base) is not in the weights table: train it "
                  "(--stage base) or copy it in",
}
"""Systems reading files that no public source provides (said once in the fetch summary)."""

NO_WEIGHTS = frozenset({"noise", "precomputed", "reference-echo", "silence", "sine", "source-echo"})
"""Systems that read no weights."""


def _matching(pattern: str) -> list[WeightFile]:
    if pattern.endswith("/"):
        return [wf for wf in WEIGHT_FILES if wf.relpath.startswith(pattern)]
    return [wf for wf in WEIGHT_FILES if wf.relpath == pattern]


def files_for(name: str) -> list[WeightFile]:
    """The table entries one command-line name stands for (see the module doc)."""
    base = name.split(":", 1)[0]
    if base in NO_WEIGHTS:
        return []
    if base == "laion_clap":  # laion_clap[:<checkpoint>], as the backbone registry resolves it
        checkpoint = name.split(":", 1)[1] if ":" in name else _preset_checkpoint("laion_clap", None)
        found = _matching(f"laion_clap/{checkpoint}.pt")
        if not found:
            raise SabenchError(f"weights fetch {name}", f"no LAION-CLAP checkpoint {checkpoint!r} in the table",
                               "use laion_clap:630k-audioset-best, laion_clap:630k-audioset-fusion-best or "
                               "laion_clap:music_speech_audioset_epoch_15_esc_89.98")
        return found + _matching(_LAION_TOKENIZERS)
    if base in NEEDS:
        return [wf for pattern in NEEDS[base] for wf in _matching(pattern)]
    found = [wf for wf in WEIGHT_FILES if wf.backbone == base or wf.relpath == name
             or wf.relpath.startswith(name.rstrip("/") + "/")]
    if not found:
        known = sorted({*NEEDS, *(wf.backbone for wf in WEIGHT_FILES)})
        raise SabenchError(f"weights fetch {name}",
                           "is not a backbone, system, table group or file of the weights table",
                           f"use one of: {', '.join(known)} (or --all / --for-job NAME)")
    return found


def _preset_checkpoint(backbone: str, preset: str | None) -> str:
    """The checkpoint a preset's conventions give `backbone` (LAION-CLAP), else its factory default."""
    from harness.metrics.presets import DEFAULT_PRESET, backbone_args

    return str(backbone_args(preset or DEFAULT_PRESET).get(backbone, {}).get("checkpoint", "630k-audioset-best"))


def job_names(job_name: str) -> list[str]:
    """The systems of a job plus the backbones its suites' metrics read (registry names; a
    LAION-CLAP backbone with the checkpoint the suite's preset selects)."""
    from harness.job import load_job
    from harness.plan import build_metrics
    from harness.suite import load_suite

    job = load_job(job_name)
    names: list[str] = []
    for suite, spec in job.pairs():
        names.append(spec.split(":", 1)[0] if isinstance(spec, str) else str(spec))
        suite_spec = load_suite(suite)
        for metric in build_metrics(suite_spec):
            backbone = metric.info.backbone
            if backbone == "laion_clap":
                backbone = f"laion_clap:{_preset_checkpoint(backbone, suite_spec.preset)}"
            if backbone:
                names.append(backbone)
    return list(dict.fromkeys(names))


def select(names: Iterable[str] = (), all_files: bool = False,
           job: str | None = None) -> tuple[list[WeightFile], list[str]]:
    """(table entries to fetch in table order, notes about names no source provides)."""
    chosen = list(names)
    if job:
        chosen += job_names(job)
    if not (chosen or all_files):
        raise SabenchError("weights fetch", "nothing to fetch",
                           "name backbones/systems, or pass --all or --for-job JOB")
    wanted = {wf.relpath for name in chosen for wf in files_for(name)}
    picked = [wf for wf in WEIGHT_FILES if all_files or wf.relpath in wanted]
    notes = [f"{n}: {NOT_PUBLISHED[n.split(':', 1)[0]]}" for n in dict.fromkeys(chosen)
             if n.split(":", 1)[0] in NOT_PUBLISHED]
    return picked, notes


def source_of(wf: WeightFile) -> Source:
    try:
        return SOURCES[wf.relpath]
    except KeyError:
        raise SabenchError(wf.relpath, "has no download source in harness/fetch/sources.py",
                           "add it to SOURCES (a table entry without a source cannot be fetched)") from None


__all__ = ["Source", "SOURCES", "NEEDS", "NOT_PUBLISHED", "files_for", "job_names", "select", "source_of"]
