"""The listening-test web server (Starlette on uvicorn): `make_app(results_path)`, `serve(...)`.

Routes (a rater is known only by their token; everything else is an opaque id or a position):
    GET  /                       enter a code          GET /go?code=T  -> /r/T
    GET  /r/T                    consent + instructions (then the loudness check, then trials)
    POST /r/T/consent            agree                 POST /r/T/check   volume set
    GET  /r/T/next               the first unanswered trial (resume), or the thank-you page
    GET  /r/T/t/K                trial K of the rater's own order
    GET  /r/T/c/CLIP             a clip of one of the rater's trials (bare WAV, opaque id)
    GET  /api/r/T                the rater's state as JSON (what a page shows, for API clients)
    POST /api/r/T/rate           {"assignment", "value", "revision", "play_ms", "ended"}

A rating is refused with a 4xx and a one-line message, storing nothing, when: the token is
unknown (404); consent or the loudness check is missing (403); the assignment id is not this
rater's (403); the value is not an integer on the trial's scale (422); the clip was not
played as the design requires (422); the body is not a small JSON object (400/413); the
revision is not the stored one, i.e. a replayed or stale request (409). A change of mind is a
new request with the current revision: it updates the rating and is recorded in its history.
Each rating is committed (synchronous) before the 200 is sent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeGuard
from urllib.parse import parse_qs

from harness.extras import require

require("starlette", extra="listen", item="sabench listen")  # one line naming the extra, not a traceback
from starlette.applications import Starlette  # noqa: E402
from starlette.concurrency import run_in_threadpool  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response  # noqa: E402
from starlette.routing import Route  # noqa: E402

from harness.listen import pages  # noqa: E402
from harness.listen.store import Assignment, ListenStore, Rater, StaleRevision  # noqa: E402

MAX_BODY = 4096
"""Bytes: larger request bodies are refused (413)."""
PLAY_TOLERANCE = (50.0, 0.05, 300.0)
"""Timer slack allowed when checking the reported listening time: max(50 ms, 5%), at most 300 ms."""


def play_tolerance_ms(required_ms: float) -> float:
    lo, frac, hi = PLAY_TOLERANCE
    return min(hi, max(lo, frac * required_ms))
HEADERS = {
    "Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; media-src 'self'; "
                               "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
}


class Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


class _App:
    def __init__(self, results_path: Path):
        self.store = ListenStore(results_path)
        self._designs: dict[str, dict[str, Any]] = {}

    def design(self, study: str) -> dict[str, Any]:
        if study not in self._designs:
            self._designs[study] = self.store.design_json(study) or {}
        return self._designs[study]

    def rater(self, token: str) -> Rater:
        r = self.store.rater(token) if token and len(token) < 100 else None
        if r is None or r.origin != "web":
            raise Refused(404, "unknown rater code: check the link or code you were given")
        return r

    # -- pages ------------------------------------------------------------------------------
    def home(self, request: Request) -> Response:
        return _html(pages.enter_code())

    def go(self, request: Request) -> Response:
        code = request.query_params.get("code", "").strip()
        try:
            self.rater(code)
        except Refused as exc:
            return _html(pages.enter_code(exc.message), exc.status)
        return RedirectResponse(f"/r/{code}", 303)

    def start(self, request: Request) -> Response:
        r = self.rater(request.path_params["token"])
        if r.consented and r.checked:
            return RedirectResponse(f"/r/{r.token}/next", 303)
        if r.consented:
            return RedirectResponse(f"/r/{r.token}/check", 303)
        d = self.design(r.study)
        return _html(pages.consent(r.token, d["type"], len(self.store.assignments(r)), d["min_play"], d["lufs"]))

    def consent(self, request: Request, body: bytes) -> Response:
        r = self.rater(request.path_params["token"])
        agreed = parse_qs(body.decode("utf-8", "replace")).get("agree") == ["yes"] or _json_agree(body)
        if not agreed:
            raise Refused(422, "please tick the consent box to take part")
        self.store.mark(r, "consented")
        return _after(request, f"/r/{r.token}/check")

    def check_page(self, request: Request) -> Response:
        r = self.rater(request.path_params["token"])
        if not r.consented:
            return RedirectResponse(f"/r/{r.token}", 303)
        return _html(pages.loudness_check(r.token, self.design(r.study)["check_clip"]))

    def checked(self, request: Request, body: bytes) -> Response:
        r = self.rater(request.path_params["token"])
        if not r.consented:
            raise Refused(403, "please read the instructions and give consent first")
        self.store.mark(r, "checked")
        return _after(request, f"/r/{r.token}/next")

    def next(self, request: Request) -> Response:
        r = self.rater(request.path_params["token"])
        if not (r.consented and r.checked):
            return RedirectResponse(f"/r/{r.token}", 303)
        return RedirectResponse(self._next_url(r), 303)

    def _next_url(self, r: Rater) -> str:
        rated = self.store.rating_map(r)
        for a in self.store.assignments(r):
            if a.trial.trial_id not in rated:
                return f"/r/{r.token}/t/{a.position}"
        return f"/r/{r.token}/done"

    def trial_page(self, request: Request) -> Response:
        r = self.rater(request.path_params["token"])
        if not (r.consented and r.checked):
            return RedirectResponse(f"/r/{r.token}", 303)
        mine = self.store.assignments(r)
        pos = request.path_params["pos"]
        if not 0 <= pos < len(mine):
            raise Refused(404, f"there is no trial {pos + 1}: you have {len(mine)}")
        a = mine[pos]
        self.store.shown(r, a.trial.trial_id)
        have = self.store.rating_map(r).get(a.trial.trial_id)
        value = None if have is None else _presented(a, have.value)
        return _html(pages.trial(r.token, self._view(r, a), pos, len(mine), have.revision if have else 0, value))

    def done(self, request: Request) -> Response:
        r = self.rater(request.path_params["token"])
        return _html(pages.done(r.token, len(self.store.assignments(r))))

    def clip(self, request: Request) -> Response:
        r = self.rater(request.path_params["token"])
        cid = request.path_params["clip"]
        allowed = {self.design(r.study).get("check_clip")}
        for a in self.store.assignments(r):
            allowed |= {a.trial.clip_a, a.trial.clip_b, a.trial.source_clip}
        clip = self.store.clip(cid) if cid in allowed else None
        if clip is None:
            raise Refused(404, "no such clip in your trials")
        return _ranged(Path(clip.path).read_bytes(), request.headers.get("range"))

    # -- API --------------------------------------------------------------------------------
    def _view(self, r: Rater, a: Assignment) -> dict[str, Any]:
        t = a.trial
        clips: list[tuple[str | None, str, bool]]  # (clip id, label, must be played)
        if t.kind == "ab":
            first, second = (t.clip_b, t.clip_a) if a.swapped else (t.clip_a, t.clip_b)
            clips = [(first, "Clip A", True), (second, "Clip B", True)]
        elif t.kind == "mos-edit":
            clips = [(t.source_clip, "Source clip", False)] if t.source_clip else []
            clips.append((t.clip_a, "Edited clip", True))
        else:
            clips = [(t.clip_a, "Clip", True)]
        return {"kind": t.kind, "assignment": a.assignment_id, "clips": clips, "text": t.text,
                "source_text": t.source_text, "ask": t.expect if t.control == "attention" else None}

    def state(self, request: Request) -> Response:
        r = self.rater(request.path_params["token"])
        rated = self.store.rating_map(r)
        secs = {c.clip_id: c.seconds for c in self.store.clips(r.study)}
        d = self.design(r.study)
        trials = []
        for a in self.store.assignments(r):
            v, have = self._view(r, a), rated.get(a.trial.trial_id)
            trials.append({"position": a.position, "assignment": a.assignment_id, "kind": v["kind"],
                           "clips": [{"url": f"/r/{r.token}/c/{c}", "label": lab, "required": req, "seconds": secs[c]}
                                     for c, lab, req in v["clips"]],
                           "text": v["text"], "source_text": v["source_text"], "ask": v["ask"],
                           "revision": have.revision if have else 0,
                           "value": _presented(a, have.value) if have else None})
        return JSONResponse({"consented": bool(r.consented), "checked": bool(r.checked), "type": d["type"],
                             "min_play": d["min_play"], "check_clip": f"/r/{r.token}/c/{d['check_clip']}",
                             "total": len(trials), "done": len(rated), "trials": trials}, headers=HEADERS)

    def rate(self, request: Request, body: bytes) -> Response:
        r = self.rater(request.path_params["token"])
        if not (r.consented and r.checked):
            raise Refused(403, "please read the instructions, give consent and set your volume first")
        msg = _parse(body)
        mine = {a.assignment_id: a for a in self.store.assignments(r)}
        a = mine.get(msg["assignment"]) if isinstance(msg.get("assignment"), str) else None
        if a is None:
            raise Refused(403, "this trial is not one of yours: reload your own link")
        top = 2 if a.trial.kind == "ab" else 5
        value, revision, play_ms = msg.get("value"), msg.get("revision"), msg.get("play_ms")
        if not _int(value) or not 1 <= value <= top:
            raise Refused(422, f"the answer must be a whole number from 1 to {top}, got {_show(value)}")
        if not _int(revision) or revision < 0 or not _int(play_ms) or not 0 <= play_ms < 10 ** 8 \
                or not isinstance(msg.get("ended"), bool):
            raise Refused(400, "malformed answer: revision, play_ms and ended are required; reload the page")
        self._check_played(r, a, play_ms, msg["ended"])
        canonical = 3 - value if a.swapped else value
        try:
            new = self.store.rate(r, a.trial.trial_id, canonical, play_ms, msg["ended"], revision)
        except StaleRevision as exc:
            raise Refused(409, f"this answer was already saved (revision {exc.have}): a repeated or outdated "
                          "request was ignored; reload the page to change it") from None
        return JSONResponse({"ok": True, "revision": new, "next": self._next_url(r)}, headers=HEADERS)

    def _check_played(self, r: Rater, a: Assignment, play_ms: int, ended: bool) -> None:
        d = self.design(r.study)
        secs = {c.clip_id: c.seconds for c in self.store.clips(r.study)}
        need = [secs[c] for c, _, req in self._view(r, a)["clips"] if req]
        want_ms = d["min_play"] * min(need) * 1000.0
        want_ms -= play_tolerance_ms(want_ms)
        if (d["min_play"] >= 1.0 and not ended) or play_ms < want_ms:
            whole = "to the end" if d["min_play"] >= 1.0 else f"for {d['min_play'] * min(need):.1f} s"
            raise Refused(422, f"please play the clip{'s' if len(need) > 1 else ''} {whole} before answering "
                          f"(played {play_ms / 1000:.1f} s of {min(need):.1f} s); nothing was saved")


def _ranged(data: bytes, header: str | None) -> Response:
    """The clip, or the byte range asked for (`Range: bytes=a-b`; phones' players need it)."""
    headers = {**HEADERS, "Accept-Ranges": "bytes"}
    if not header:
        return Response(data, media_type="audio/wav", headers=headers)
    unit, _, spec = header.partition("=")
    first, _, last = spec.strip().partition("-")
    size = len(data)
    try:
        if unit.strip() != "bytes" or "," in spec:
            raise ValueError
        start, end = (size - int(last), size - 1) if not first else (int(first), int(last) if last else size - 1)
        end = min(end, size - 1)
        if start < 0 or start > end:
            raise ValueError
    except ValueError:
        return Response(b"", 416, headers={**headers, "Content-Range": f"bytes */{size}"})
    return Response(data[start:end + 1], 206, media_type="audio/wav",
                    headers={**headers, "Content-Range": f"bytes {start}-{end}/{size}"})


def _int(v: Any) -> TypeGuard[int]:
    return isinstance(v, int) and not isinstance(v, bool)


def _show(v: Any) -> str:
    text = json.dumps(v)
    return text if len(text) <= 20 else text[:17] + "..."


def _presented(a: Assignment, canonical: int) -> int:
    return 3 - canonical if a.swapped else canonical


def _parse(body: bytes) -> dict[str, Any]:
    try:
        msg = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise Refused(400, "the request body must be a JSON object") from None
    if not isinstance(msg, dict):
        raise Refused(400, "the request body must be a JSON object")
    return msg


def _json_agree(body: bytes) -> bool:
    try:
        return json.loads(body.decode("utf-8")).get("agree") is True
    except (UnicodeDecodeError, ValueError, AttributeError):
        return False


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _after(request: Request, url: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"ok": True, "next": url}, headers=HEADERS)
    return RedirectResponse(url, 303, headers=HEADERS)


def _html(text: str, status: int = 200) -> Response:
    return HTMLResponse(text, status, headers=HEADERS)


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
        raise Refused(413, f"request body too large (at most {MAX_BODY} bytes)")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise Refused(413, f"request body too large (at most {MAX_BODY} bytes)")
        chunks.append(chunk)
    return b"".join(chunks)


def make_app(results_path: str | Path) -> Starlette:
    """The ASGI app serving every study of one results store."""
    app = _App(Path(results_path))

    def endpoint(fn, with_body: bool = False):
        async def handle(request: Request) -> Response:
            try:
                if with_body:
                    body = await _body(request)
                    return await run_in_threadpool(fn, request, body)
                return await run_in_threadpool(fn, request)
            except Refused as exc:
                if request.url.path.startswith("/api/") or _wants_json(request):
                    return JSONResponse({"error": exc.message}, exc.status, headers=HEADERS)
                return _html(pages.error(exc.message), exc.status)
        return handle

    def static(text: str, media: str):
        async def handle(request: Request) -> Response:
            return Response(text, media_type=media, headers=HEADERS)
        return handle

    routes = [
        Route("/", endpoint(app.home)), Route("/go", endpoint(app.go)),
        Route("/static/listen.js", static(pages.SCRIPT, "text/javascript")),
        Route("/static/listen.css", static(pages.CSS, "text/css")),
        Route("/r/{token}", endpoint(app.start)),
        Route("/r/{token}/consent", endpoint(app.consent, True), methods=["POST"]),
        Route("/r/{token}/check", endpoint(app.check_page)),
        Route("/r/{token}/check", endpoint(app.checked, True), methods=["POST"]),
        Route("/r/{token}/next", endpoint(app.next)),
        Route("/r/{token}/done", endpoint(app.done)),
        Route("/r/{token}/t/{pos:int}", endpoint(app.trial_page)),
        Route("/r/{token}/c/{clip}", endpoint(app.clip)),
        Route("/api/r/{token}", endpoint(app.state)),
        Route("/api/r/{token}/rate", endpoint(app.rate, True), methods=["POST"]),
    ]
    return Starlette(routes=routes)


def serve(results_path: str | Path, host: str = "127.0.0.1", port: int = 8765, quiet: bool = False) -> None:
    """Run the server until interrupted (uvicorn, one process; ratings are committed as they come)."""
    from harness.extras import require

    uvicorn = require("uvicorn", extra="listen", item="sabench listen --serve")
    uvicorn.run(make_app(results_path), host=host, port=port, log_level="warning" if quiet else "info",
                server_header=False, date_header=False, proxy_headers=True,
                access_log=False)                # access lines would carry rater tokens


__all__ = ["MAX_BODY", "make_app", "serve"]
