"""The rating API of the real server over loopback HTTP: every bad request is a 4xx with a
one-line message and stores nothing; replays are refused; a change of mind is recorded."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlparse

import pytest

from harness.listen.design import add_raters
from harness.listen.simulate import call
from harness.listen.store import ListenStore
from harness.results import ResultsStore


def _store(kit_store) -> ListenStore:
    return ListenStore(kit_store / "results.sqlite")


def _ready_rater(server, store) -> tuple[str, dict]:
    (token,) = add_raters(store, "s1", 1)
    assert call(server, f"/r/{token}/consent", {"agree": True})[0] == 200
    assert call(server, f"/r/{token}/check", {})[0] == 200
    return token, call(server, f"/api/r/{token}")[1]


def _answer(trial: dict, value, revision=None, **kw) -> dict:
    play = min(c["seconds"] for c in trial["clips"] if c["required"])
    msg = {"assignment": trial["assignment"], "value": value,
           "revision": trial["revision"] if revision is None else revision,
           "play_ms": int(play * 1000) + 1, "ended": True}
    msg.update(kw)
    return msg


def _raw(server: str, path: str, body: bytes, headers: dict | None = None) -> tuple[int, dict]:
    u = urlparse(server)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    conn.request("POST", path, body=body, headers={"Content-Type": "application/json", **(headers or {})})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, json.loads(data or b"{}")


def _count(store) -> int:
    return len(store.ratings("s1")) + len(store.history("s1"))


def test_bad_requests_are_refused_with_a_message_and_store_nothing(kit_store, server):
    store = _store(kit_store)
    token, state = _ready_rater(server, store)
    other, other_state = _ready_rater(server, store)
    t = next(x for x in state["trials"] if x["ask"] is None)
    before = _count(store)
    cases = [
        ("wrong token", "/api/r/not-a-token/rate", _answer(t, 3), 404, "unknown rater code"),
        ("other rater's trial", f"/api/r/{token}/rate", _answer(other_state["trials"][0], 3), 403, "not one of yours"),
        ("value 0", f"/api/r/{token}/rate", _answer(t, 0), 422, "from 1 to 5, got 0"),
        ("value 6", f"/api/r/{token}/rate", _answer(t, 6), 422, "from 1 to 5, got 6"),
        ("value x", f"/api/r/{token}/rate", _answer(t, "x"), 422, 'got "x"'),
        ("value 3.5", f"/api/r/{token}/rate", _answer(t, 3.5), 422, "got 3.5"),
        ("value true", f"/api/r/{token}/rate", _answer(t, True), 422, "got true"),
        ("negative revision", f"/api/r/{token}/rate", _answer(t, 3, revision=-1), 400, "malformed"),
        ("not played", f"/api/r/{token}/rate", _answer(t, 3, play_ms=0, ended=False), 422, "play the clip"),
        ("played half", f"/api/r/{token}/rate", _answer(t, 3, play_ms=200, ended=True), 422, "play the clip"),
    ]
    for name, path, body, status, text in cases:
        got, msg = call(server, path, body)
        assert (got, text in msg.get("error", "")) == (status, True), (name, got, msg)
    assert _raw(server, f"/api/r/{token}/rate", b"{not json")[0] == 400
    assert _raw(server, f"/api/r/{token}/rate", b"[1, 2]")[0] == 400
    huge, msg = _raw(server, f"/api/r/{token}/rate", b"{" + b" " * 100_000 + b"}")
    assert huge == 413 and "too large" in msg["error"]
    assert _count(store) == before                      # nothing stored by any of them


def test_rating_needs_consent_and_the_loudness_check(kit_store, server):
    store = _store(kit_store)
    (token,) = add_raters(store, "s1", 1)
    status, msg = call(server, f"/api/r/{token}/rate", {"assignment": "x", "value": 3})
    assert status == 403 and "consent" in msg["error"]
    status, msg = call(server, f"/r/{token}/consent", {"agree": False})
    assert status == 422 and "consent box" in msg["error"]


def test_replay_is_refused_and_a_change_of_mind_is_recorded(kit_store, server):
    store = _store(kit_store)
    token, state = _ready_rater(server, store)
    t = next(x for x in state["trials"] if x["ask"] is None)
    first = _answer(t, 3)
    assert call(server, f"/api/r/{token}/rate", first)[0] == 200
    status, msg = call(server, f"/api/r/{token}/rate", first)           # the same request again
    assert status == 409 and "already saved" in msg["error"]
    rater = store.rater(token)
    (r,) = store.ratings_of(rater)
    assert (r.value, r.revision) == (3, 1)
    status, msg = call(server, f"/api/r/{token}/rate", _answer(t, 5, revision=1))   # change of mind
    assert status == 200 and msg["revision"] == 2
    (r,) = store.ratings_of(rater)
    assert (r.value, r.revision) == (5, 2) and r.first_submitted <= r.submitted
    mine = [h for h in store.history("s1") if h[0] == rater.rater_id]
    assert [(h[2], h[3]) for h in mine] == [(1, 3), (2, 5)]


def test_resume_goes_to_the_first_unanswered_trial(kit_store, server):
    store = _store(kit_store)
    token, state = _ready_rater(server, store)
    for t in state["trials"][:2]:
        assert call(server, f"/api/r/{token}/rate", _answer(t, t["ask"] or 4))[0] == 200
    state = call(server, f"/api/r/{token}")[1]
    assert state["done"] == 2 and [t["value"] for t in state["trials"][:3]] == [state["trials"][0]["value"],
                                                                                 state["trials"][1]["value"], None]
    u = urlparse(server)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    conn.request("GET", f"/r/{token}/next")
    resp = conn.getresponse()
    assert resp.status == 303 and resp.getheader("location") == f"/r/{token}/t/2"
    conn.close()


def test_each_rater_has_their_own_order_of_the_same_trials(kit_store, server):
    store = _store(kit_store)
    a, b = add_raters(store, "s1", 2)
    ta = [x.trial.trial_id for x in store.assignments(store.rater(a))]
    tb = [x.trial.trial_id for x in store.assignments(store.rater(b))]
    assert sorted(ta) == sorted(tb) == sorted(t.trial_id for t in store.trials("s1")) and ta != tb
    ids = {x.assignment_id for x in store.assignments(store.rater(a))}
    assert not ids & {x.assignment_id for x in store.assignments(store.rater(b))}


def test_clips_are_served_only_for_the_raters_own_trials(kit_store, server):
    store = _store(kit_store)
    token, state = _ready_rater(server, store)
    url = state["trials"][0]["clips"][0]["url"]
    u = urlparse(server)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    conn.request("GET", url)
    resp = conn.getresponse()
    assert resp.status == 200 and resp.getheader("content-type") == "audio/wav" and resp.read()[:4] == b"RIFF"
    whole = _get(conn, url)[2]
    for rng, status, part, total in (("bytes=0-9", 206, whole[:10], f"bytes 0-9/{len(whole)}"),
                                     ("bytes=10-", 206, whole[10:], f"bytes 10-{len(whole) - 1}/{len(whole)}"),
                                     ("bytes=-4", 206, whole[-4:],
                                      f"bytes {len(whole) - 4}-{len(whole) - 1}/{len(whole)}"),
                                     (f"bytes={len(whole)}-", 416, b"", f"bytes */{len(whole)}")):
        got = _get(conn, url, {"Range": rng})
        assert (got[0], got[1], got[2]) == (status, total, part), rng
    conn.request("GET", url.replace(token, "nobody"))
    resp = conn.getresponse()
    resp.read()
    assert resp.status == 404
    conn.request("GET", f"/r/{token}/c/0123456789abcdef01234567")
    resp = conn.getresponse()
    assert resp.status == 404 and b"no such clip" in resp.read()
    conn.close()


def _get(conn, url: str, headers: dict | None = None) -> tuple[int, str | None, bytes]:
    conn.request("GET", url, headers=headers or {})
    resp = conn.getresponse()
    return resp.status, resp.getheader("content-range"), resp.read()


@pytest.mark.parametrize("ask_ok", [True, False])
def test_attention_answers_are_stored_as_given(kit_store, server, ask_ok):
    store = _store(kit_store)
    token, state = _ready_rater(server, store)
    t = next(x for x in state["trials"] if x["ask"] is not None)
    value = t["ask"] if ask_ok else (t["ask"] % 5) + 1
    assert call(server, f"/api/r/{token}/rate", _answer(t, value))[0] == 200
    (r,) = store.ratings_of(store.rater(token))
    assert r.value == value


def test_listening_tables_carry_their_own_schema_version(tmp_path):
    import sqlite3

    from harness.errors import SabenchError
    from harness.listen.store import LISTEN_SCHEMA

    path = tmp_path / "results.sqlite"
    ListenStore(path)
    conn = sqlite3.connect(path)
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    assert meta["listen_schema_version"] == str(LISTEN_SCHEMA) and "schema_version" in meta
    assert ResultsStore(path, read_only=True).runs() == []          # still a plain results store to readers
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'listen_schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(SabenchError, match="listening tables have schema version 99"):
        ListenStore(path)
