"""The pages of a listening test: plain HTML (phone-sized screens first), one static script.

Blinding: pages carry only opaque ids (rater token, assignment ids, clip ids), positions, the
prompt/edit texts a trial needs and the fixed wording below; never a system name, run id or
file path. Every text goes through `html.escape`. The script is a fixed constant served from
/static (the Content-Security-Policy allows no inline script).
"""

from __future__ import annotations

import html

ACR = ((1, "Bad"), (2, "Poor"), (3, "Fair"), (4, "Good"), (5, "Excellent"))
QUESTIONS = {
    "mos": "How would you rate the overall audio quality of this clip?",
    "mos-edit": "The clip below is an edit of the source clip towards the target description. "
                "How would you rate the overall edit quality and naturalness?",
    "ab": "Which clip has the better overall audio quality?",
}

CSS = """
*{box-sizing:border-box}body{font-family:system-ui,sans-serif;margin:0 auto;padding:1em;max-width:40em;
line-height:1.45;color:#1d1d1d}h1{font-size:1.35em}audio{width:100%;margin:.4em 0 1em}
.scale{display:flex;flex-wrap:wrap;gap:.4em;margin:.6em 0}.scale label{flex:1 1 5.5em;border:1px solid #888;
border-radius:.4em;padding:.7em .3em;text-align:center;cursor:pointer;min-height:3em}
.scale input{display:block;margin:0 auto .2em}button,.button{font-size:1.1em;padding:.7em 1.4em;border-radius:.4em;
border:0;background:#2456a6;color:#fff;cursor:pointer;text-decoration:none;display:inline-block}
button:disabled{background:#999}#message{min-height:1.5em;color:#a40000;font-weight:600;margin:.6em 0}
.text{display:block;background:#f2f2f2;padding:.5em .7em;border-radius:.3em;margin-top:.2em}
.attention{background:#fff2c6;padding:.5em .7em}
.progress{color:#555}input[name=code]{font-size:1.1em;width:100%;padding:.5em}
nav{margin-top:1.5em;display:flex;justify-content:space-between}
"""

SCRIPT = """
(function () {
  var form = document.getElementById('trial');
  if (form) { trial(form); }
  var check = document.getElementById('check-audio');
  if (check) {
    check.addEventListener('ended', function () { document.getElementById('check-continue').disabled = false; });
  }
  function trial(form) {
    var clips = Array.prototype.slice.call(document.querySelectorAll('audio[data-required]'));
    var played = clips.map(function () { return 0; }), ended = clips.map(function () { return false; });
    var started = clips.map(function () { return null; });
    clips.forEach(function (a, i) {
      function stop() {
        if (started[i] !== null) { played[i] += performance.now() - started[i]; started[i] = null; }
      }
      a.addEventListener('playing', function () { stop(); started[i] = performance.now(); });
      a.addEventListener('waiting', stop);
      a.addEventListener('pause', stop);
      a.addEventListener('ended', function () { stop(); ended[i] = true; a.setAttribute('data-ended', 'yes'); });
    });
    var msg = document.getElementById('message');
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var picked = form.querySelector('input[name=value]:checked');
      var value = picked ? parseInt(picked.value, 10) : null;
      if (value === null) { msg.textContent = 'Please choose an answer first.'; return; }
      var body = JSON.stringify({assignment: form.getAttribute('data-assignment'), value: value,
        revision: parseInt(form.getAttribute('data-revision'), 10),
        play_ms: Math.round(Math.min.apply(null, played)), ended: ended.every(Boolean)});
      msg.textContent = '';
      fetch(form.getAttribute('data-api'), {method: 'POST', body: body,
        headers: {'Content-Type': 'application/json', 'Accept': 'application/json'}})
        .then(function (r) { return r.json().then(function (j) { return [r.ok, j]; }); })
        .then(function (res) {
          if (res[0]) { window.location.href = res[1].next; }
          else { msg.textContent = res[1].error || 'Not saved.'; }
        })
        .catch(function () { msg.textContent = 'Could not reach the server; your answer was not saved. Try again.'; });
    });
  }
})();
"""


def e(text: object) -> str:
    return html.escape(str(text), quote=True)


def page(title: str, body: str) -> str:
    return ("<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
            "<meta name=viewport content='width=device-width, initial-scale=1'>"
            f"<title>{e(title)}</title><link rel=stylesheet href='/static/listen.css'></head>"
            f"<body>{body}<script src='/static/listen.js'></script></body></html>")


def enter_code(message: str = "") -> str:
    msg = f"<p id=message>{e(message)}</p>" if message else ""
    return page("Listening test", "<h1>Listening test</h1><p>Enter the code you were given.</p>"
                f"{msg}<form method=get action='/go'><input name=code autocomplete=off required>"
                "<p><button>Continue</button></p></form>")


def consent(token: str, kind: str, total: int, min_play: float, lufs: float) -> str:
    what = {"mos": "rate the overall audio quality of short sound clips",
            "mos-edit": "rate how well short sound clips were edited towards a description",
            "ab": "choose the better of two short sound clips"}[kind]
    play = "to the end" if min_play >= 1 else f"for at least {int(round(min_play * 100))}% of its length"
    return page("Listening test: instructions", f"""<h1>Listening test</h1>
<p>You will {what}: {total} trials, one per page, in an order made for you. Please use headphones in a
quiet place. Each clip must be played {play} before your answer is accepted. Some trials check that
you are paying attention. You can close the tab at any time and come back with the same link; your
answers are kept, and you can change an answer by going back to its page.</p>
<p>The clips are played at a fixed loudness ({e(f'{lufs:g}')} LUFS); the next page helps you set your volume.</p>
<p>Your answers are stored with an anonymous rater number, the time you spent and how long you
listened; nothing else about you is recorded.</p>
<form method=post action='/r/{e(token)}/consent'><p><label><input type=checkbox name=agree value=yes required>
I agree to take part and to the storing of my answers as described.</label></p>
<p><button id=consent-button>Start</button></p></form>""")


def loudness_check(token: str, clip_id: str) -> str:
    return page("Listening test: volume", f"""<h1>Set your volume</h1>
<p>Play this test sound and set your volume to a comfortable level. Keep it there for the whole test.</p>
<audio id=check-audio controls preload=auto src='/r/{e(token)}/c/{e(clip_id)}'></audio>
<form method=post action='/r/{e(token)}/check'><p><button id=check-continue disabled>Continue</button></p></form>""")


def _player(token: str, clip_id: str, label: str, required: bool, ident: str) -> str:
    req = " data-required=yes" if required else ""
    return (f"<p><strong>{e(label)}</strong></p><audio id={ident} controls preload=auto{req} "
            f"src='/r/{e(token)}/c/{e(clip_id)}'></audio>")


def trial(token: str, a: dict, position: int, total: int, revision: int, value: int | None) -> str:
    """One trial page. `a`: kind, assignment, clips [(clip id, label, required)], text,
    source_text, ask (attention answer or None)."""
    kind = a["kind"]
    parts = [f"<p class=progress>Trial {position + 1} of {total}</p><h1>{e(QUESTIONS[kind])}</h1>"]
    if kind == "mos-edit":
        if a.get("source_text"):
            parts.append(f"<p>Source: <span class=text>{e(a['source_text'])}</span></p>")
        parts.append(f"<p>Edit target: <span class=text id=target-text>{e(a['text'])}</span></p>")
    for k, (cid, label, required) in enumerate(a["clips"]):
        parts.append(_player(token, cid, label, required, f"clip{k}"))
    if a.get("ask") is not None:
        want = (f"Clip {'A' if a['ask'] == 1 else 'B'}" if kind == "ab"
                else f"{a['ask']} ({dict(ACR)[a['ask']]})")
        parts.append(f"<p class=attention>Attention check: for this trial please answer {e(want)}.</p>")
    options = ((1, "Clip A"), (2, "Clip B")) if kind == "ab" else ACR
    radios = "".join(f"<label><input type=radio name=value value={v}{' checked' if v == value else ''}>"
                     f"{'' if kind == 'ab' else f'{v}<br>'}{e(name)}</label>" for v, name in options)
    parts.append(f"<form id=trial data-assignment='{e(a['assignment'])}' data-revision={revision} "
                 f"data-api='/api/r/{e(token)}/rate'><div class=scale role=radiogroup>{radios}</div>"
                 "<div id=message role=alert aria-live=polite></div>"
                 "<button id=submit>Save and continue</button></form>")
    nav = f"<a href='/r/{e(token)}/t/{position - 1}'>&larr; previous</a>" if position > 0 else "<span></span>"
    parts.append(f"<nav>{nav}<a href='/r/{e(token)}/next'>first unanswered &rarr;</a></nav>")
    return page(f"Listening test: trial {position + 1}", "".join(parts))


def done(token: str, total: int) -> str:
    links = " ".join(f"<a href='/r/{e(token)}/t/{k}'>{k + 1}</a>" for k in range(total))
    return page("Listening test: thank you", f"""<h1 id=done>Thank you!</h1>
<p>All {total} trials are answered and saved. You can close this tab.</p>
<p>To change an answer, open its trial: {links}</p>""")


def error(message: str) -> str:
    return page("Listening test", f"<h1>Listening test</h1><p id=message>{e(message)}</p>"
                "<p><a href='/'>Enter a code</a></p>")


__all__ = ["ACR", "CSS", "QUESTIONS", "SCRIPT", "consent", "done", "enter_code", "error", "loudness_check", "trial"]
