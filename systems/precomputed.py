"""`precomputed`: a "system" that serves pre-generated files -- how leaderboards are fed.

    sabench score --suite audiocaps --path outputs/tangoflux/        # folder: id = file stem
                                                                     # (or its manifest.csv)
    sabench score --suite audiocaps --path outputs/tangoflux.csv     # manifest: id,path

Files are matched to prompts strictly by id (`harness.manifest.match_ids`), never by
listing order. Before generation the runner calls `check_prompts`: missing ids come back by
name (a failure per item with --keep-going, one error listing them without), and extra ids
(files no prompt asks for) are reported in a warning naming them.

Replicates: a suite with `replicates: N > 1` asks for one file per (prompt, replicate), named
by the item id the results use, `<prompt id>#r<k>` (k = 0 .. N-1; e.g. `Y123#r2.wav`, or that
id in a manifest). For replicate 0 a plain `<prompt id>` file is accepted too.

No copies: the runner references each file in the artifact store by path + sha256
(`serves_files`, `file_for`; `harness.referenced`) instead of storing a float32 copy, so
scoring a folder costs no disk beyond small sidecars; metrics read the user's file itself.

Identity: `info.checkpoint_sha256` hashes the matched manifest *content* (each id with the
sha256 of its file), so a changed folder is a different system and never reuses another
folder's cached samples, while moving the same folder elsewhere changes nothing.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

from harness.errors import ManifestError
from harness.hashing import sha256_file, sha256_json
from harness.item_ids import item_id, replicate_id, split_item_id
from harness.records import Audio, EditRequest, GenerationRequest, Prompt, ReconstructRequest, SystemInfo, freeze
from harness.system import System

EXPORT_MANIFEST = "manifest.csv"
"""A folder holding this file (as `sabench generate --to` writes it) is read through it: its
`id` column is the true item id of each file (file names are encoded, `export_name`)."""
_SHOW = 20
"""How many extra ids a warning names before summarising."""


class PrecomputedSystem(System):
    """Serve `path` (a folder of .wav/.flac named by prompt id, or a CSV/TSV/JSON/JSONL manifest).

    Args:
        path: folder or manifest file.
        data_root: root for relative manifest paths (default: the manifest's folder).
        label: the system name shown in results (default "precomputed").
    """

    name = "precomputed"
    capabilities = frozenset({"generate", "edit", "reconstruct"})
    batch_size = 16
    serves_files = True
    """The runner references `file_for(request)` instead of copying decoded audio."""

    def __init__(self, path: str | Path, data_root: str | Path | None = None, label: str = "precomputed"):
        from harness.validate import Field, check_field

        for key, value, optional in (("path", path, False), ("data_root", data_root, True), ("label", label, False)):
            if not isinstance(value, Path):  # an empty path would silently mean the current folder
                check_field(value, Field("str", nonempty=True, optional=optional), key, f"system {self.name}")
        super().__init__(path=str(path), data_root=None if data_root is None else str(data_root), label=label)
        self.path = Path(path)
        self.data_root = None if data_root is None else Path(data_root)
        self.label = label
        self._files: dict[str, Path] | None = None
        self._sha: str | None = None

    def files(self) -> dict[str, Path]:
        """{id: path} read once from the folder or manifest (validated by harness.manifest)."""
        if self._files is None:
            from harness.manifest import read_manifest

            listed = self.path / EXPORT_MANIFEST
            if self.path.is_dir() and listed.is_file():    # a `generate --to` folder: true ids
                self._files = read_manifest(listed, self.data_root or self.path)
                _warn_unlisted(self.path, self._files.values())
            else:
                self._files = read_manifest(self.path, self.data_root)
        return self._files

    @property
    def info(self) -> SystemInfo:
        if self._sha is None:
            files = self.files()
            self._sha = sha256_json([[i, sha256_file(files[i])] for i in sorted(files)])
        return SystemInfo(self.label, "1", self._sha, 0, 0, freeze({"label": self.label}))

    def check_prompts(self, prompts: Sequence[Prompt], replicates: int = 1) -> dict[str, str]:
        """{item id: problem} for (prompt, replicate) items without a file; warns about files
        nobody asked for. Item ids are the prompt id, or `<id>#r<k>` when replicates > 1."""
        from harness.manifest import match_ids

        files = self.files()
        wanted = [item_id(p.id, k, replicates) for p in prompts for k in range(replicates)]
        _, missing, extra = match_ids(wanted, files)
        if replicates > 1:          # replicate 0 may be a plain <id> file
            plain = {p.id for p in prompts if item_id(p.id, 0, replicates) in missing and p.id in files}
            missing = [i for i in missing if split_item_id(i) not in {(p, 0) for p in plain}]
            extra = [i for i in extra if i not in plain]
        if extra:
            shown = ", ".join(extra[:_SHOW]) + (f", ... ({len(extra) - _SHOW} more)" if len(extra) > _SHOW else "")
            warnings.warn(f"{self.path}: {len(extra)} file(s) match no prompt and are ignored: {shown}",
                          stacklevel=2)
        return {i: f"no file for item id {i!r} in {self.path}" for i in missing}

    def file_for(self, request: GenerationRequest | EditRequest | ReconstructRequest) -> Path:
        """The file serving `request`: `<item id>`, or for replicate 0 a plain `<prompt id>`."""
        files, pid, k = self.files(), request.prompt.id, request.replicate
        path = files.get(replicate_id(pid, k)) or (files.get(pid) if k == 0 else None)
        if path is None:
            want = pid if k == 0 else replicate_id(pid, k)
            raise ManifestError(f"item id {want!r}", f"no file for it in {self.path}",
                                "add the file (named <id>.wav or <id>#r<k>.wav / a manifest row) "
                                "or rerun with --keep-going")
        return Path(path)

    def _serve(self, request: GenerationRequest | EditRequest | ReconstructRequest) -> Audio:
        from harness import audio

        return audio.read(self.file_for(request))

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Audio]:
        return [self._serve(r) for r in requests]

    def edit(self, requests: Sequence[EditRequest], sources: Sequence[Audio]) -> list[Audio]:
        return [self._serve(r) for r in requests]

    def reconstruct(self, requests: Sequence[ReconstructRequest], inputs: Sequence[Audio]) -> list[Audio]:
        return [self._serve(r) for r in requests]


def _warn_unlisted(folder: Path, listed) -> None:
    """Audio files in a manifest folder that the manifest does not name are not scored."""
    from harness.manifest import AUDIO_SUFFIXES

    names = {Path(p).resolve() for p in listed}
    extra = sorted(p.name for p in folder.iterdir()
                   if p.suffix.lower() in AUDIO_SUFFIXES and not p.name.startswith(".") and p.resolve() not in names)
    if extra:
        shown = ", ".join(extra[:_SHOW]) + (f", ... ({len(extra) - _SHOW} more)" if len(extra) > _SHOW else "")
        warnings.warn(f"{folder}: {len(extra)} audio file(s) not listed in {EXPORT_MANIFEST} are ignored: {shown}",
                      stacklevel=3)



__all__ = ["PrecomputedSystem"]
