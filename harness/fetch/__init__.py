"""`sabench weights fetch` and `sabench data fetch`: the only code that touches the network.

Runs never download (docs/architecture.md, "No network"); these two explicit, opt-in commands
build the weights directory and the data folder once, verify every file, and record what was
fetched in `weights.lock` (weights) so that `sabench doctor` and every run can check it.

    sources.py   where each file of `harness.weights.WEIGHT_FILES` is published (hub repo +
                 file + revision, or a URL), and which files a backbone/system/job needs
    lock.py      weights.lock: source, revision, size and sha256 of every fetched file
    http.py      plain URLs (Zenodo, GitHub releases): streaming, Range resume, retries, timeout
    hub.py       Hugging Face hub files through `huggingface_hub` (local_dir mode, token, revision)
    command.py   the `weights fetch` command: plan, dry run, atomic install, summary
    data.py      the `data fetch` command: benchmark text files at pinned commits, by sha256
"""

from __future__ import annotations

from harness.errors import SabenchError


class FetchError(SabenchError):
    """A file could not be fetched: not found, gated, timed out, or its bytes do not verify."""


__all__ = ["FetchError"]
