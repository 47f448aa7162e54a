"""What `sabench doctor` finds in each weights file: read it the way its reader would.

`inspect(wf, path, full=True) -> str` returns one status:

- "present": readable, and holds the keys its reader needs (where they are known here);
- "corrupt: ...": empty, truncated, not the format its suffix says, unreadable;
- "unsafe: pickle needs code (...)": a .pt/.pth/.bin whose pickle imports globals that
  `torch.load(weights_only=True)` refuses (the backbones would refuse it too);
- "wrong keys: ...": a readable checkpoint without the keys its reader expects;
- "sha256-mismatch": a pinned file whose bytes differ (only with `full`).

Cheap where possible: safetensors files are checked from their header (JSON key table and
the data length it implies, no tensor read); JSON files are parsed; .pt/.pth/.bin files get
the same `torch.load(weights_only=True)` the backbones do (only with `full`; without it, a zip
check and a scan of the pickle's imported globals, which never unpickles anything).
"""

from __future__ import annotations

import json
import pickle
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

SAFETENSORS_HEADER_MAX = 100 << 20
"""A larger header is garbage (real headers are a few MB at most)."""
SHOW = 3


def inspect(wf: Any, path: Path, full: bool = True) -> str:
    """One status string for the weights-table record `wf` located at `path` (see module doc)."""
    try:
        size = path.stat().st_size
        if size == 0:
            return "corrupt: empty file"
        name = path.name
        if name.endswith(".safetensors"):
            return _safetensors(wf.relpath, path, size)
        if name.endswith(".json"):
            return _json(path)
        if path.suffix in (".pt", ".pth", ".bin"):
            status = _torch(wf.relpath, path) if full else _zip_only(path)
        else:
            status = "present"
        if status == "present" and full and wf.sha256 is not None:
            from harness.hashing import sha256_file

            status = "present" if sha256_file(path) == wf.sha256 else "sha256-mismatch"
        return status
    except PermissionError:
        return "corrupt: unreadable (permission denied)"
    except IsADirectoryError:
        return "corrupt: is a folder, not a file"
    except OSError as exc:
        return f"corrupt: unreadable ({exc.strerror or exc})"


# ----------------------------------------------------------------------------- safetensors

def safetensors_header(path: Path, size: int) -> dict[str, Any]:
    """The JSON header of a safetensors file, checked against the file size.

    Raises ValueError (with a short reason) when the file is not a complete safetensors file.
    """
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise ValueError("shorter than a safetensors header")
        (n,) = struct.unpack("<Q", head)
        if n == 0 or n > SAFETENSORS_HEADER_MAX or n > size - 8:
            raise ValueError(f"not a safetensors file (header length {n} for a {size}-byte file)")
        raw = f.read(n)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError("not a safetensors file (header is not JSON)") from None
    if not isinstance(header, dict):
        raise ValueError("not a safetensors file (header is not a table)")
    end = 0
    for key, entry in header.items():
        if key == "__metadata__":
            continue
        offsets = entry.get("data_offsets") if isinstance(entry, dict) else None
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) for o in offsets)
                and 0 <= offsets[0] <= offsets[1] and isinstance(entry.get("shape"), list)):
            raise ValueError(f"bad header entry for {key!r}")
        end = max(end, offsets[1])
    data = size - 8 - n
    if data < end:
        raise ValueError(f"truncated: tensors need {end} bytes, the file holds {data}")
    return {k: v for k, v in header.items() if k != "__metadata__"}


def _safetensors(relpath: str, path: Path, size: int) -> str:
    try:
        header = safetensors_header(path, size)
    except ValueError as exc:
        return f"corrupt: {exc}"
    expected = expected_keys(relpath)
    return _missing(expected, set(header)) if expected is not None else "present"


# ----------------------------------------------------------------------------- json / torch

def _json(path: Path) -> str:
    try:
        json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return f"corrupt: invalid JSON ({getattr(exc, 'msg', type(exc).__name__)})"
    return "present"


def _zip_only(path: Path) -> str:
    """Without loading (`--no-hash`): a readable zip or pickle whose globals are all harmless."""
    with open(path, "rb") as f:
        is_zip = f.read(4) == b"PK\x03\x04"
    if is_zip:
        try:
            with zipfile.ZipFile(path):
                pass
        except zipfile.BadZipFile:
            return "corrupt: not a readable torch zip archive (truncated?)"
    scanned = pickle_globals(path)
    if scanned is None:
        return "corrupt: neither a torch zip archive nor a pickle"
    code = [g for g in scanned if not _harmless(g)]
    return f"unsafe: pickle needs code ({', '.join(code[:SHOW])})" if code else "present"


def _torch(relpath: str, path: Path) -> str:
    import warnings

    import torch

    allowed = _safe_globals(relpath)
    try:
        with warnings.catch_warnings(), torch.serialization.safe_globals(allowed):
            warnings.simplefilter("ignore")  # e.g. "Detected pickle protocol 4"
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # UnpicklingError, RuntimeError, EOFError, BadZipFile ...
        scanned = pickle_globals(path)
        code = [g for g in scanned or [] if not _harmless(g)]
        if code:
            return f"unsafe: pickle needs code ({', '.join(code[:SHOW])})"
        if isinstance(exc, pickle.UnpicklingError) and "Unsupported global" in str(exc):
            return f"unsafe: pickle needs code ({_needed_globals(path, str(exc))})"
        if scanned is None:
            return f"corrupt: neither a torch zip archive nor a pickle ({_reason(exc)})"
        return f"corrupt: not a readable torch checkpoint ({_reason(exc)})"
    problem = _structure(relpath, obj)
    return f"wrong keys: {problem}" if problem else "present"


HARMLESS = frozenset({
    "collections.OrderedDict", "builtins.set", "builtins.frozenset", "_codecs.encode",
    "torch.Size", "torch.device", "torch.storage.UntypedStorage", "torch.storage.TypedStorage",
    "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar", "numpy.dtype",
    "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct", "numpy.ndarray",
    "pathlib.PosixPath", "pathlib.WindowsPath", "pathlib.Path",
})
"""Globals a checkpoint may import without running code (tensors, containers, dtypes, paths)."""
_DTYPES = {"float16", "float32", "float64", "bfloat16", "int8", "int16", "int32", "int64", "uint8", "bool",
           "complex64", "complex128", "half", "float", "double", "long", "int", "short"}


def _harmless(name: str) -> bool:
    if name in HARMLESS or name.startswith(("torch._utils._rebuild_", "numpy.dtypes.")):
        return True
    head, _, tail = name.partition(".")
    return head == "torch" and "." not in tail and (tail.endswith("Storage") or tail in _DTYPES)


def pickle_globals(path: Path) -> list[str] | None:
    """Module.name of every global the checkpoint's pickle imports, without unpickling it
    (a torch zip's data.pkl, or the leading pickles of a legacy file); None if unparsable."""
    import io

    try:
        with open(path, "rb") as f:
            head = f.read(4)
        if head == b"PK\x03\x04":
            with zipfile.ZipFile(path) as z:
                name = next((n for n in z.namelist() if n.endswith("data.pkl")), None)
                if name is None:
                    return None
                return _scan(io.BytesIO(z.read(name)), pickles=1)
        with open(path, "rb") as f:
            return _scan(f, pickles=5)
    except (OSError, zipfile.BadZipFile):
        return None


def _scan(stream: Any, pickles: int) -> list[str] | None:
    """Globals named by GLOBAL/INST and STACK_GLOBAL (its two strings tracked through the memo)."""
    import pickletools

    found: list[str] = []
    for i in range(pickles):
        strings: list[str] = []
        memo: dict[int, str] = {}
        try:
            for op, arg, _ in pickletools.genops(stream):
                if op.name in ("GLOBAL", "INST"):
                    found.append(str(arg).replace(" ", "."))
                elif op.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE", "BINUNICODE8",
                                 "SHORT_BINSTRING", "BINSTRING", "STRING"):
                    strings.append(str(arg))
                elif op.name == "MEMOIZE" and strings:
                    memo[len(memo)] = strings[-1]
                elif op.name in ("BINPUT", "LONG_BINPUT", "PUT") and strings and isinstance(arg, int):
                    memo[arg] = strings[-1]
                elif op.name in ("BINGET", "LONG_BINGET", "GET") and isinstance(arg, int) and arg in memo:
                    strings.append(memo[arg])
                elif op.name == "STACK_GLOBAL":
                    found.append(".".join(strings[-2:]) if len(strings) >= 2 else "?")
        except Exception:  # not (or no longer) a pickle: random bytes, or a legacy file's raw data
            return found if i > 0 or found else None
    return found


def _reason(exc: BaseException) -> str:
    """The informative line of torch's message (not its weights_only boilerplate)."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    useful = [ln for ln in lines if not ln.startswith(("Weights only load failed", "Please file an issue",
                                                          "Check the documentation"))]
    text = (useful or lines or [type(exc).__name__])[0]
    return f"{type(exc).__name__}: {text}"[:160]


def _safe_globals(relpath: str) -> list:
    if relpath.startswith("laion_clap/"):
        from harness.backbones.laion_clap import numpy_safe_globals

        return numpy_safe_globals()
    return []


def _needed_globals(path: Path, text: str) -> str:
    import torch

    try:
        names = torch.serialization.get_unsafe_globals_in_checkpoint(str(path))
    except Exception:  # a legacy pickle: take the name from torch's message
        names = []
    if names:
        return ", ".join(names[:SHOW])
    for line in text.splitlines():
        if "Unsupported global" in line:
            return line.split("Unsupported global:", 1)[-1].strip()[:120]
    return "refused by weights_only"


# ----------------------------------------------------------------------------- expected keys

def _missing(expected: set[str], found: set[str]) -> str:
    missing = sorted(expected - found)
    if not missing:
        return "present"
    return (f"wrong keys: {len(missing)} of {len(expected)} expected keys missing "
            f"(e.g. {', '.join(missing[:SHOW])})")


def _key_list(rel: str, drop: tuple[str, ...] = ()) -> set[str]:
    from harness.paths import REPO_ROOT

    data = json.loads((Path(REPO_ROOT) / rel).read_text())
    return set(data["keys"]) - set(drop)


def expected_keys(relpath: str) -> set[str] | None:
    """Keys a safetensors file must hold (from the committed key lists), None if not known."""
    if relpath == "tangoflux/tangoflux.safetensors":
        return _key_list("systems/tangoflux/keys/tangoflux.json", ("text_encoder.encoder.embed_tokens.weight",))
    if relpath == "tangoflux/vae.safetensors":
        return _key_list("systems/tangoflux/keys/vae.json")
    return None


def _dict_with(obj: Any, key: str) -> str | None:
    if not isinstance(obj, dict):
        return f"expected a dict, found {type(obj).__name__}"
    if not isinstance(obj.get(key), dict) or not obj[key]:
        return f"no {key!r} state dict (top-level keys: {', '.join(map(str, list(obj)[:SHOW])) or 'none'})"
    return None


def _prefixes(state: Any, *prefixes: str) -> str | None:
    if not isinstance(state, dict) or not state:
        return f"expected a non-empty state dict, found {type(state).__name__}"
    keys = [str(k)[7:] if str(k).startswith("module.") else str(k) for k in state]
    absent = [p for p in prefixes if not any(k.startswith(p) for k in keys)]
    return f"no {', '.join(p + '*' for p in absent)} keys (e.g. found {', '.join(keys[:SHOW])})" if absent else None


def _listed(rel: str, drop: tuple[str, ...] = (), under: str | None = None) -> Callable[[Any], str | None]:
    def check(obj: Any) -> str | None:
        if under is not None:
            problem = _dict_with(obj, under)
            if problem:
                return problem
            obj = obj[under]
        if not isinstance(obj, dict):
            return f"expected a state dict, found {type(obj).__name__}"
        status = _missing(_key_list(rel, drop), set(map(str, obj)))
        return None if status == "present" else status[len("wrong keys: "):]
    return check


STRUCTURES: dict[str, Callable[[Any], str | None]] = {
    "panns/Cnn14_16k_mAP=0.438.pth":
        lambda o: _dict_with(o, "model") or _prefixes(o["model"], "conv_block1.", "fc_audioset."),
    "panns/Cnn14_mAP=0.431.pth":
        lambda o: _dict_with(o, "model") or _prefixes(o["model"], "conv_block1.", "fc_audioset."),
    "ms_clap/CLAP_weights_2023.pth": lambda o: _dict_with(o, "model"),
    "audiobox_aesthetics/checkpoint.pt": lambda o: next(
        (f"no {k!r} entry" for k in ("state_dict", "model_cfg", "target_transform")
         if not isinstance(o, dict) or k not in o), None),
    "vggish/vggish-10086976.pth": lambda o: _prefixes(o, "features.", "embeddings."),
    "resonate/Resonate_GRPO.pth": _listed("systems/resonate/keys/fluxaudio_m_44k.json"),
    "resonate/v1-44.pth": _listed("systems/resonate/keys/mel_vae_44k.json"),
    "resonate/bigvgan_v2_44khz_128band_512x/bigvgan_generator.pt": lambda o: _dict_with(o, "generator"),
}
"""relpath -> check of the loaded object (None: fine, else what is wrong): the structure
each reader (harness/backbones/*, systems/*) requires before loading tensors."""


def _structure(relpath: str, obj: Any) -> str | None:
    if relpath.startswith("laion_clap/") and relpath.endswith(".pt"):
        state = obj.get("state_dict", obj) if isinstance(obj, dict) else obj
        return _prefixes(state, "audio_branch.", "text_branch.")
    check = STRUCTURES.get(relpath)
    return check(obj) if check is not None else None


__all__ = ["inspect", "safetensors_header", "expected_keys", "STRUCTURES"]
