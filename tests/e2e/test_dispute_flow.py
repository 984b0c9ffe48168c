"""A grid worker files a threatening dispute from a phone; the station chief's open board shows
it in the red column by itself, with the reason. The chief then works it through the forms to
a signed agreement and prints it; a resident asks for mediation and sees it accepted live.
"""

import re

from playwright.sync_api import expect

from .test_report_flow import (
    DESKTOP,
    LIVE_TIMEOUT_MS,
    PHONE,
    _assert_not_reloaded,
    _context,
    _expect_live,
    _login,
    _mark,
    _watch,
)

THREAT = "王某与邻居李某因宅基地边界多次争吵，今天王某扬言要砍死对方，情绪激动。"


def _open(page, action):
    """Open one of the detail page's collapsed action sections."""
    section = page.locator(f"#act-{action}")
    if section.get_attribute("open") is None:
        section.locator("summary").click()
    return section


def test_grid_worker_files_red_dispute_and_chief_sees_it_live(live_server_url, browser, shoot):
    base = live_server_url
    errors: list[str] = []
    contexts = [_context(browser, DESKTOP), _context(browser, PHONE), _context(browser, PHONE)]
    chief, worker, citizen = (ctx.new_page() for ctx in contexts)
    for name, page in (("chief", chief), ("worker", worker), ("citizen", citizen)):
        _watch(page, name, errors)
    try:
        # The station chief's board, open before anything is filed, listening.
        _login(chief, base, "chief1", "/console/")
        chief.goto(f"{base}/console/disputes/")
        expect(chief.locator("#dispute-board")).to_be_visible()
        expect(chief.locator("#count-red")).to_have_text("0")
        _expect_live(chief)
        _mark(chief)
        shoot(chief, "board-before")

        # The grid worker files from the phone: the only grid is preselected; the page starts
        # with two party rows and adds a third on demand.
        _login(worker, base, "worker1", "/disputes/mine/")
        worker.goto(f"{base}/disputes/mine/")
        expect(worker.locator("#mine-empty")).to_be_visible()
        worker.locator("#new-dispute").click()
        expect(worker).to_have_url(f"{base}/disputes/new/")
        expect(worker.locator("#id_grid option:checked")).to_contain_text("东门社区")
        worker.select_option("#id_type", "neighbour")
        worker.select_option("#id_channel", "cadre_grid")
        worker.fill("#id_title", "宅基地边界争执")
        worker.fill("#id_narrative", THREAT)
        worker.fill('input[name="p-0-name"]', "王大山")
        worker.fill('input[name="p-0-phone"]', "13800138001")
        worker.fill('input[name="p-1-name"]', "李小河")
        worker.fill('input[name="p-1-phone"]', "13900139002")
        worker.select_option('select[name="p-1-vulnerability"]', "elderly")
        expect(worker.locator("fieldset.party-row")).to_have_count(2)
        worker.locator("[data-add-party]").click()
        expect(worker.locator("fieldset.party-row")).to_have_count(3)
        expect(worker.locator('input[name="p-2-name"]')).to_be_focused()
        expect(worker.locator('select[name="p-2-role"]')).to_have_value("other")
        worker.fill('input[name="p-2-name"]', "王小山")  # a third party, added on the page
        shoot(worker, "phone-filing")
        worker.locator("#submit-dispute").click()
        expect(worker).to_have_url(re.compile(r"/disputes/JF\d{8}-\d+/$"))
        code = re.search(r"/disputes/([^/]+)/$", worker.url).group(1)
        expect(worker.locator("#risk-head .risk")).to_have_text("红色")
        expect(worker.locator("#reasons")).to_contain_text("砍死")
        expect(worker.locator("#parties .party")).to_have_count(3)
        shoot(worker, "phone-filed")

        # The chief's open board shows it in the red column, with the reason, without reload.
        card = chief.locator(f"#col-red #dc-{code}")
        expect(card).to_be_visible(timeout=LIVE_TIMEOUT_MS)
        expect(card).to_contain_text("宅基地边界争执")
        expect(card.locator(".reasons")).to_contain_text("砍死")
        expect(card).to_contain_text("东门社区")
        expect(chief.locator("#count-red")).to_have_text("1")
        _assert_not_reloaded(chief)
        shoot(chief, "board-red")

        # The chief opens it and works it to a signed agreement through the page's forms.
        card.locator(f'a[href="/disputes/{code}/"]').first.click()
        expect(chief).to_have_url(f"{base}/disputes/{code}/")
        expect(chief.locator("#parties")).to_contain_text("138****8001")
        expect(chief.locator("#parties")).not_to_contain_text("13800138001")
        shoot(chief, "detail")
        chief.locator("#reveal").click()
        expect(chief.locator("#parties")).to_contain_text("+8613800138001")
        chief.goto(f"{base}/disputes/{code}/")

        route = _open(chief, "route")
        route.locator("#route-route").select_option("judicial")
        # Only the chosen route's bodies are offered.
        expect(route.locator('#route-body_kind option[value="labour"]')).to_be_hidden()
        route.locator("#route-body_kind").select_option("mediation_committee")
        route.locator("#route-body_name").fill("东门社区人民调解委员会")
        route.locator("#route-contact_name").fill("陈调解")
        route.locator('[data-action="route"]').click()
        expect(chief.locator("#route")).to_contain_text("东门社区人民调解委员会")

        session = _open(chief, "session")
        session.locator("#session-participants").fill("王大山、李小河、陈调解")
        session.locator("#session-outcome").select_option("agreed")
        session.locator('[data-action="session"]').click()
        expect(chief.locator("#mediation")).to_contain_text("达成协议")

        agreement = _open(chief, "agreement")
        expect(agreement.locator("#agreement-mediator_body")).to_have_value(
            "东门社区人民调解委员会"
        )
        agreement.locator("#agreement-terms").fill(
            "一、以原界桩为准，双方互不侵占。\n二、王某向李某赔礼道歉。"
        )
        agreement.locator("#agreement-performance").fill("协议签订之日起 3 日内履行")
        agreement.locator('[data-action="agreement"]').click()
        number = re.search(r"TJ\d{8}-\d+", chief.locator("#mediation").inner_text()).group(0)

        for index in (1, 2, 3):
            sign = _open(chief, "sign")
            sign.locator("#sign-role").select_option("party")
            sign.locator("#sign-party").select_option(index=index)
            sign.locator('[data-action="sign"]').click()
            expect(chief.locator(".messages")).to_contain_text("签字")
        sign = _open(chief, "sign")
        sign.locator("#sign-role").select_option("mediator")
        sign.locator("#sign-name").fill("陈调解")
        sign.locator('[data-action="sign"]').click()
        expect(chief.locator(f"#agreement-{number}")).to_contain_text("陈调解（调解员")
        shoot(chief, "detail-agreed")

        chief.goto(f"{base}/disputes/{code}/agreements/{number}/print/")
        expect(chief.locator("h1")).to_have_text("调解协议书")
        expect(chief.locator("#agreement-number")).to_have_text(number)
        for name in ("王大山", "李小河", "王小山", "陈调解"):
            expect(chief.locator(".signs")).to_contain_text(name)
        shoot(chief, "print")
        chief.emulate_media(media="print")
        expect(chief.locator(".toolbar")).to_be_hidden()
        chief.emulate_media(media="screen")

        # A resident asks for mediation and sees it accepted without reloading.
        _login(citizen, base, "citizen1", "/my/reports/")
        citizen.goto(f"{base}/mediation/")
        citizen.select_option("#id_type", "neighbour")
        citizen.fill("#id_narrative", "楼上邻居每晚十二点后还在装修，多次沟通无果。")
        citizen.select_option("#id_grid", "GE1")
        citizen.fill("#id_other_name", "赵铁柱")
        shoot(citizen, "mediation-request")
        citizen.locator("#submit-mediation").click()
        expect(citizen).to_have_url(re.compile(r"/mediation/JF\d{8}-\d+/$"))
        request_code = re.search(r"/mediation/([^/]+)/$", citizen.url).group(1)
        expect(citizen.locator("#status")).to_have_text("待受理")
        expect(citizen.locator("#mediation-body")).not_to_contain_text("赵铁柱")
        _expect_live(citizen)
        _mark(citizen)
        chief.goto(f"{base}/disputes/{request_code}/")
        accept = _open(chief, "accept")
        accept.locator('[data-action="accept"]').click()
        expect(chief.locator("#status")).to_have_text("化解中")
        expect(citizen.locator("#status")).to_have_text("化解中", timeout=LIVE_TIMEOUT_MS)
        expect(citizen.locator("#public-timeline")).to_contain_text("受理")
        _assert_not_reloaded(citizen)
        shoot(citizen, "mediation-accepted")

        assert not errors, "JavaScript errors:\n" + "\n".join(errors)
    finally:
        for ctx in contexts:
            ctx.close()
