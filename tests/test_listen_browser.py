"""A real headless Chromium completes a short listening test against a live server
(resuming with the rater's token after a reload, and with a resume link after losing it);
the page shows no factor values and starts each track's slider where the server says.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them);
skipped with the reason otherwise.
"""

import csv
import os
import re
import shutil
import tempfile
import time

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the `listen` extra (starlette) is not installed")
webdriver = pytest.importorskip("selenium.webdriver",
                                reason="selenium (dev extra) is not installed")

from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402

from sk_reseq.cli import main  # noqa: E402
from sk_reseq.listen import RatingStore, create_app, start_step  # noqa: E402
from test_listen_app import live_server  # noqa: E402
from test_listen_prepare import make_panel  # noqa: E402

pytestmark = pytest.mark.browser

CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--autoplay-policy=no-user-gesture-required", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
    "--window-size=1000,900",
]


@pytest.fixture(scope="module")
def browser():
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None or not os.access(CHROMEDRIVER, os.X_OK):
        pytest.skip("no headless browser: install Debian's chromium and chromium-driver "
                    f"(need `chromium` on PATH and {CHROMEDRIVER})")
    profile = tempfile.mkdtemp(prefix="sk-reseq-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in CHROMIUM_FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def wait_for(driver, condition, what, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(condition)
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}; page state: {debug(driver)}, "
                         f"error: {driver.find_element(By.ID, 'error').text!r}")


def debug(driver):
    return driver.execute_script("return window.listenTest && window.listenTest.debug()")


def wait_phase(driver, phase, n_done=None):
    """Wait for ``phase`` (and ``n_done`` stored answers, to not catch the previous screen)."""
    condition = f"document.body.dataset.phase === '{phase}'"
    if n_done is not None:
        condition += f" && document.body.dataset.done === '{n_done}'"
    wait_for(driver, "return " + condition, f"phase {phase!r} after {n_done} answers")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """(panel, database, URL) of a live server on a 3-track panel, sessions of 2."""
    tmp = tmp_path_factory.mktemp("browser")
    panel = make_panel(tmp, n_tracks=3, seconds=2.0)
    db = tmp / "ratings.sqlite"
    with live_server(create_app(panel, db_path=db, session_size=2)) as url:
        yield panel, db, url


SWITCHES = """
const done = arguments[arguments.length - 1];
const sr = 44100, ctx = new OfflineAudioContext(1, sr, sr);
const tone = (amp) => {
  const b = ctx.createBuffer(1, sr, sr), d = b.getChannelData(0);
  for (let i = 0; i < sr; i++) d[i] = amp * Math.sin(2 * Math.PI * 440 * i / sr);
  return b;
};
const player = new window.listenTest.VariantPlayer(
  ctx, ctx.destination, [tone(0.5), tone(0.25), tone(0.05)]);
player.start(0);
ctx.suspend(0.3).then(() => { player.select(1); ctx.resume(); });
ctx.suspend(0.6).then(() => { player.select(2); ctx.resume(); });
ctx.suspend(0.61).then(() => { player.select(0); ctx.resume(); });
ctx.startRendering().then((out) => done(Array.from(out.getChannelData(0))));
"""


def test_switching_versions_is_gapless_and_click_free(browser, site):
    """Render the page's player offline through three switches between in-phase tones."""
    browser.get(site[2] + "/")
    wait_phase(browser, "login")
    browser.set_script_timeout(30)
    y = np.asarray(browser.execute_async_script(SWITCHES))
    sr, f = 44100, 440
    y = y[int(0.1 * sr):]  # after the start-up fade-in
    # Click-free: no step larger than the loudest tone's own largest step (a hard switch
    # from amplitude 0.5 to 0.25 jumps by up to 0.25).
    assert np.abs(np.diff(y)).max() <= 0.5 * 2 * np.pi * f / sr * 1.05
    # Gapless: the level moves only between the versions' levels, never towards silence.
    period = sr // f
    envelope = np.array([np.abs(y[i:i + period]).max()
                         for i in range(0, y.size - period, period // 4)])
    assert envelope.min() > 0.05 * 0.9 and envelope.max() < 0.5 * 1.05
    assert envelope[: int(0.1 * sr / period * 4)].mean() == pytest.approx(0.5, rel=0.05)
    assert envelope[-int(0.1 * sr / period * 4):].mean() == pytest.approx(0.5, rel=0.05)


def test_rater_completes_a_short_test_with_a_reload(browser, site, tmp_path):
    panel, db, url = site
    browser.get(url + "/")
    wait_phase(browser, "login")
    browser.find_element(By.ID, "rater-id").send_keys("engineer-07")
    browser.find_element(By.ID, "start").click()
    wait_phase(browser, "track", 0)
    order = RatingStore(db).order("engineer-07", ["track0", "track1", "track2"])
    first = debug(browser)
    assert (first["track"] == order[0] and first["nSources"] == 17
            and first["contextState"] == "running")
    assert first["noisesPlayed"] == 1  # the pink-noise reference came first

    # Switch versions during playback: the same sources keep playing, only gains move.
    slider = browser.find_element(By.ID, "slider")
    slider.send_keys(Keys.HOME)  # from the random start to the first version
    wait_for(browser, "return window.listenTest.debug().gains[0] === 1", "the first version")
    for _ in range(5):
        slider.send_keys(Keys.ARROW_RIGHT)
        time.sleep(0.05)
    wait_for(browser, "return window.listenTest.debug().gains[5] === 1",
             "the crossfade to version 6")
    moved = debug(browser)
    assert moved["contextTime"] > first["contextTime"]
    assert (moved["variant"], moved["starts"], moved["ended"], moved["nSources"]) == (5, 1, 0, 17)
    assert sum(moved["gains"]) == pytest.approx(1.0) and moved["gains"][0] == 0
    assert browser.find_element(By.TAG_NAME, "body").get_attribute("data-variant") == "5"
    wait_for(browser,
             f"return window.listenTest.debug().contextTime > {moved['contextTime']} + 0.2",
             "playback to go on after the switch")
    # Pause stops the clock, play resumes it.
    browser.find_element(By.ID, "play").click()
    wait_for(browser, "return window.listenTest.debug().contextState === 'suspended'", "pause")
    browser.find_element(By.ID, "play").click()
    wait_for(browser, "return window.listenTest.debug().contextState === 'running'", "play")
    # Restart plays from the top, still on the chosen version.
    browser.find_element(By.ID, "restart").click()
    wait_for(browser, "return window.listenTest.debug().starts === 2", "the restart")
    restarted = debug(browser)
    assert (restarted["variant"], restarted["ended"], restarted["nSources"]) == (5, 0, 17)
    assert restarted["gains"][5] == 1 and sum(restarted["gains"]) == 1
    browser.find_element(By.ID, "choose").click()

    wait_phase(browser, "track", 1)
    assert debug(browser)["track"] == order[1] and debug(browser)["noisesPlayed"] == 2
    browser.find_element(By.ID, "decline").click()

    wait_phase(browser, "break", 2)  # session of 2 done
    assert "Session 1 of 2 is complete" in browser.find_element(By.ID, "break-text").text
    browser.refresh()  # stop; come back later
    wait_phase(browser, "login")  # (data-done is set again only after login)
    assert browser.find_element(By.ID, "rater-id").get_attribute("value") == "engineer-07"
    browser.find_element(By.ID, "start").click()
    wait_phase(browser, "break", 2)
    assert "Welcome back" in browser.find_element(By.ID, "break-text").text

    # A browser without the rater's token (here: its storage cleared) cannot resume as them...
    browser.execute_script("localStorage.clear()")
    browser.refresh()
    wait_phase(browser, "login")
    browser.find_element(By.ID, "rater-id").send_keys("engineer-07")
    browser.find_element(By.ID, "start").click()
    wait_for(browser,
             "return document.getElementById('error').textContent.includes('already taken')",
             "the refusal of a taken identifier")
    assert debug(browser)["phase"] == "login"
    refused = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert refused and all("409" in m for m in refused)  # the refused POST, nothing else
    # ... until the organiser's resume link gives it a new token.
    token = RatingStore(db).issue_token("engineer-07")
    browser.get("about:blank")
    browser.get(f"{url}/#rater=engineer-07&token={token}")
    wait_phase(browser, "login")
    assert "token" not in browser.current_url  # removed from the address bar
    assert browser.find_element(By.ID, "rater-id").get_attribute("value") == "engineer-07"
    browser.find_element(By.ID, "start").click()
    wait_phase(browser, "break", 2)
    assert "Welcome back" in browser.find_element(By.ID, "break-text").text
    browser.find_element(By.ID, "continue").click()
    wait_phase(browser, "track", 2)
    assert debug(browser)["track"] == order[2] and debug(browser)["noisesPlayed"] == 1
    assert browser.find_element(By.ID, "track-title").text == "Track 3 of 3"
    assert browser.find_element(By.ID, "progress-overall").text == "2 of 3 tracks rated"
    browser.find_element(By.ID, "slider").send_keys(Keys.END)
    wait_for(browser, "return document.body.dataset.variant === '16'", "the last version")
    browser.find_element(By.ID, "choose").click()
    wait_phase(browser, "done", 3)
    logs = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert logs == []

    csv_path = tmp_path / "ratings.csv"
    assert main(["listen", "export", str(panel), str(csv_path), "--db", str(db)]) == 0
    with open(csv_path, newline="") as fh:
        rows = {(r["track"], r["rater"]): r["rating"] for r in csv.DictReader(fh)}
    assert {k: float(v) if v else None for k, v in rows.items()} == {
        (order[0], "engineer-07"): 5 / 16,
        (order[1], "engineer-07"): None,
        (order[2], "engineer-07"): 1.0,
    }


# A factor as the old page wrote it (0.0625, 0.5, 1/16, ...) or a step count ("7 of 17").
FACTOR_TEXT = re.compile(r"\d*\.\d+|\d+\s*/\s*16\b|\bof 17\b")


def visible_text(driver):
    return driver.execute_script("return document.body.innerText")


def test_the_page_shows_no_factor_and_starts_where_the_server_says(browser, tmp_path):
    panel = make_panel(tmp_path, n_tracks=2, seconds=1.0)
    db = tmp_path / "ratings.sqlite"
    with live_server(create_app(panel, db_path=db, session_size=5)) as url:
        browser.get(url + "/")
        browser.execute_script("localStorage.clear()")  # another test's rater
        browser.refresh()
        wait_phase(browser, "login")
        assert not FACTOR_TEXT.search(visible_text(browser)), visible_text(browser)
        browser.find_element(By.ID, "rater-id").send_keys("heidi")
        browser.find_element(By.ID, "start").click()
        order = RatingStore(db).order("heidi", ["track0", "track1"])
        slider = browser.find_element(By.ID, "slider")
        for n_done, track in enumerate(order):
            wait_phase(browser, "track", n_done)
            start = start_step("heidi", track, 17)
            state = debug(browser)
            assert state["track"] == track
            assert slider.get_attribute("value") == str(start)
            assert (state["variant"], state["gains"][start], sum(state["gains"])) == (start, 1, 1)
            assert browser.find_element(By.TAG_NAME, "body").get_attribute("data-start") == \
                str(start)
            text = visible_text(browser)
            assert "Resonance attenuation" in text and "less" in text and "more" in text
            assert not FACTOR_TEXT.search(text), text
            # Moving the slider shows no value either.
            slider.send_keys(Keys.END if start < 16 else Keys.HOME)
            wait_for(browser, f"return document.body.dataset.variant !== '{start}'", "a move")
            assert not FACTOR_TEXT.search(visible_text(browser)), visible_text(browser)
            browser.find_element(By.ID, "choose").click()
        wait_phase(browser, "done", 2)
    rows = {r["track"]: r for r in RatingStore(db).rows()}
    for track in order:  # stored with the answer: the start the page used
        start = start_step("heidi", track, 17)
        assert rows[track]["start_step"] == start
        assert rows[track]["rating"] == (1.0 if start < 16 else 0.0)
