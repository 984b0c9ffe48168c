"""The installable app in a real browser: the service worker installs with the shell, and a
page opened without a network shows pingan's offline page (with 110 to call), not the
browser's error page."""

from .test_report_flow import PHONE, _context


def test_without_a_network_the_offline_page_answers(browser, live_server_url):
    base = live_server_url
    ctx = _context(browser, PHONE)
    try:
        page = ctx.new_page()
        page.goto(f"{base}/report/")
        # The worker is registered by app.js; wait until it controls the page's scope.
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        manifest = page.evaluate(
            "fetch(document.querySelector('link[rel=manifest]').href).then(r => r.json())"
        )
        assert manifest["display"] == "standalone"
        ctx.set_offline(True)
        page.goto(f"{base}/my/reports/")
        assert "当前没有网络" in page.content()
        assert page.locator('a[href="tel:110"]').count() == 1
        # Styles come from the worker's cache: the page is drawn, not bare.
        color = page.evaluate(
            "getComputedStyle(document.querySelector('header.topbar')).backgroundColor"
        )
        assert color not in ("", "rgba(0, 0, 0, 0)")
        ctx.set_offline(False)
        page.goto(f"{base}/report/")
        assert "当前没有网络" not in page.content()
    finally:
        ctx.close()
