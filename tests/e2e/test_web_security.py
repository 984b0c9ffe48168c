"""The web surface in a real browser (issue 11, point 6; security review F7).

1. The main pages, as each kind of user, raise no Content Security Policy violation: no inline
   script or handler left, Swagger UI works from our own files, and the live socket (its own
   port in the embedded set-up) is allowed, so pages still go online.
2. A grid whose name is HTML, imported by a commander, shows as text in the map's tooltip on the
   public report page when hovered: no element is made of it and its handler never runs.

Runs last in the session (file order): the grid it imports sits beside the seed grid.
"""

import base64
import json
import time

from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP
from playwright.sync_api import expect

from .seed import GRID_CENTER, HALF, PASSWORD
from .test_report_flow import DESKTOP, PHONE, _context, _expect_live, _login

PAYLOAD = '<img src=x onerror="window.__xss=(window.__xss||0)+1">西门社区'
# Records every CSP violation the document reports, before any of the page's scripts run.
WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "") + " " + (e.sample || ""));
});
"""


def _watched(browser, viewport):
    ctx = _context(browser, viewport)
    ctx.add_init_script(WATCH_CSP)
    page = ctx.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
    page.on(
        "console",
        lambda msg: (
            problems.append(f"console: {msg.text}")
            if "Content Security Policy" in msg.text or "Content-Security-Policy" in msg.text
            else None
        ),
    )
    return ctx, page, problems


def _totp_now(secret: str) -> str:
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return TOTP(key, 6, SHA1(), 30, enforce_key_length=False).generate(time.time()).decode()


def _commander_signs_in(page, base):
    """Password, then the second factor: enrolment on the first sign-in (the code computed from
    the secret the page shows, as an authenticator would), afterwards the code the demo shows.
    A code is accepted once: if this 30-second step's was already used, wait for the next."""
    page.goto(f"{base}/login/")
    page.fill("#id_username", "commander")
    page.fill("#id_password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    for _ in range(3):
        if page.locator("#id_code").count() == 0:
            break  # signed in (enrolment ends on the recovery codes, at the same address)
        if page.url.endswith("/login/enrol/"):
            page.fill("#id_code", _totp_now(page.locator("#totp-secret").inner_text().strip()))
        else:
            page.fill("#id_code", page.locator("#demo-otp b").inner_text())
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state()
        if page.locator("#id_code").count():
            time.sleep(31 - time.time() % 30)  # this step's code was used: the next one
            page.reload()
    assert page.locator("#id_code").count() == 0, page.url


def _visit(page, url, problems):
    page.goto(url)
    page.wait_for_load_state("networkidle")
    violations = page.evaluate("window.__csp")
    assert violations == [], f"{url}: {violations}"
    assert problems == [], f"{url}: {problems}"


def test_main_pages_raise_no_csp_violation(live_server_url, browser):
    base = live_server_url
    ctx, page, problems = _watched(browser, PHONE)
    try:
        for path in ("/login/", "/report/"):
            _visit(page, base + path, problems)
        _visit(page, base + "/api/docs", problems)
        expect(page.locator(".swagger-ui .info .title")).to_be_visible()  # Swagger UI ran
    finally:
        ctx.close()

    ctx, page, problems = _watched(browser, PHONE)
    try:
        _login(page, base, "citizen1", "/my/reports/")
        _expect_live(page)  # the socket (another port) is allowed by connect-src
        for path in ("/my/reports/", "/report/", "/points/", "/mediation/"):
            _visit(page, base + path, problems)
    finally:
        ctx.close()

    ctx, page, problems = _watched(browser, PHONE)
    try:
        _login(page, base, "officer1", "/unit/")
        _expect_live(page)
        for path in ("/unit/", "/disputes/mine/", "/tasks/"):
            _visit(page, base + path, problems)
    finally:
        ctx.close()

    ctx, page, problems = _watched(browser, DESKTOP)
    try:
        _commander_signs_in(page, base)
        page.goto(base + "/console/")
        _expect_live(page)
        for path in (
            "/console/",
            "/console/incidents/",
            "/console/compliance/",
            "/console/disputes/",
            "/console/disputes/stats/",
            "/console/volunteers/stats/",
            "/tasks/new/",
            "/console/grids/import/",
        ):
            _visit(page, base + path, problems)
    finally:
        ctx.close()


def _import_grid(page, base):
    lng, lat = GRID_CENTER[0] + 4 * HALF, GRID_CENTER[1]
    ring = [
        [lng - HALF, lat - HALF],
        [lng + HALF, lat - HALF],
        [lng + HALF, lat + HALF],
        [lng - HALF, lat + HALF],
        [lng - HALF, lat - HALF],
    ]
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": "GX1", "name": PAYLOAD, "kind": "urban_community"},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        ],
    }
    page.goto(base + "/console/grids/import/")
    page.set_input_files(
        "#file",
        {
            "name": "grids.geojson",
            "mimeType": "application/geo+json",
            "buffer": json.dumps(collection, ensure_ascii=False).encode(),
        },
    )
    page.select_option("#org", "O-E1")
    page.select_option("#crs", "wgs84")
    page.locator("main form button").click()
    page.wait_for_load_state()
    expect(page.locator("main")).to_contain_text("导入成功")


def test_a_grid_name_is_text_in_the_report_map_tooltip(live_server_url, browser):
    base = live_server_url
    ctx = _context(browser, DESKTOP)
    try:
        commander = ctx.new_page()
        _commander_signs_in(commander, base)
        _import_grid(commander, base)
    finally:
        ctx.close()

    ctx, page, problems = _watched(browser, DESKTOP)  # anonymous, as the review found it
    try:
        page.goto(base + "/report/")
        page.wait_for_load_state("networkidle")
        box = page.locator("#pick-map").bounding_box()
        tooltip = page.locator(".leaflet-tooltip", has_text="西门社区")
        # The imported grid lies east of the seed grid: sweep the right half of the map.
        for step in range(50, 100, 3):
            page.mouse.move(box["x"] + box["width"] * step / 100, box["y"] + box["height"] / 2)
            if tooltip.count():
                break
        expect(tooltip).to_be_visible()
        expect(tooltip).to_contain_text("<img src=x onerror=")  # shown as the text it is
        assert tooltip.locator("img").count() == 0
        assert page.evaluate("window.__xss") is None
        assert page.evaluate("window.__csp") == []
        assert problems == []
    finally:
        ctx.close()
