"""Plain-URL downloads (Zenodo, GitHub releases, ...) with `requests`.

`download(url, part, item=..., options=..., on_bytes=..., on_total=...)` streams `url` into
the partial file `part`, appending: an existing partial file is resumed with an HTTP `Range`
request (a server that ignores it answers 200 and the file restarts from zero). A dropped
connection, a timeout, HTTP 408/429/5xx and a short body are retried with exponential
back-off; the retry count resets whenever bytes arrive. 401/403/404 and other client errors
fail at once with a one-line `FetchError`. The caller verifies and moves the file into place.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from harness.fetch import FetchError

CHUNK = 1 << 16
"""Bytes per read: what a dropped connection can lose (the rest is kept for the resume)."""
RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class HttpOptions:
    timeout: float = 30.0
    """Seconds to wait for a connection or for the next bytes of a response."""
    retries: int = 4
    """Further attempts after the first (each resumes where the last one stopped)."""
    backoff: float = 1.0
    """Seconds before the first retry; doubled for each further one."""


class _Transient(Exception):
    """A failure worth retrying (reason in the message)."""


def _session():
    import requests

    s = requests.Session()
    s.headers["User-Agent"] = "sabench-fetch"
    s.headers["Accept-Encoding"] = "identity"  # sizes and Range offsets are of the stored bytes
    return s


def _total_from(resp, have: int) -> int | None:
    rng = resp.headers.get("Content-Range", "")
    if "/" in rng and rng.rsplit("/", 1)[1].strip().isdigit():
        return int(rng.rsplit("/", 1)[1])
    length = resp.headers.get("Content-Length")
    return have + int(length) if length and length.isdigit() else None


def _check_status(resp, url: str, item: str) -> None:
    code, host = resp.status_code, urlsplit(url).hostname or url
    if code in (200, 206):
        return
    if code in RETRY_STATUS:
        raise _Transient(f"HTTP {code} from {host}")
    if code in (401, 403):
        raise FetchError(item, f"access denied by {host} (HTTP {code}) for {url}",
                         "open the URL in a browser: the file may need a login or licence acceptance; "
                         "download it by hand into the weights directory if so")
    if code == 404:
        raise FetchError(item, f"not found at {url} (HTTP 404)",
                         "the source moved: download it by hand (see docs/weights.md) "
                         "or update harness/fetch/sources.py")
    raise FetchError(item, f"HTTP {code} from {host} for {url}", "retry later, or download the file by hand")


def _attempt(session, url: str, part: Path, item: str, opts: HttpOptions,
             on_bytes: Callable[[int], None], on_total: Callable[[int | None, int], None]) -> bool:
    """One request; True when `part` is complete. Raises `_Transient` to retry."""
    import requests

    have = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={have}-"} if have else {}
    got = False
    try:
        with session.get(url, headers=headers, stream=True, timeout=(opts.timeout, opts.timeout)) as resp:
            if resp.status_code == 416 and have:  # nothing after `have`: complete if the total says so
                total = _total_from(resp, 0)
                if total == have:
                    on_total(total, have)
                    return True
                part.unlink()
                raise _Transient("partial file does not match the server's (restarting)")
            _check_status(resp, url, item)
            if resp.status_code == 200 and have:  # Range ignored: start again from zero
                part.unlink()
                have = 0
            total = _total_from(resp, have)
            on_total(total, have)
            with open(part, "ab") as f:
                for chunk in resp.iter_content(CHUNK):
                    if chunk:
                        f.write(chunk)
                        on_bytes(len(chunk))
                        got = True
            size = part.stat().st_size
            if total is not None and size < total:
                raise _Transient(f"connection closed at {size} of {total} bytes")
            if total is not None and size > total:
                part.unlink()
                raise _Transient(f"received {size} bytes, the server announced {total} (restarting)")
            return True
    except requests.Timeout:
        raise _Transient(f"no data from {urlsplit(url).hostname} for {opts.timeout:g} s (timed out)") from None
    except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
        reason = "connection dropped" if got or have else "cannot connect"
        raise _Transient(f"{reason} ({type(exc).__name__})", got) from None


def download(url: str, part: Path, *, item: str, options: HttpOptions = HttpOptions(),
             on_bytes: Callable[[int], None] = lambda n: None,
             on_total: Callable[[int | None, int], None] = lambda total, have: None,
             sleep: Callable[[float], None] = time.sleep) -> None:
    """Stream `url` into `part` (resuming it), retrying transient failures; see the module doc."""
    part.parent.mkdir(parents=True, exist_ok=True)
    session = _session()
    failures = 0
    try:
        while True:
            before = part.stat().st_size if part.exists() else 0
            try:
                if _attempt(session, url, part, item, options, on_bytes, on_total):
                    return
            except _Transient as exc:
                after = part.stat().st_size if part.exists() else 0
                failures = 1 if after > before else failures + 1  # progress resets the count
                if failures > options.retries:
                    raise FetchError(item, f"{exc.args[0]}; gave up after {failures} attempt(s) in a row ({url})",
                                     "check the connection (or pass a larger --timeout / --retries) and rerun: "
                                     "the partial download is kept and resumed") from None
                sleep(options.backoff * 2 ** (failures - 1))
    finally:
        session.close()


__all__ = ["HttpOptions", "download"]
