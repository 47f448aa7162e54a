"""Many raters at once, and the server killed (SIGKILL) mid-study: every acknowledged rating is
stored exactly once and survives; a restarted server lets raters resume."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from harness.listen.design import add_raters
from harness.listen.simulate import call, simulate, truth
from harness.listen.store import ListenStore

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(out: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "listen", "--out", str(out), "--study", "s1",
                             "--serve", "--port", str(port), "--quiet"], env=env, cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if call(url, "/api/r/none", timeout=2)[0] == 404:
                return proc, url
        except OSError:
            time.sleep(0.1)
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
    proc.kill()
    raise AssertionError("server did not start")


@pytest.mark.timeout(300)
def test_twenty_concurrent_raters_each_rating_stored_once(kit_store):
    store = ListenStore(kit_store / "results.sqlite")
    tokens = add_raters(store, "s1", 20)
    design = store.design_json("s1")
    proc, url = _start(kit_store)
    try:
        means = {design["runs"][0]: 4.0, design["runs"][1]: 2.5}
        res = simulate(url, tokens, truth(store, "s1", means), threads=20, seconds=240)
    finally:
        proc.terminate()
        proc.wait(30)
    n_trials = len(store.trials("s1"))
    ids = {store.rater(t).rater_id for t in tokens}
    mine = [r for r in store.ratings("s1") if r.rater_id in ids]
    assert (res.accepted, res.refused) == (20 * n_trials, 0)
    assert len(mine) == 20 * n_trials == len({(r.rater_id, r.trial_id) for r in mine})
    assert all(r.revision == 1 for r in mine)
    hist = [h for h in store.history("s1") if h[0] in ids]
    assert len(hist) == len(mine)                     # one accepted answer each, no duplicates


@pytest.mark.timeout(300)
def test_sigkill_mid_study_loses_nothing_acknowledged(kit_store):
    store = ListenStore(kit_store / "results.sqlite")
    tokens = add_raters(store, "s1", 6)
    proc, url = _start(kit_store)
    acked: list[tuple[str, str, int]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def rater(token: str) -> None:
        try:
            call(url, f"/r/{token}/consent", {"agree": True})
            call(url, f"/r/{token}/check", {})
            for k, t in enumerate(call(url, f"/api/r/{token}")[1]["trials"]):
                if stop.is_set():
                    return
                play = min(c["seconds"] for c in t["clips"] if c["required"])
                value = t["ask"] or 1 + (k % 5)
                status, _ = call(url, f"/api/r/{token}/rate", {"assignment": t["assignment"], "value": value,
                                 "revision": 0, "play_ms": int(play * 1000) + 1, "ended": True}, timeout=10)
                if status == 200:
                    with lock:
                        acked.append((token, t["assignment"], value))
        except OSError:
            return                                     # the server is gone

    threads = [threading.Thread(target=rater, args=(t,)) for t in tokens]
    for th in threads:
        th.start()
    deadline = time.monotonic() + 120
    while len(acked) < 30 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)                  # mid-study, requests in flight
    proc.wait(30)
    stop.set()
    for th in threads:
        th.join(60)
    assert len(acked) >= 30
    total = len(tokens) * len(store.trials("s1"))
    assert len(acked) < total                          # killed before the end

    fresh = ListenStore(kit_store / "results.sqlite")  # a new connection after the crash
    for token, assignment, value in acked:
        rater = fresh.rater(token)
        trial = {a.assignment_id: a.trial.trial_id for a in fresh.assignments(rater)}[assignment]
        assert fresh.rating_map(rater)[trial].value == value
    # restarted, the raters resume where they were and finish
    proc, url = _start(kit_store)
    try:
        for token in tokens:
            # a rater whose consent or loudness check was still in flight at the kill does them now
            # (under load the kill can come before every thread has consented)
            call(url, f"/r/{token}/consent", {"agree": True})
            call(url, f"/r/{token}/check", {})
            state = call(url, f"/api/r/{token}")[1]
            assert state["done"] >= sum(1 for t, _, _ in acked if t == token)
            for t in state["trials"]:
                if t["value"] is None:
                    play = min(c["seconds"] for c in t["clips"] if c["required"])
                    assert call(url, f"/api/r/{token}/rate", {"assignment": t["assignment"], "value": t["ask"] or 3,
                                "revision": 0, "play_ms": int(play * 1000) + 1, "ended": True})[0] == 200
            assert call(url, f"/api/r/{token}")[1]["done"] == len(state["trials"])
    finally:
        proc.terminate()
        proc.wait(30)
