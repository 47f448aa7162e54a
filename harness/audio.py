"""The only place sabench reads, writes, resamples, down-mixes, pads or crops audio.

Reading (`read`) goes through libsndfile (soundfile) and always returns float32 (C, T).
Integer files are scaled by libsndfile's convention: int16 / 2**15, int24 / 2**23,
int32 / 2**31; float files are returned as stored (values above 1 are kept).

Format policy (`strict=True`, the default): containers WAV, WAVEX, RF64, W64 and FLAC with
sample formats PCM_16, PCM_24, PCM_32, FLOAT, DOUBLE (FLAC: PCM_16, PCM_24). Companded or
lossy encodings libsndfile could decode (u-law, A-law, IMA/MS ADPCM, GSM, 8-bit PCM, Ogg,
MP3 ...) are refused with an `AudioError` asking for a PCM/float re-export: a benchmark
submission in those formats has already lost quality that the metrics would then measure.
`strict=False` decodes anything libsndfile reads. Channel counts are not limited by `read`;
pass `max_channels` (or call `check_channels`) where a consumer cannot take them, and
`shape()` down-mixes any count.

Shaping (`shape`, `load`, `load_many`) applies an `AudioRecipe` in this fixed order:
    1. down-mix to mono ("mean" = channel average, "first" = channel 0)
    2. resample to recipe.sample_rate with the named resampler
    3. DC removal (subtract the mean), if recipe.dc_remove (before step 2 instead when
       recipe.dc_before_resample: audioldm_eval's order; a resampler does not map a constant
       to the same constant near the clip edges, so the order changes the numbers)
    4. length policy: "full" (unchanged); "pad_min" (zero-pad at the end to min_seconds);
       "crop" (keep the first max_seconds, zero-pad if shorter: exactly max_seconds);
       "truncate" (keep at most the first max_seconds, never pad). Sample counts are
       round(seconds * sample_rate). Cropping is deterministic (always from the start).
    5. peak normalisation to recipe.peak_normalize_db dBFS (silence is left unchanged)
    6. int16 round trip: exactly the libsndfile PCM_16 encode + decode that a toolkit
       writing a 16-bit WAV with soundfile and reading it back applies (values clip at full
       scale; decoded values lie on the k / 32768 grid).

Resamplers (`RESAMPLERS`); output length is ceil(T * sr_out / sr_in) for all of them:
- "sinc_kaiser_best" (default): windowed sinc, Kaiser beta 14.7697, 64 zero crossings,
  rolloff 0.9476 = librosa/resampy "kaiser_best", also fadtk's recipe. Tested: within
  0.05 dB up to 0.9 of the new Nyquist (measured 0.022 dB) and >= 100 dB rejection of tones
  from 1.1x the new Nyquist (measured ~146 dB, the float32 floor), so the backbone sees
  neither droop nor aliasing. It is the default for that reason; its cost is a longer
  kernel, computed once per rate pair and cached.
- "sinc_hann_default": torchaudio's defaults (Hann window, width 6, rolloff 0.99): what
  audioldm_eval and av-benchmark use; kept to reproduce those toolkits. Measured: -0.53 dB
  at 0.8 and -2.4 dB at 0.9 of the new Nyquist; only 14 dB rejection at 1.1x, 45 dB at 1.3x.
- "polyphase": scipy.signal.resample_poly with its default Kaiser(5.0) window. Measured:
  -0.66 dB at 0.9 of the new Nyquist, ~55-60 dB rejection.
- "resampy_kaiser_best": `resampy.resample(x, sr_in, sr_out)` itself (filter "kaiser_best",
  a tabulated Kaiser-windowed sinc, linearly interpolated): what frechet_audio_distance and
  torchvggish's `waveform_to_examples` use. Output length floor(T * sr_out / sr_in) (resampy's).
  Needs the `resampy` package (requirements/base.txt). Our "sinc_kaiser_best" has
  the same filter design but evaluates it exactly, so the two differ at ~1e-4 of full scale.
- "sinc_kaiser_best_f64kernel": the same filter with its kernel computed in float64 and then
  stored as float32, as `torchaudio.transforms.Resample(...)` does when no dtype is given: what
  fadtk and kadtk run. Differs from "sinc_kaiser_best" by up to ~5e-6 of full scale, which after
  their 16-bit WAV round trip flips ~0.1-1% of samples by 1 LSB (measured: KAD moved 4.4e-4).
The sinc recipes (`harness.dsp.SincResampler`, no torchaudio needed) are bit-identical to
torchaudio's with the same parameters on float32 input: the float32-kernel ones to
`torchaudio.functional.resample`, the float64-kernel one to `torchaudio.transforms.Resample`
without `dtype` (tested).
"""

from __future__ import annotations

import io
import math
import struct
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

import numpy as np
import soundfile as sf

from harness.errors import AudioError, SabenchError
from harness.paths import atomic_write_bytes
from harness.records import Audio, AudioRecipe

ACCEPTED_FORMATS = frozenset({"WAV", "WAVEX", "RF64", "W64", "FLAC"})
ACCEPTED_SUBTYPES = frozenset({"PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"})
MIN_RATE, MAX_RATE = 1000, 768_000
"""Sample rates outside this range are refused as implausible (a damaged header)."""
WRITE_FORMATS = {".wav": "WAV", ".flac": "FLAC"}

RESAMPLERS: dict[str, dict] = {
    "sinc_kaiser_best": {"backend": "sinc", "lowpass_filter_width": 64,
                         "rolloff": 0.9475937167399596, "window": "kaiser",
                         "beta": 14.769656459379492, "kernel": "float32"},
    "sinc_kaiser_best_f64kernel": {"backend": "sinc", "lowpass_filter_width": 64,
                                   "rolloff": 0.9475937167399596, "window": "kaiser",
                                   "beta": 14.769656459379492, "kernel": "float64"},
    "sinc_hann_default": {"backend": "sinc", "lowpass_filter_width": 6, "rolloff": 0.99,
                          "window": "hann", "beta": None, "kernel": "float32"},
    "polyphase": {"backend": "scipy", "window": ("kaiser", 5.0)},
    "resampy_kaiser_best": {"backend": "resampy", "filter": "kaiser_best"},
}
DEFAULT_RESAMPLER = "sinc_kaiser_best"
MONO_POLICIES = ("mean", "first")
LENGTH_POLICIES = ("full", "pad_min", "crop", "truncate")

_FIX_REEXPORT = "re-export it as 16/24-bit PCM or 32-bit float WAV or FLAC"


# --------------------------------------------------------------------------- reading

def read(path: str | Path, *, strict: bool = True, max_channels: int | None = None) -> Audio:
    """Read a WAV/FLAC file into float32 (C, T). See the module docstring for the policy.

    Raises:
        AudioError: missing, empty, unreadable, truncated, zero-length, non-finite,
            unsupported format, implausible rate, or more than `max_channels` channels.
    """
    p = Path(path)
    if not p.exists():
        raise AudioError(p, "file not found", "check the path (and the manifest's data root)")
    if p.is_dir():
        raise AudioError(p, "is a folder, not an audio file", "point to a .wav or .flac file")
    if p.stat().st_size == 0:
        raise AudioError(p, "file is empty (0 bytes)", "regenerate or re-copy the file")
    try:
        with sf.SoundFile(str(p)) as f:
            _check_header(p, f.format, f.subtype, f.samplerate, f.channels, f.frames, strict)
            if f.format in ("WAV", "WAVEX"):
                _check_riff_complete(p)
            data = f.read(dtype="float32", always_2d=True)  # (T, C) float32
            expected = f.frames
            rate = f.samplerate
    except AudioError:
        raise
    except (sf.LibsndfileError, RuntimeError) as e:
        raise AudioError(p, f"not a readable WAV/FLAC file, or truncated (libsndfile: {e})",
                         _FIX_REEXPORT) from None
    if data.shape[0] != expected:
        raise AudioError(p, f"truncated: header declares {expected} frames, {data.shape[0]} read",
                         "re-copy or regenerate the file")
    bad = ~np.isfinite(data)
    if bad.any():
        first = int(np.argwhere(bad)[0][0])
        raise AudioError(p, f"{int(bad.sum())} NaN/Inf samples (first at frame {first})",
                         "fix the generator's output (NaN usually means a numerical blow-up)")
    audio = Audio(np.ascontiguousarray(data.T), int(rate))  # (C, T) float32
    if max_channels is not None:
        check_channels(audio, p, max_channels)
    return audio


def _check_header(p: Path, fmt: str, subtype: str, rate: int, channels: int, frames: int,
                  strict: bool) -> None:
    if strict and fmt not in ACCEPTED_FORMATS:
        raise AudioError(p, f"container {fmt} is not supported", _FIX_REEXPORT)
    if strict and subtype not in ACCEPTED_SUBTYPES:
        raise AudioError(p, f"sample format {subtype} is not supported (lossy or companded)",
                         _FIX_REEXPORT)
    if not MIN_RATE <= rate <= MAX_RATE:
        raise AudioError(p, f"implausible sample rate {rate} Hz", "check the file header")
    if channels < 1:
        raise AudioError(p, "file has no channels", _FIX_REEXPORT)
    if frames <= 0:
        raise AudioError(p, "contains no audio frames (zero-length)", "regenerate the file")


def _check_riff_complete(p: Path) -> None:
    """Refuse a RIFF WAV whose data chunk size disagrees with the file size.

    libsndfile trusts the data chunk size: a chunk declaring more bytes than the file holds
    (a cut-off download, a killed writer) is silently read short, and so is one declaring
    fewer (a writer that never updated its header) -- the rest of the samples are dropped.
    Neither may be scored as a shorter clip, so both are refused (the policy is to fail the
    item, not to guess the length): after the data chunk only whole RIFF chunks (a 4-byte
    ASCII id and a size that fits) and one pad byte may follow. Streaming sizes (0 or
    0xFFFFFFFF) are not checked.
    """
    size = p.stat().st_size
    with open(p, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return  # RF64 / odd headers: leave to libsndfile
        pos = 12
        while pos + 8 <= size:
            f.seek(pos)
            cid, csize = struct.unpack("<4sI", f.read(8))
            if cid == b"data":
                available = size - pos - 8
                if csize not in (0, 0xFFFFFFFF) and csize > available:
                    raise AudioError(p, f"truncated: data chunk declares {csize} bytes, "
                                        f"{available} present", "re-copy or regenerate the file")
                if csize not in (0, 0xFFFFFFFF):
                    _check_tail(p, f, pos + 8 + csize + (csize & 1), size, csize)
                return
            pos += 8 + csize + (csize & 1)


def _check_tail(p: Path, f, pos: int, size: int, declared: int) -> None:
    """What follows the data chunk must be whole chunks (else the header under-states it)."""
    while pos < size:
        f.seek(pos)
        hdr = f.read(8)
        ok = len(hdr) == 8 and all(32 <= b < 127 for b in hdr[:4])
        csize = struct.unpack("<I", hdr[4:])[0] if ok else 0
        if not ok or pos + 8 + csize > size:
            extra = size - pos
            raise AudioError(p, f"header under-states the audio: data chunk declares {declared} bytes "
                                f"but {extra} more bytes follow it that are not a RIFF chunk "
                                "(reading it would silently drop samples)",
                             "rewrite the file with a correct header (e.g. re-export with soundfile/sox)")
        pos += 8 + csize + (csize & 1)


def check_channels(audio: Audio, item: str | Path, max_channels: int = 2) -> Audio:
    """Refuse audio with more than `max_channels` channels (e.g. a 5.1 file given to a
    stereo system). Returns `audio` unchanged when it is acceptable."""
    if audio.channels > max_channels:
        raise AudioError(item, f"has {audio.channels} channels, at most {max_channels} accepted",
                         "down-mix to mono/stereo first, or allow multichannel input explicitly")
    return audio


# --------------------------------------------------------------------------- writing

def encode(audio: Audio, fmt: str = "WAV", subtype: str = "FLOAT") -> bytes:
    """Encode `audio` into file bytes (WAV or FLAC) in memory."""
    x = np.asarray(audio.samples)
    if x.ndim != 2 or x.shape[1] == 0:
        raise AudioError("audio", f"expected (C, T) samples with T > 0, got shape {x.shape}",
                         "pass a 2-D (channels, frames) array")
    if not np.isfinite(x).all():
        raise AudioError("audio", "refusing to write NaN/Inf samples", "fix the generator output")
    if not sf.check_format(fmt, subtype):
        raise AudioError(f"{fmt}/{subtype}", "unsupported format/subtype combination",
                         "use WAV with FLOAT/PCM_16/PCM_24/PCM_32, or FLAC with PCM_16/PCM_24")
    buf = io.BytesIO()
    sf.write(buf, x.T, int(audio.sample_rate), subtype=subtype, format=fmt)  # (T, C)
    data = buf.getvalue()
    return _zero_peak_timestamp(data) if fmt == "WAV" else data


def _zero_peak_timestamp(data: bytes) -> bytes:
    """libsndfile writes a PEAK chunk with the wall-clock time into float WAVs; zero that
    field so equal audio always encodes to equal bytes (content hashes are cache keys)."""
    out = bytearray(data)
    pos = 12                                                   # after "RIFF" <size> "WAVE"
    while pos + 8 <= len(out):
        cid, size = bytes(out[pos:pos + 4]), int.from_bytes(out[pos + 4:pos + 8], "little")
        if cid == b"PEAK" and size >= 8:
            out[pos + 12:pos + 16] = b"\x00\x00\x00\x00"    # version (4 bytes), then timestamp
        pos += 8 + size + (size & 1)
    return bytes(out)


def write(path: str | Path, audio: Audio, subtype: str = "FLOAT") -> None:
    """Write `audio` atomically (temp file in the same folder + rename). Format from suffix."""
    p = Path(path)
    fmt = WRITE_FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise AudioError(p, f"unsupported output suffix {p.suffix!r}", "use .wav or .flac")
    atomic_write_bytes(p, encode(audio, fmt, subtype))


# --------------------------------------------------------------------------- resampling

@lru_cache(maxsize=64)
def _torch_resampler(name: str, sr_in: int, sr_out: int):
    """A `harness.dsp.SincResampler` (its sinc kernel computed once per rate pair).

    Kernel "float32": built in float32 with `torchaudio.functional.resample`'s arithmetic, so
    results equal torchaudio's bit for bit (toolkit parity) without needing torchaudio. Kernel
    "float64": computed in float64 and stored as float32, as `torchaudio.transforms.Resample(...)`
    without `dtype` does (what fadtk and kadtk construct).
    """
    from harness.dsp import SincResampler

    prm = RESAMPLERS[name]
    return SincResampler(sr_in, sr_out, width=prm["lowpass_filter_width"], rolloff=prm["rolloff"],
                         window=prm["window"], beta=prm["beta"], kernel=prm["kernel"])


def resample(x: np.ndarray, sr_in: int, sr_out: int,
             resampler: str = DEFAULT_RESAMPLER) -> np.ndarray:
    """Resample (C, T) float32 from `sr_in` to `sr_out`; output (C, ceil(T * sr_out / sr_in)).

    Equal rates return a float32 copy (identity).
    """
    if resampler not in RESAMPLERS:
        raise SabenchError(f"resampler {resampler!r}", "unknown resampler",
                           f"use one of {sorted(RESAMPLERS)}")
    x = np.ascontiguousarray(x, dtype=np.float32)  # (C, T) @ sr_in
    if x.ndim != 2:
        raise AudioError("audio", f"resample expects (C, T), got shape {x.shape}", "pass 2-D")
    if int(sr_in) == int(sr_out):
        return x.copy()
    if RESAMPLERS[resampler]["backend"] == "scipy":
        from scipy.signal import resample_poly

        g = math.gcd(int(sr_in), int(sr_out))
        y = resample_poly(x, int(sr_out) // g, int(sr_in) // g, axis=-1,
                          window=RESAMPLERS[resampler]["window"])
        return np.ascontiguousarray(y, dtype=np.float32)  # (C, T') @ sr_out
    if RESAMPLERS[resampler]["backend"] == "resampy":
        return _resampy(x, int(sr_in), int(sr_out), RESAMPLERS[resampler]["filter"])
    import torch

    with torch.inference_mode():
        y = _torch_resampler(resampler, int(sr_in), int(sr_out))(torch.from_numpy(x))
    return y.numpy().astype(np.float32, copy=False)  # (C, T') @ sr_out


def _resampy(x: np.ndarray, sr_in: int, sr_out: int, filt: str) -> np.ndarray:
    try:
        import resampy
    except ImportError:
        raise SabenchError("resampler 'resampy_kaiser_best'", "the resampy package is not installed",
                           "pip install resampy==0.4.3 (requirements/base.txt)") from None
    y = resampy.resample(x, sr_in, sr_out, filter=filt, axis=-1)  # (C, floor(T * sr_out / sr_in))
    return np.ascontiguousarray(y, dtype=np.float32)  # (C, T') @ sr_out


# --------------------------------------------------------------------------- shaping

def validate_recipe(recipe: AudioRecipe) -> None:
    """Raise `SabenchError` naming the bad field of `recipe`."""
    item = f"audio recipe {recipe}"
    if recipe.mono not in MONO_POLICIES:
        raise SabenchError(item, f"unknown mono policy {recipe.mono!r}", f"use {MONO_POLICIES}")
    if recipe.length not in LENGTH_POLICIES:
        raise SabenchError(item, f"unknown length policy {recipe.length!r}",
                           f"use {LENGTH_POLICIES}")
    if recipe.resampler not in RESAMPLERS:
        raise SabenchError(item, f"unknown resampler {recipe.resampler!r}",
                           f"use one of {sorted(RESAMPLERS)}")
    if not MIN_RATE <= recipe.sample_rate <= MAX_RATE:
        raise SabenchError(item, f"bad sample_rate {recipe.sample_rate}", "use a rate in Hz")
    if recipe.length in ("crop", "truncate") and recipe.max_seconds <= 0:
        raise SabenchError(item, f"length={recipe.length!r} needs max_seconds > 0",
                           "set max_seconds")
    if recipe.length == "pad_min" and recipe.min_seconds <= 0:
        raise SabenchError(item, "length='pad_min' needs min_seconds > 0", "set min_seconds")


def int16_roundtrip(x: np.ndarray) -> np.ndarray:
    """The libsndfile PCM_16 encode/decode of float32 samples (T,) (clips to [-1, 1))."""
    buf = io.BytesIO()
    sf.write(buf, x, 8000, subtype="PCM_16", format="WAV")
    buf.seek(0)
    y, _ = sf.read(buf, dtype="float32")
    return y


def _apply_length(x: np.ndarray, sr: int, recipe: AudioRecipe) -> np.ndarray:
    if recipe.length == "pad_min":
        n = int(round(recipe.min_seconds * sr))
        return np.pad(x, (0, max(0, n - x.shape[0])))
    if recipe.length in ("crop", "truncate"):
        n = int(round(recipe.max_seconds * sr))
        x = x[:n]
        if recipe.length == "crop" and x.shape[0] < n:
            x = np.pad(x, (0, n - x.shape[0]))
    return x


def shape(audio: Audio, recipe: AudioRecipe) -> np.ndarray:
    """Shape `audio` by `recipe` (order in the module docstring) -> (T,) float32 mono."""
    validate_recipe(recipe)
    x = np.asarray(audio.samples, dtype=np.float32)  # (C, T) @ audio.sample_rate
    x = x.mean(axis=0, keepdims=True) if recipe.mono == "mean" else x[:1]  # (1, T)
    if recipe.dc_remove and recipe.dc_before_resample:
        x = x - x.mean(dtype=np.float64).astype(np.float32)
    x = resample(x, audio.sample_rate, recipe.sample_rate, recipe.resampler)[0]  # (T',)
    if recipe.dc_remove and not recipe.dc_before_resample:
        x = x - x.mean(dtype=np.float64).astype(np.float32)
    x = _apply_length(x, recipe.sample_rate, recipe)
    if recipe.peak_normalize_db is not None:
        peak = float(np.max(np.abs(x))) if x.size else 0.0
        if peak > 0.0:
            x = x * np.float32(10.0 ** (recipe.peak_normalize_db / 20.0) / peak)
    if recipe.int16_roundtrip:
        x = int16_roundtrip(x)
    return np.ascontiguousarray(x, dtype=np.float32)  # (T,) @ recipe.sample_rate


def load(path: str | Path, recipe: AudioRecipe, *, max_channels: int | None = None) -> np.ndarray:
    """`shape(read(path), recipe)`: (T,) float32 mono at recipe.sample_rate."""
    return shape(read(path, max_channels=max_channels), recipe)


def load_many(paths: Sequence[str | Path] | Iterable[str | Path], recipe: AudioRecipe, *,
              workers: int | None = None, max_channels: int | None = None,
              errors: str = "raise") -> list:
    """Read and shape many files with a thread pool (decoding and resampling release the GIL;
    resampling kernels are computed once per rate pair). Results keep the input order.

    Args:
        errors: "raise" (first failure raises its AudioError) or "collect" (a failed item's
            slot holds its `SabenchError` instead of an array, so callers can keep going).
    Returns:
        list of (T_i,) float32 arrays (or errors, with errors="collect"), in input order.
    """
    validate_recipe(recipe)
    if errors not in ("raise", "collect"):
        raise ValueError("errors must be 'raise' or 'collect'")
    paths = list(paths)
    n = max(1, min(workers or 4, len(paths) or 1))

    def one(p):
        try:
            return load(p, recipe, max_channels=max_channels)
        except SabenchError as e:
            if errors == "raise":
                raise
            return e

    if n == 1:
        return [one(p) for p in paths]
    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(one, paths))


__all__ = ["read", "write", "encode", "resample", "shape", "load", "load_many", "check_channels",
           "validate_recipe", "int16_roundtrip", "RESAMPLERS", "DEFAULT_RESAMPLER",
           "ACCEPTED_FORMATS", "ACCEPTED_SUBTYPES", "MONO_POLICIES", "LENGTH_POLICIES"]
