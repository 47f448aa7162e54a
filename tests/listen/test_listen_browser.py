"""A whole listening session in headless Chromium (Debian's chromium driven by Playwright; no
browser download), on a phone-sized screen: consent, loudness check, clips played, ratings
clicked, the tab closed and the session resumed, finished; the store holds exactly what was
clicked, and answering before the clip was played is refused with a message on the page."""

from __future__ import annotations

import shutil

import pytest

from harness.listen.design import add_raters
from harness.listen.store import ListenStore

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PHONE = {"width": 375, "height": 740}


def _play_all(page) -> None:
    """Play every clip the trial requires, as a listener would, and wait until each has ended."""
    page.evaluate("document.querySelectorAll('audio[data-required]').forEach(a => a.play())")
    page.wait_for_selector("audio[data-required]:not([data-ended=yes])", state="detached", timeout=30_000)


def _fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.skipif(CHROMIUM is None, reason="chromium not on PATH")
def test_a_whole_session_in_a_real_browser(kit_store, server):
    sync_api = pytest.importorskip("playwright.sync_api")
    store = ListenStore(kit_store / "results.sqlite")
    (token,) = add_raters(store, "s1", 1)
    rater = store.rater(token)
    total = len(store.assignments(rater))
    clicked: dict[int, int] = {}
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--autoplay-policy=no-user-gesture-required", "--disable-gpu"])
        ctx = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
        page = ctx.new_page()
        page.goto(f"{server}/")
        page.fill("input[name=code]", token)
        page.click("button")
        page.wait_for_url(f"**/r/{token}")
        assert "headphones" in page.inner_text("body") and _fits_the_screen(page)
        page.check("input[name=agree]")
        page.click("#consent-button")
        page.wait_for_url(f"**/r/{token}/check")
        assert page.is_disabled("#check-continue")
        page.evaluate("document.getElementById('check-audio').play()")
        page.wait_for_selector("#check-continue:enabled", timeout=30_000)
        page.click("#check-continue")
        page.wait_for_url(f"**/r/{token}/t/0")

        # answering before playing: refused by the server, message on the page, nothing stored
        page.click("label:has(input[value='3'])")
        page.click("#submit")
        page.wait_for_selector("#message:not(:empty)")
        assert "play the clip" in page.inner_text("#message") and "nothing was saved" in page.inner_text("#message")
        assert store.ratings_of(rater) == [] and f"/r/{token}/t/0" in page.url

        def answer(pos: int) -> None:
            assert page.url.endswith(f"/r/{token}/t/{pos}") and _fits_the_screen(page)
            text = page.inner_text("body")
            ask = next((v for v in range(1, 6) if f"please answer {v} (" in text), None)
            value = ask or 1 + (pos * 2) % 5
            _play_all(page)
            page.click(f"label:has(input[value='{value}'])")
            page.click("#submit")
            page.wait_for_url(lambda url: not url.endswith(f"/t/{pos}"))
            clicked[pos] = value

        half = total // 2
        for pos in range(half):
            answer(pos)
        page.close()                                     # the rater closes the tab ...
        page = ctx.new_page()                            # ... and comes back with the same link
        page.goto(f"{server}/r/{token}")
        page.wait_for_url(f"**/r/{token}/t/{half}")
        for pos in range(half, total):
            answer(pos)
        page.wait_for_url(f"**/r/{token}/done")
        assert "Thank you" in page.inner_text("#done")
        browser.close()

    by_trial = {a.trial.trial_id: a.position for a in store.assignments(rater)}
    stored = {by_trial[r.trial_id]: r.value for r in store.ratings_of(rater)}
    assert stored == clicked and len(stored) == total
    assert all(r.revision == 1 and r.ended and r.play_ms >= 400 for r in store.ratings_of(rater))
