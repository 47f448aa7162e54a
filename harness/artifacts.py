"""Content-addressed stores: generated audio (`ArtifactStore`) and embeddings (`EmbeddingCache`).

Layout under a store root (never inside the installed package):

    audio/<key[:2]>/<key>.wav     the clip (float32 WAV by default: stored numbers are exact)
    audio/<key[:2]>/<key>.json    sidecar: sample rate, channels, frames, sha256 of the file
    embeddings/<key[:2]>/<key>.npz  named arrays + the key + a digest of the arrays

A sample can also be *referenced* instead of stored (`put_reference`): the sidecar then
records the path of an existing file (a user's pre-generated clip) and its sha256, and no copy
is written; reading it back re-hashes that file, and a changed or moved file is reported as
absent (its sidecar is removed, the user's file never touched).

Every write is atomic (temp file + rename). The audio file is written before its sidecar, so
a sidecar is the commit marker: a run killed between the two leaves an orphan audio file
that is simply overwritten next time. Reads verify content (sha256 of the audio file, digest
of the arrays); a corrupt entry is deleted and reported as absent so the caller recomputes.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np

from harness import SCHEMA_VERSION
from harness import audio as audio_io
from harness.errors import SabenchError
from harness.hashing import sha256_array, sha256_bytes, sha256_file, sha256_json
from harness.paths import atomic_write_bytes, refuse_inside_package
from harness.records import Audio, AudioSample, BackboneInfo

_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{3,128}$")
STORE_FORMATS = {"wav": ("WAV", "FLOAT"), "flac": ("FLAC", "PCM_24")}
"""Stored audio format: "wav" float32 (exact, the default) or "flac" 24-bit (smaller, lossy
to 24-bit quantisation)."""


def _check_key(key: str) -> str:
    if not isinstance(key, str) or not _KEY_RE.match(key):
        raise SabenchError(f"store key {key!r}", "not a valid key",
                           "use 3-128 characters from [A-Za-z0-9_-] (e.g. a sha256 hex digest)")
    return key


def _unlink(*paths: Path) -> None:
    for p in paths:
        try:
            p.unlink()
        except FileNotFoundError:
            pass


class ArtifactStore:
    """Generated audio, addressed by request key (`GenerationRequest.key(system)` ...)."""

    def __init__(self, root: Path | str, fmt: str = "wav"):
        if fmt not in STORE_FORMATS:
            raise SabenchError(f"artifact format {fmt!r}", "unknown", f"use {sorted(STORE_FORMATS)}")
        self.root = Path(root).expanduser()
        refuse_inside_package(self.root, "artifact store root")
        self.fmt = fmt

    def path_for(self, key: str) -> Path:
        """Where the audio of `key` lives (whether or not it exists yet)."""
        _check_key(key)
        return self.root / "audio" / key[:2] / f"{key}.{self.fmt}"

    def _sidecar(self, key: str) -> Path:
        return self.path_for(key).with_suffix(".json")

    def put_audio(self, key: str, audio: Audio, seconds: float = 0.0) -> AudioSample:
        """Store `audio` under `key` (atomic); returns its `AudioSample`."""
        path = self.path_for(key)
        fmt, subtype = STORE_FORMATS[self.fmt]
        data = audio_io.encode(audio, fmt, subtype)
        sample = AudioSample(key=key, path=str(path), sample_rate=int(audio.sample_rate),
                             channels=audio.channels, frames=audio.frames,
                             sha256=sha256_bytes(data), seconds=float(seconds))
        atomic_write_bytes(path, data)
        meta = {"key": key, "sample_rate": sample.sample_rate, "channels": sample.channels,
                "frames": sample.frames, "sha256": sample.sha256, "seconds": sample.seconds,
                "format": self.fmt, "schema": SCHEMA_VERSION}
        atomic_write_bytes(self._sidecar(key), json.dumps(meta, sort_keys=True).encode())
        return sample

    def put_reference(self, key: str, path: str | Path, seconds: float = 0.0) -> AudioSample:
        """Record the existing audio file `path` under `key` without copying it: the sample's
        path is that file, its sha256 the file's. The file is read once to check it (an
        unreadable, empty or non-finite file raises `AudioError` naming it)."""
        path = Path(path).expanduser().resolve()
        sha = sha256_file(path)
        audio = audio_io.read(path)  # (C, T) float32; raises AudioError for bad files
        sample = AudioSample(key=key, path=str(path), sample_rate=int(audio.sample_rate),
                             channels=audio.channels, frames=audio.frames, sha256=sha, seconds=float(seconds))
        meta = {"key": key, "external": str(path), "sample_rate": sample.sample_rate,
                "channels": sample.channels, "frames": sample.frames, "sha256": sha,
                "seconds": sample.seconds, "format": "external", "schema": SCHEMA_VERSION}
        atomic_write_bytes(self._sidecar(key), json.dumps(meta, sort_keys=True).encode())
        return sample

    def get_audio(self, key: str) -> AudioSample | None:
        """The stored sample, or None when absent or corrupt (a corrupt entry is deleted; for a
        referenced file only the sidecar is, never the file)."""
        path, side = self.path_for(key), self._sidecar(key)
        if not side.exists():
            return None
        owned = True
        try:
            meta = json.loads(side.read_text(encoding="utf-8"))
            if meta.get("external"):
                path, owned = Path(meta["external"]), False
            ok = (meta.get("key") == key and path.is_file()
                  and sha256_file(path) == meta["sha256"])
            sample = AudioSample(key=key, path=str(path), sample_rate=int(meta["sample_rate"]),
                                 channels=int(meta["channels"]), frames=int(meta["frames"]),
                                 sha256=str(meta["sha256"]), seconds=float(meta.get("seconds", 0)))
        except (ValueError, KeyError, TypeError, OSError):
            ok = False
        if not ok:
            _unlink(*((path, side) if owned else (side,)))
            return None
        return sample

    def has(self, key: str) -> bool:
        """True when `key` is stored and intact."""
        return self.get_audio(key) is not None

    def read(self, sample: AudioSample) -> Audio:
        """The waveform of a stored sample (float32 (C, T))."""
        return audio_io.read(sample.path)


class EmbeddingCache:
    """Backbone outputs keyed by audio content + backbone identity + recipe."""

    def __init__(self, root: Path | str):
        self.root = Path(root).expanduser()
        refuse_inside_package(self.root, "embedding cache root")

    @staticmethod
    def key(audio_sha256: str, backbone: BackboneInfo) -> str:
        """Hash of the audio content, backbone name/version/checkpoint/rate, recipe, schema (and
        the device when it is not the CPU, so CPU keys stay those of earlier versions)."""
        doc = {
            "audio": audio_sha256, "backbone": backbone.name, "version": backbone.version,
            "checkpoint": backbone.checkpoint_sha256, "sample_rate": backbone.sample_rate,
            "recipe": backbone.recipe.id(), "schema": SCHEMA_VERSION,
        }
        if backbone.device != "cpu":
            doc["device"] = backbone.device
        return sha256_json(doc)

    def path_for(self, key: str) -> Path:
        _check_key(key)
        return self.root / "embeddings" / key[:2] / f"{key}.npz"

    @staticmethod
    def _digest(outputs: dict[str, np.ndarray]) -> str:
        return sha256_json([[name, sha256_array(outputs[name])] for name in sorted(outputs)])

    def put(self, key: str, outputs: dict[str, np.ndarray]) -> None:
        """Store named arrays atomically (exact dtype kept: no float16 down-cast)."""
        arrays = {str(k): np.asarray(v) for k, v in outputs.items()}
        for name, a in arrays.items():
            if name.startswith("__") or a.dtype == object:
                raise SabenchError(f"embedding output {name!r}", "reserved name or object array",
                                   "use plain names and numeric arrays")
        buf = io.BytesIO()
        np.savez(buf, __key__=np.array(key), __digest__=np.array(self._digest(arrays)), **arrays)
        atomic_write_bytes(self.path_for(key), buf.getvalue())

    def get(self, key: str) -> dict[str, np.ndarray] | None:
        """The stored arrays, or None when absent or corrupt (a corrupt file is deleted)."""
        path = self.path_for(key)
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as z:
                data = {name: z[name] for name in z.files}
            stored_key = str(data.pop("__key__"))
            digest = str(data.pop("__digest__"))
            ok = stored_key == key and digest == self._digest(data)
        except Exception:  # any decoding failure (bad zip, CRC, header, dtype) = corrupt
            ok = False
        if not ok:
            _unlink(path)
            return None
        return data


__all__ = ["ArtifactStore", "EmbeddingCache", "STORE_FORMATS"]
