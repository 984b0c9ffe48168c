"""The report → dispatch → accept loop in three real browsers, with live push and no reloads.

citizen1 reports a fight by clicking the map; the dispatcher offers it to officer1 (the grid's
officer), whose open /unit/ page shows the card by itself; officer1 accepts; the citizen's open
page turns to 已接警 and the commander's open board shows the row, all without a reload.
"""

import re
import time

from playwright.sync_api import expect

from pingan.accounts import totp

from .seed import GRID_CENTER, HALF, PASSWORD

LIVE_TIMEOUT_MS = 10_000  # live pushes and htmx redraws
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}


def _context(browser, viewport):
    ctx = browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai")
    ctx.set_default_timeout(LIVE_TIMEOUT_MS)
    return ctx


def _watch(page, name, errors):
    page.on("pageerror", lambda exc: errors.append(f"{name}: {exc}"))


def _login(page, base, username, landing):
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    # Commanders sign in with a second factor: on the first sign-in they bind an authenticator
    # (the code computed from the secret the page shows, as the app would), later the demo
    # page shows the current code. A code is good once: if this 30-second step's was used by
    # an earlier sign-in, wait for the next step.
    for _ in range(3):
        if not page.url.endswith(("/login/enrol/", "/login/otp/")):
            break
        if page.url.endswith("/login/enrol/"):
            secret = page.locator("#totp-secret").inner_text().strip()
            page.fill("#id_code", totp.code_at(secret, time.time()))
        else:
            page.fill("#id_code", page.locator("#demo-otp b").inner_text())
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state()
        if page.locator("#recovery-codes").count():
            page.locator("a.btn", has_text="继续").click()
            page.wait_for_load_state()
        elif page.url.endswith(("/login/enrol/", "/login/otp/")):
            time.sleep(31 - time.time() % 30)
            page.reload()
    expect(page).to_have_url(f"{base}{landing}")


def _mark(page):
    """Plant a flag that only survives as long as the document does (i.e. no reload)."""
    page.evaluate("window.__e2eNoReload = true")


def _assert_not_reloaded(page):
    assert page.evaluate("window.__e2eNoReload === true"), f"{page.url} was reloaded"


def _expect_live(page):
    expect(page.locator("#live-status")).to_have_class(
        re.compile(r"\bonline\b"), timeout=LIVE_TIMEOUT_MS
    )


def test_citizen_report_reaches_officer_and_board_live(live_server_url, browser, shoot):
    base = live_server_url
    errors: list[str] = []
    contexts = [_context(browser, PHONE), _context(browser, PHONE), _context(browser, DESKTOP)]
    officer, citizen, commander = (ctx.new_page() for ctx in contexts)
    for name, page in (("officer", officer), ("citizen", citizen), ("commander", commander)):
        _watch(page, name, errors)
    try:
        # (a) the officer's assignment page, empty, listening.
        _login(officer, base, "officer1", "/unit/")
        expect(officer.locator("#no-assignments")).to_contain_text("暂无派给您的警情")
        _expect_live(officer)
        _mark(officer)
        shoot(officer, "officer-empty")

        # (f) the commander's board, opened before the report, listening.
        _login(commander, base, "commander", "/console/")
        expect(commander.locator("#board-table")).to_be_visible()
        expect(commander.locator("#map.leaflet-container")).to_be_visible()
        _expect_live(commander)
        _mark(commander)
        shoot(commander, "board-before")

        # (b) the citizen reports a fight, picking the place on the map.
        _login(citizen, base, "citizen1", "/my/reports/")
        citizen.goto(f"{base}/report/")
        citizen.select_option("#id_category", "020100")
        expect(citizen.locator("#id_category option:checked")).to_contain_text("打架斗殴")
        citizen.fill("#id_description", "东门社区菜市场门口有两人打架，其中一人头部流血。")
        pick_map = citizen.locator("#pick-map.leaflet-container")
        expect(pick_map).to_be_visible()
        expect(citizen.locator("#id_lat")).to_have_value("")
        pick_map.click()  # the centre: the map is fitted to the only grid's outline
        expect(citizen.locator("#id_lat")).to_have_value(re.compile(r"^\d+\.\d{6}$"))
        expect(citizen.locator("#id_lng")).to_have_value(re.compile(r"^\d+\.\d{6}$"))
        expect(citizen.locator("#pick-text")).to_contain_text("已选择位置")
        lat = float(citizen.input_value("#id_lat"))
        lng = float(citizen.input_value("#id_lng"))
        assert abs(lng - GRID_CENTER[0]) < HALF and abs(lat - GRID_CENTER[1]) < HALF, (lat, lng)
        shoot(citizen, "report-filled")
        citizen.locator("#submit-report").click()
        expect(citizen).to_have_url(re.compile(r"/my/reports/JQ\d{8}-\d+/$"))
        code = re.search(r"/my/reports/([^/]+)/$", citizen.url).group(1)
        expect(citizen.locator("#status")).to_have_text("已派警")
        expect(citizen.locator("#report-body")).to_contain_text("东门社区")
        _expect_live(citizen)
        _mark(citizen)
        shoot(citizen, "reported")

        # (c) the offer appears on the officer's open page by itself.
        card = officer.locator(f"#card-{code}")
        expect(card).to_be_visible(timeout=LIVE_TIMEOUT_MS)
        expect(card).to_have_attribute("data-status", "offered")
        expect(card).to_contain_text("打架斗殴")
        expect(officer.locator("#no-assignments")).to_have_count(0)
        _assert_not_reloaded(officer)
        shoot(officer, "officer-offered")

        # (f) and as a row on the commander's open board (one row per incident: checked last,
        # after the rest of the flow, so a duplicate does not hide what else works).
        rows = commander.locator(f"#row-{code}")
        row = rows.first
        expect(row).to_be_visible(timeout=LIVE_TIMEOUT_MS)
        expect(row).to_have_attribute("data-status", "dispatched")
        _assert_not_reloaded(commander)
        shoot(commander, "board-dispatched")

        # (d) the officer accepts.
        card.locator('button[data-action="accept"]').click()
        expect(card).to_have_attribute("data-status", "accepted", timeout=LIVE_TIMEOUT_MS)
        expect(card.locator('button[data-action="arrive"]')).to_be_visible()
        _assert_not_reloaded(officer)
        shoot(officer, "officer-accepted")

        # (e) the citizen's open page turns to 已接警 by itself; the board row follows.
        expect(citizen.locator("#status")).to_have_text("已接警", timeout=LIVE_TIMEOUT_MS)
        _assert_not_reloaded(citizen)
        shoot(citizen, "accepted")
        expect(row).to_have_attribute("data-status", "accepted", timeout=LIVE_TIMEOUT_MS)
        _assert_not_reloaded(commander)
        shoot(commander, "board-accepted")

        assert not errors, "JavaScript errors:\n" + "\n".join(errors)
        expect(rows, "the board must show one row per incident").to_have_count(1)
        expect(commander.locator("#count-open")).to_have_text("1")
    finally:
        for ctx in contexts:
            ctx.close()
