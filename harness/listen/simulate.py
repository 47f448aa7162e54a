"""Simulated raters driving the real HTTP API (loopback only), for demos and tests.

Each simulated rater has a bias drawn once (sd `rater_sd`) and answers a MOS trial with
round(mean of the clip's condition + bias + noise(sd `noise`)) clipped to 1..5; an A/B trial
by preferring A with probability 1 / (1 + exp(-2 (mean_A - mean_B))); attention checks as
asked. The simulator knows which condition a clip belongs to from the results store (the
"truth" of the simulation); the server does not tell it. Bounded: at most `MAX_RATERS`
raters, `threads` at a time, and a deadline; only loopback URLs are accepted.

    python -m harness.listen.simulate --out sabench-out --study NAME --raters 20 [--means a=4,b=3]
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import math
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from harness.errors import SabenchError
from harness.listen.store import ListenStore
from harness.seeding import derive_seed, numpy_rng

if TYPE_CHECKING:
    import uvicorn

MAX_RATERS = 50
CONTROL_MEANS = {"@reference": 4.6, "@anchor": 1.4}


@dataclass(frozen=True)
class SimResult:
    raters: int
    accepted: int
    refused: int
    seconds: float


def check_loopback(base_url: str) -> None:
    host = urlparse(base_url).hostname or ""
    try:
        ok = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        ok = False
    if not ok:
        raise SabenchError(base_url, "simulated raters only talk to a loopback server", "use http://127.0.0.1:PORT")


def call(base_url: str, path: str, body: dict | None = None, timeout: float = 30.0) -> tuple[int, dict]:
    """(status, JSON body) of a GET (body None) or JSON POST."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base_url.rstrip("/") + path, data=data, method="GET" if body is None else "POST",
                                 headers={"Content-Type": "application/json", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def truth(store: ListenStore, study: str, means: Mapping[str, float]) -> dict[str, float]:
    """Clip id -> the mean of its condition (controls default to `CONTROL_MEANS`)."""
    means = {**CONTROL_MEANS, **means}
    out: dict[str, float] = {}
    for t in store.trials(study):
        for cond, clip in ((t.condition_a, t.clip_a), (t.condition_b, t.clip_b)):
            if cond is not None and clip is not None and cond in means:
                out[clip] = float(means[cond])
    return out


def _answer(trial: dict, truth_by_clip: Mapping[str, float], bias: float, rng, noise: float) -> int:
    if trial["ask"] is not None:
        return int(trial["ask"])
    clips = [c["url"].rsplit("/", 1)[1] for c in trial["clips"] if c["required"]]
    if trial["kind"] == "ab":
        d = truth_by_clip.get(clips[0], 3.0) - truth_by_clip.get(clips[1], 3.0)
        return 1 if rng.random() < 1.0 / (1.0 + math.exp(-2.0 * d)) else 2
    mu = truth_by_clip.get(clips[0], 3.0)
    return int(min(5, max(1, round(mu + bias + rng.normal(0.0, noise)))))


def rater_session(base_url: str, token: str, truth_by_clip: Mapping[str, float], seed: int,
                  noise: float = 0.6, rater_sd: float = 0.3, deadline: float = math.inf) -> tuple[int, int]:
    """One rater from consent to the last trial; returns (accepted, refused) rating requests."""
    rng = numpy_rng(seed)
    bias = float(rng.normal(0.0, rater_sd))
    for step in ("consent", "check"):
        status, body = call(base_url, f"/r/{token}/{step}", {"agree": True})
        if status != 200:
            raise SabenchError(f"rater {token[:4]}...", f"{step} refused ({status}: {body.get('error')})",
                               "check the server")
    status, state = call(base_url, f"/api/r/{token}")
    accepted = refused = 0
    for trial in state["trials"]:
        if time.monotonic() > deadline:
            break
        if trial["value"] is not None:
            continue
        play = min(c["seconds"] for c in trial["clips"] if c["required"])
        msg = {"assignment": trial["assignment"], "value": _answer(trial, truth_by_clip, bias, rng, noise),
               "revision": trial["revision"], "play_ms": int(math.ceil(play * 1000)), "ended": True}
        status, _ = call(base_url, f"/api/r/{token}/rate", msg)
        accepted += status == 200
        refused += status != 200
    return accepted, refused


def simulate(base_url: str, tokens: Sequence[str], truth_by_clip: Mapping[str, float], *, seed: int = 0,
             threads: int = 8, seconds: float = 300.0, noise: float = 0.6, rater_sd: float = 0.3) -> SimResult:
    check_loopback(base_url)
    if len(tokens) > MAX_RATERS:
        raise SabenchError(f"{len(tokens)} simulated raters", f"more than {MAX_RATERS}", "simulate fewer raters")
    start = time.monotonic()
    deadline = start + seconds
    with ThreadPoolExecutor(max_workers=max(1, min(threads, len(tokens) or 1))) as pool:
        done = list(pool.map(lambda kt: rater_session(base_url, kt[1], truth_by_clip, derive_seed(seed, "sim", kt[0]),
                                                      noise, rater_sd, deadline), enumerate(tokens)))
    return SimResult(len(tokens), sum(a for a, _ in done), sum(r for _, r in done), time.monotonic() - start)


class BackgroundServer:
    """The real server (uvicorn) on a loopback port in a thread: `with BackgroundServer(path) as url:`."""

    def __init__(self, results_path: Path, port: int = 0):
        self.results_path, self.port = results_path, port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> str:
        import socket

        from harness.extras import require
        from harness.listen.server import make_app

        uvicorn = require("uvicorn", extra="listen", item="sabench listen --simulate")

        sock = socket.socket()
        sock.bind(("127.0.0.1", self.port))
        port = sock.getsockname()[1]
        config = uvicorn.Config(make_app(self.results_path), log_level="warning", lifespan="off")
        server = self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        for _ in range(200):
            if server.started:
                break
            time.sleep(0.05)
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)


def parse_means(text: str) -> dict[str, float]:
    out = {}
    for part in filter(None, (text or "").split(",")):
        key, eq, value = part.partition("=")
        try:
            out[key.strip()] = float(value)
        except ValueError:
            raise SabenchError(f"--means {text}", f"bad entry {part!r}",
                               "write condition=mean,condition=mean") from None
        if not eq:
            raise SabenchError(f"--means {text}", f"bad entry {part!r}", "write condition=mean,condition=mean")
    return out


def default_means(design: Mapping, means: Mapping[str, float]) -> dict[str, float]:
    """Means by run id: given by run id or row label, else spread 4.2, 3.5, 2.8 ... in run order."""
    labels = design.get("labels", {})
    out = {}
    for k, run in enumerate(design["runs"]):
        out[run] = means.get(run, means.get(labels.get(run, run), 4.2 - 0.7 * k))
    if "@source" in means:
        out["@source"] = means["@source"]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m harness.listen.simulate")
    ap.add_argument("--out", default="sabench-out")
    ap.add_argument("--study", required=True)
    ap.add_argument("--raters", type=int, default=20)
    ap.add_argument("--means", default="", help="condition=mean,... (run id or row label; default spread)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--seconds", type=float, default=300.0)
    args = ap.parse_args(argv)
    from harness.listen.analysis import format_summary, summarize
    from harness.listen.design import add_raters

    store = ListenStore(Path(args.out) / "results.sqlite")
    design = store.design_json(args.study)
    if design is None:
        raise SabenchError(f"study {args.study}", "not in this results store", "create it with `sabench listen`")
    means = default_means(design, parse_means(args.means))
    tokens = add_raters(store, args.study, min(args.raters, MAX_RATERS), origin="web")
    with BackgroundServer(store.path) as url:
        res = simulate(url, tokens, truth(store, args.study, means), seed=args.seed, seconds=args.seconds)
    print(f"simulated {res.raters} raters: {res.accepted} ratings accepted, {res.refused} refused, {res.seconds:.1f} s")
    print("true means: " + ", ".join(f"{design['labels'].get(k, k)}={v:g}" for k, v in means.items()))
    print(format_summary(summarize(store, args.study)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
