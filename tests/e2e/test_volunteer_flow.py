"""From an invite link to a verified redemption, through the pages only.

The station chief hands out the team's invite link; a resident opens it on the phone, fills in
the volunteer profile, joins, signs up for the night patrol, checks in and out by position
(the browser's geolocation, set on the context), reports back; the posting officer confirms
the work; the new volunteer spends the points in the love supermarket and the clerk verifies
the order by its code. The resident's order page then shows it as collected.
"""

import re

from playwright.sync_api import expect

from .seed import GRID_CENTER
from .test_report_flow import DESKTOP, PHONE, _context, _login, _watch


def test_invite_link_to_verified_redemption(live_server_url, browser, shoot):
    base = live_server_url
    errors: list[str] = []
    chief_ctx = _context(browser, DESKTOP)
    officer_ctx = _context(browser, DESKTOP)
    clerk_ctx = _context(browser, PHONE)
    # The resident stands 40 m from the meeting point (the grid centre).
    lng, lat = GRID_CENTER
    resident_ctx = browser.new_context(
        viewport=PHONE,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        geolocation={"longitude": lng, "latitude": lat + 0.00036},
        permissions=["geolocation"],
    )
    resident_ctx.set_default_timeout(10_000)
    contexts = [chief_ctx, officer_ctx, clerk_ctx, resident_ctx]
    chief, officer, clerk, resident = (ctx.new_page() for ctx in contexts)
    for name, page in (
        ("chief", chief),
        ("officer", officer),
        ("clerk", clerk),
        ("resident", resident),
    ):
        _watch(page, name, errors)
    try:
        # The chief opens the team on the console and copies its invite link.
        _login(chief, base, "chief1", "/console/")
        chief.goto(f"{base}/console/volunteers/")
        chief.get_by_role("link", name="东门义警队").first.click()
        invite = chief.locator("#invite-url").inner_text().strip()
        assert re.search(r"/volunteer/join/[\w-]+/$", invite), invite
        expect(chief.locator("#team-qr svg")).to_be_visible()
        shoot(chief, "team-console")

        # The resident opens the link, logs in, is asked for a profile first, then joins.
        resident.goto(invite)
        expect(resident).to_have_url(re.compile(r"/login/"))
        resident.fill("#id_username", "newbie1")
        resident.fill("#id_password", "pingan-demo")
        resident.locator("main form button[type=submit]").click()
        expect(resident.locator("#team-name")).to_have_text("东门义警队")
        resident.locator("#fill-profile").click()
        resident.fill("#id_real_name", "赵秀兰")
        resident.fill("#id_phone", "13912345678")
        resident.locator("#save-profile").click()
        expect(resident.locator("#team-name")).to_have_text("东门义警队")
        shoot(resident, "join")
        resident.locator("#join-btn").click()

        # Signing up for the patrol from the task hall.
        resident.goto(f"{base}/volunteer/")
        resident.get_by_text("东门社区夜间巡逻").first.click()
        expect(resident.locator("#slots")).to_contain_text("还剩 3 个名额")
        resident.locator("#signup-btn").click()
        expect(resident.locator("#my-status")).to_contain_text("已报名")

        # Check in and out by position (40 m away: inside the 300 m radius).
        resident.locator("#checkin-btn").click()
        expect(resident.locator("#checkin")).to_contain_text("签到时间")
        expect(resident.locator("#checkin")).to_contain_text("40 米")
        resident.locator("#checkout-btn").click()
        expect(resident.locator("#checkin")).to_contain_text("签退时间")
        resident.fill("#id_report-text", "巡逻东门街一圈，提醒三户独居老人关好门窗，未见异常。")
        resident.locator("#report-btn").click()
        expect(resident.locator("#report")).to_contain_text("未见异常")
        shoot(resident, "task-reported")

        # The posting officer confirms the work.
        _login(officer, base, "officer1", "/unit/")
        officer.goto(f"{base}/tasks/")
        officer.get_by_role("link", name=re.compile("东门社区夜间巡逻")).first.click()
        row = officer.locator("#accepted tr", has_text="赵")
        expect(row).to_contain_text("未见异常")
        row.get_by_role("button", name="确认", exact=True).click()
        expect(officer.locator("#accepted")).to_contain_text("已确认")
        shoot(officer, "task-confirmed")

        # The resident now has 10 points and redeems the rice.
        resident.goto(f"{base}/points/")
        expect(resident.locator("main")).to_contain_text("10")
        resident.goto(f"{base}/shop/")
        resident.get_by_text("东门爱心超市").first.click()
        item = resident.locator(".card.item", has_text="大米")
        item.get_by_role("button", name="兑换").click()
        expect(resident.locator("#code")).to_be_visible()
        expect(resident.locator("#code .qr svg")).to_be_visible()
        code = resident.locator("#code .code").inner_text().strip()
        assert re.fullmatch(r"[A-Z0-9 ]{10,12}", code), code
        order_url = resident.url
        shoot(resident, "order")

        # The clerk types the code at the counter and verifies it, once.
        _login(clerk, base, "clerk1", "/shop/verify/")
        clerk.fill("#verify-code", code)
        clerk.locator("#verify-code").press("Enter")
        expect(clerk.locator("#summary")).to_contain_text("大米")
        clerk.locator("#verify-btn").click()
        expect(clerk.locator("#success")).to_contain_text("核销成功")
        shoot(clerk, "verified")

        resident.goto(order_url)
        expect(resident.locator("#state")).to_contain_text("已核销")
        resident.goto(f"{base}/points/")
        shoot(resident, "points-after")
        assert not errors, errors
    finally:
        for ctx in contexts:
            ctx.close()
