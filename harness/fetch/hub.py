"""Hugging Face hub files through `huggingface_hub.hf_hub_download` (cache-less `local_dir` mode).

`download(source, staging, item=..., revision=..., timeout=...)` downloads one repo file into
a staging folder (never the user's hub cache) and returns `HubFile(path, commit, etag, size)`:
the commit the hub served (`X-Repo-Commit`) and its ETag, which for LFS files is the file's
sha256 (`X-Linked-Etag`). The token comes from `HF_TOKEN` or `hf auth login`, the endpoint
from `HF_ENDPOINT`. Hub errors become one-line `FetchError`s: gated repo (accept the licence
page, set HF_TOKEN), not found, timeout.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.fetch import FetchError
from harness.fetch.sources import HF, Source

TOKEN_FIX = "set HF_TOKEN (or run `hf auth login`) with an account that accepted it"


@dataclass(frozen=True)
class HubFile:
    path: Path
    commit: str
    etag: str | None
    size: int


def endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or HF).rstrip("/")


@contextlib.contextmanager
def _online(timeout: float) -> Iterator[None]:
    """Hub calls allowed for this block (sabench runs set HF_HUB_OFFLINE=1), with our timeout."""
    from huggingface_hub import constants

    names = ("HF_HUB_OFFLINE", "HF_HUB_DOWNLOAD_TIMEOUT", "HF_HUB_ETAG_TIMEOUT", "ENDPOINT",
             "HUGGINGFACE_CO_URL_TEMPLATE")
    saved = {n: getattr(constants, n) for n in names}
    # ENDPOINT (and the URL template built from it) are read once at import; the library also
    # sends side requests (its agent registry) to it: all go to the server of the downloads.
    values = {"HF_HUB_OFFLINE": False, "HF_HUB_DOWNLOAD_TIMEOUT": timeout, "HF_HUB_ETAG_TIMEOUT": timeout,
              "ENDPOINT": endpoint(),
              "HUGGINGFACE_CO_URL_TEMPLATE": endpoint() + "/{repo_id}/resolve/{revision}/{filename}"}
    for n, v in values.items():
        setattr(constants, n, v)
    try:
        yield
    finally:
        for n, v in saved.items():
            setattr(constants, n, v)


def download(source: Source, staging: Path, *, item: str, revision: str | None = None, timeout: float = 30.0,
             tqdm_class: Any = None) -> HubFile:
    """Download `source` (a hub file) under `staging`; see the module doc."""
    try:
        from huggingface_hub import hf_hub_download
        from huggingface_hub._local_folder import read_download_metadata
    except ImportError:
        raise FetchError(item, "needs the huggingface_hub package to fetch from the hub",
                         "install it (it comes with transformers: requirements/overrides.txt)") from None
    if source.repo is None or source.file is None:
        raise FetchError(item, f"is not a hub file ({source.where})", "fetch it from its URL")
    repo, file = source.repo, source.file
    rev = revision or source.revision or "main"
    staging.mkdir(parents=True, exist_ok=True)
    try:
        with _online(timeout):
            local = hf_hub_download(repo, file, revision=rev, local_dir=staging,
                                    cache_dir=staging / ".hub-cache", endpoint=endpoint(), etag_timeout=timeout,
                                    tqdm_class=tqdm_class)
    except Exception as exc:  # noqa: BLE001 -- every hub failure becomes one line (below)
        raise _translate(exc, source, rev, item, timeout) from None
    meta = read_download_metadata(staging, file)
    path = Path(local)
    return HubFile(path, meta.commit_hash if meta else rev, meta.etag if meta else None, path.stat().st_size)


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in seen:
        seen.append(cur)
        cur = cur.__cause__ or cur.__context__
    return seen


def _translate(exc: BaseException, source: Source, rev: str, item: str, timeout: float) -> FetchError:
    """A hub exception as one line naming the file and the fix."""
    from huggingface_hub import errors

    page, where = f"{HF}/{source.repo}", f"{source.repo}: {source.file} @ {rev}"
    chain = _chain(exc)
    for e in chain:
        if isinstance(e, errors.GatedRepoError):
            return FetchError(item, f"{source.repo} is gated and this token has no access (HTTP {_status(e)})",
                              f"accept the licence at {page}, then {TOKEN_FIX}")
        if isinstance(e, errors.RevisionNotFoundError):
            return FetchError(item, f"revision {rev} not found in {source.repo}",
                              "the revision is gone: if weights.lock pins it, delete that entry (back to the table's "
                              "revision), else update harness/fetch/sources.py")
        if isinstance(e, errors.RemoteEntryNotFoundError):
            return FetchError(item, f"{source.file} not found in {source.repo} @ {rev} (HTTP 404)",
                              "the file moved: download it by hand (docs/weights.md) "
                              "or update harness/fetch/sources.py")
        if isinstance(e, errors.RepositoryNotFoundError):
            return FetchError(item, f"{source.repo} not found, or private/gated without access (HTTP {_status(e)})",
                              f"check {page}; if it asks you to accept a licence, accept it, then {TOKEN_FIX}")
    for e in chain:
        name = type(e).__name__
        if "Timeout" in name or isinstance(e, TimeoutError):
            return FetchError(item, f"no answer from {endpoint()} within {timeout:g} s (timed out) for {where}",
                              "check the connection, or pass a larger --timeout, and rerun")
        if isinstance(e, errors.HfHubHTTPError) and _status(e):
            return FetchError(item, f"HTTP {_status(e)} from {endpoint()} for {where}", "retry later")
        if "ConnectError" in name or isinstance(e, ConnectionError):
            return FetchError(item, f"cannot connect to {endpoint()} for {where}",
                              "check the connection (and HF_ENDPOINT if set), then rerun")
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
    return FetchError(item, f"hub download of {where} failed ({type(exc).__name__}: {first})",
                      "check the connection and rerun; HF_ENDPOINT must point to a hub-compatible server")


__all__ = ["HubFile", "download", "endpoint"]
